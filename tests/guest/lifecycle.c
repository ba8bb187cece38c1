// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lifecycle MODE: rmmod is refused while /dev/udmabuf0 is open or mapped, and
 * the buffer stays usable meanwhile (INTERFACE.md §12.1); once every file and
 * mapping is gone, in either order, rmmod works. The module must be loaded
 * with udmabuf0; when the program ends it has unloaded it. Prints TAP.
 *
 *   open                 two descriptors: refused until both are closed
 *   close-then-munmap    fd closed, mapping alive: refused; munmap: works
 *   munmap-then-close    mapping gone, fd open: refused; close: works
 */
#include "tap.h"
#include <sys/syscall.h>

#define DEV "udmabuf0"
#define MODNAME "u_dma_buf"

static size_t size;
static const char *mode;

static int try_unload(void *arg)
{
	(void)arg;
	if (syscall(SYS_delete_module, MODNAME, O_NONBLOCK) == 0)
		return 0;
	return errno & 0xff;
}

/* delete_module in a child, so that a module exit that waits for us cannot hang the test. */
static const char *unload(void)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(try_unload(NULL));
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? (WEXITSTATUS(st) ? errname(WEXITSTATUS(st)) : "OK") : "killed";
		usleep(100000);
	}
	return "no answer after 10 s (rmmod hangs)";
}

static int loaded(void)
{
	return access("/sys/module/" MODNAME, F_OK) == 0;
}

static void refused(const char *state)
{
	const char *r = unload();

	tap(strcmp(r, "OK") && loaded(), S("%s: rmmod is refused while %s", mode, state),
	    "expected a refusal (EAGAIN/EBUSY) and the module loaded got %s, loaded %d", r, loaded());
}

static void works(const char *state)
{
	const char *r = unload();

	tap(!strcmp(r, "OK") && !loaded() && access("/dev/" DEV, F_OK) < 0,
	    S("%s: rmmod works once %s", mode, state),
	    "expected OK, the module and /dev/" DEV " gone got %s, loaded %d", r, loaded());
}

static int xopen(void)
{
	int fd = open("/dev/" DEV, O_RDWR);

	if (fd < 0) {
		printf("not ok - %s: open /dev/" DEV "\n# expected a descriptor got %s\n", mode, errname(errno));
		exit(1);
	}
	return fd;
}

static uint8_t *xmap(int fd)
{
	uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED) {
		printf("not ok - %s: mmap /dev/" DEV "\n# expected a mapping got %s\n", mode, errname(errno));
		exit(1);
	}
	return m;
}

static void check_read(int fd, unsigned int seed, const char *when)
{
	uint8_t *b = xmalloc(size);
	ssize_t n;
	long bad;

	/* CPU writes through a mapping are handed over before read() looks (§5.2). */
	sync_stored(DEV, "sync_for_device");
	sync_stored(DEV, "sync_for_cpu");
	n = pread_all(fd, b, size, 0);
	bad = n == (ssize_t)size ? pat_find_bad(b, 0, size, seed) : 0;
	tap(n == (ssize_t)size && bad < 0, S("%s: read() %s gives the data written", mode, when),
	    "expected %zu bytes of the pattern got %s, first difference at %ld", size, res(n, errno), bad);
	free(b);
}

int main(int argc, char **argv)
{
	uint8_t *m, *b;
	int fd, fd2;
	long bad;

	if (argc != 2) {
		fprintf(stderr, "usage: lifecycle open|close-then-munmap|munmap-then-close\n");
		return 2;
	}
	mode = argv[1];
	size = attr_u64(DEV, "size");
	b = xmalloc(size);

	if (!strcmp(mode, "open")) {
		fd = xopen();
		fd2 = xopen();
		pat_fill(b, 0, size, 1);
		pwrite_all(fd, b, size, 0);
		refused("two descriptors are open");
		close(fd2);
		refused("one descriptor is still open");
		check_read(fd, 1, "after the refused rmmod");
		close(fd);
		works("both descriptors are closed");
	} else if (!strcmp(mode, "close-then-munmap")) {
		fd = xopen();
		m = xmap(fd);
		pat_fill(m, 0, size, 2);
		close(fd);
		refused("the descriptor is closed but the mapping is alive");
		bad = pat_find_bad(m, 0, size, 2);
		tap(bad < 0, S("%s: the mapping still holds the data after the refused rmmod", mode),
		    "expected the pattern got a difference at %ld", bad);
		pat_fill(m, 0, size, 3);
		bad = pat_find_bad(m, 0, size, 3);
		tap(bad < 0, S("%s: the mapping can still be written after the refused rmmod", mode),
		    "expected the new pattern got a difference at %ld", bad);
		munmap(m, size);
		works("the mapping is gone too");
	} else if (!strcmp(mode, "munmap-then-close")) {
		fd = xopen();
		m = xmap(fd);
		pat_fill(m, 0, size, 4);
		refused("the node is open and mapped");
		munmap(m, size);
		refused("the mapping is gone but the descriptor is open");
		check_read(fd, 4, "after munmap and the refused rmmod");
		close(fd);
		works("the descriptor is closed too");
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	free(b);
	return 0;
}
