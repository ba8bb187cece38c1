// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * failnth: one operation with the Nth fault-injection point of this thread failing
 * (Documentation/fault-injection/fault-injection.rst, /proc/thread-self/fail-nth).
 *
 *   failnth N OP ARGS...
 *
 * Everything the operation needs (files opened, a dma-buf exported) is set up first,
 * then N is written to /proc/thread-self/fail-nth, the ONE system call of OP runs, and
 * fail-nth is read back (0 once the Nth call failed) and reset to 0.  Prints one line:
 *
 *   <OK|ENOMEM|...> hit              the injected failure happened during the call
 *   <OK|ENOMEM|...> miss <calls>     the call ended before its Nth fault point; <calls>
 *                                    points were passed (N - what fail-nth reads back)
 *
 * OPs (the call that runs under fail-nth is the one named first):
 *   load KO [PARAM...]     finit_module(KO, "PARAM ...")
 *   write FILE TEXT        write(TEXT) to FILE opened O_WRONLY before (\n \t \0 \\ escapes)
 *   open FILE              open(FILE, O_RDWR), then close
 *   mmap FILE SIZE         mmap(SIZE, read/write, MAP_SHARED) of FILE opened O_RDWR
 *                          before, then munmap
 *   export FILE            the EXPORT ioctl (O_RDWR, the whole buffer) on FILE opened
 *                          O_RDWR before, then close of the dma-buf
 *   import FILE KO         FILE is filled with pat(i, 31) and exported (no injection),
 *                          then finit_module(KO, "fd=<dma-buf> size= addr= seed=31"): a
 *                          kernel importer that attaches, maps and vmaps
 *
 * With FAILNTH_MARK set in the environment, "faults: $FAILNTH_MARK n=N" goes to the
 * kernel log (/dev/kmsg) first, so that a report in the log can be traced to its run.
 *
 * Exit status 0 when the line was printed, 2 on bad usage or a failed setup step (then
 * the line is "SETUP <what> <errno>").  The program locks its memory first, so that no
 * page fault of its own consumes the injected failure.
 */
#include "tap.h"
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "u-dma-buf-ioctl.h"

#define SEED 31

static int nth_fd = -1;

static int setup_fail(const char *what, int e)
{
	printf("SETUP %s %s\n", what, errname(e));
	return 2;
}

/* unescape: \n \t \0 \\ of TEXT in place; returns the length. */
static size_t unescape(char *s)
{
	char *d = s;
	const char *p = s;

	while (*p) {
		if (*p == '\\' && p[1]) {
			p++;
			*d++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == '0' ? '\0' : *p;
			p++;
		} else {
			*d++ = *p++;
		}
	}
	return (size_t)(d - s);
}

static int arm(unsigned int n)
{
	char b[32];
	int len = snprintf(b, sizeof(b), "%u", n);

	return pwrite(nth_fd, b, (size_t)len, 0) == len ? 0 : -1;
}

/* disarm: reads what is left of fail-nth, then sets it to 0; -1 on error. */
static long disarm(void)
{
	char b[32] = "";
	ssize_t r = pread(nth_fd, b, sizeof(b) - 1, 0);

	if (arm(0) || r <= 0)
		return -1;
	return strtol(b, NULL, 10);
}

static int params_of(char *out, size_t len, int argc, char **argv)
{
	out[0] = 0;
	for (int i = 0; i < argc; i++) {
		if (strlen(out) + strlen(argv[i]) + 2 > len)
			return -1;
		if (i)
			strcat(out, " ");
		strcat(out, argv[i]);
	}
	return 0;
}

static int export_all(int fd, uint64_t *addr)
{
	u_dma_buf_ioctl_export_args a;

	memset(&a, 0, sizeof(a));
	SET_U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS(&a, O_RDWR);
	if (ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a))
		return -errno;
	*addr = a.addr;
	return a.fd;
}

int main(int argc, char **argv)
{
	static char params[4096], text[4096];
	unsigned int n;
	const char *op;
	long r = -1, left;
	int e = 0, fd = -1, ko = -1, dfd = -1;
	size_t tlen = 0, size = 0;
	uint64_t addr = 0;
	void *map = MAP_FAILED;

	if (argc < 4)
		goto usage;
	n = (unsigned int)strtoul(argv[1], NULL, 0);
	op = argv[2];
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		return setup_fail("/proc/thread-self/fail-nth", errno);

	/* Set-up: everything but the call under test. */
	if (!strcmp(op, "load")) {
		if (params_of(params, sizeof(params), argc - 4, argv + 4))
			goto usage;
		ko = open(argv[3], O_RDONLY | O_CLOEXEC);
		if (ko < 0)
			return setup_fail(argv[3], errno);
	} else if (!strcmp(op, "write") && argc == 5) {
		snprintf(text, sizeof(text), "%s", argv[4]);
		tlen = unescape(text);
		fd = open(argv[3], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return setup_fail(argv[3], errno);
	} else if (!strcmp(op, "open") && argc == 4) {
		/* nothing */
	} else if ((!strcmp(op, "mmap") && argc == 5) || (!strcmp(op, "export") && argc == 4) ||
		   (!strcmp(op, "import") && argc == 5)) {
		fd = open(argv[3], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return setup_fail(argv[3], errno);
		if (!strcmp(op, "mmap")) {
			size = strtoull(argv[4], NULL, 0);
		} else if (!strcmp(op, "import")) {
			uint8_t *buf;
			off_t end = lseek(fd, 0, SEEK_END);

			if (end <= 0)
				return setup_fail("lseek", errno);
			size = (size_t)end;
			buf = xmalloc(size);
			pat_fill(buf, 0, size, SEED);
			if (pwrite_all(fd, buf, size, 0) != (ssize_t)size)
				return setup_fail("pwrite", errno);
			free(buf);
			dfd = export_all(fd, &addr);
			if (dfd < 0)
				return setup_fail("EXPORT", -dfd);
			/* The kmod checks the dma-buf size: EXPORT covers whole pages. */
			size = (size + 4095) & ~(size_t)4095;
			snprintf(params, sizeof(params), "fd=%d size=%zu addr=0x%llx seed=%d", dfd, size,
				 (unsigned long long)addr, SEED);
			ko = open(argv[4], O_RDONLY | O_CLOEXEC);
			if (ko < 0)
				return setup_fail(argv[4], errno);
		}
	} else {
		goto usage;
	}
	if (getenv("FAILNTH_MARK")) {
		int k = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
		char mark[256];
		int len = snprintf(mark, sizeof(mark), "<5>faults: %s n=%u\n", getenv("FAILNTH_MARK"), n);

		if (len >= (int)sizeof(mark))
			len = (int)sizeof(mark) - 1;
		/* One write() per record (dprintf() does not work on /dev/kmsg). */
		if (k >= 0 && write(k, mark, (size_t)len) != len)
			perror("/dev/kmsg");
		if (k >= 0)
			close(k);
	}
	fflush(stdout);
	/* No page fault of ours may consume the failure (the stack is touched by now). */
	if (mlockall(MCL_CURRENT))
		return setup_fail("mlockall", errno);

	if (arm(n))
		return setup_fail("write fail-nth", errno);
	/* The one call under test; errno is taken at once. */
	if (!strcmp(op, "load") || !strcmp(op, "import")) {
		r = syscall(SYS_finit_module, ko, params, 0);
	} else if (!strcmp(op, "write")) {
		r = write(fd, text, tlen);
	} else if (!strcmp(op, "open")) {
		r = fd = open(argv[3], O_RDWR | O_CLOEXEC);
	} else if (!strcmp(op, "mmap")) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		r = map == MAP_FAILED ? -1 : 0;
	} else if (!strcmp(op, "export")) {
		u_dma_buf_ioctl_export_args a;

		memset(&a, 0, sizeof(a));
		SET_U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS(&a, O_RDWR | O_CLOEXEC);
		r = ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a);
		if (!r)
			dfd = a.fd;
	}
	e = r < 0 ? errno : 0;
	left = disarm();
	munlockall();
	if (left < 0)
		return setup_fail("read fail-nth", errno);

	if (map != MAP_FAILED)
		munmap(map, size);
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	if (ko >= 0)
		close(ko);
	if (n && left == 0)
		printf("%s hit\n", e ? errname(e) : "OK");
	else
		printf("%s miss %ld\n", e ? errname(e) : "OK", (long)n - left);
	return 0;
usage:
	fprintf(stderr, "usage: failnth N load KO [PARAM...] | write FILE TEXT | open FILE |\n"
			"       mmap FILE SIZE | export FILE | import FILE KO\n");
	return 2;
}
