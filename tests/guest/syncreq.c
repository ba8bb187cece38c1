// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syncreq: one request for cache maintenance of /dev/DEV, made one way, for
 * tests/guest/42-cache-ops.sh, which sees through kprobes which DMA-API sync the
 * module made for it (QEMU models no caches: the call is what can be checked).
 *
 *   syncreq DEV ioctl-cpu CMD         SET_SYNC_FOR_CPU with the encoded command CMD
 *   syncreq DEV ioctl-device CMD      SET_SYNC_FOR_DEVICE with CMD
 *   syncreq DEV set-sync WHO OFF SIZE DIR
 *                                     SET_SYNC, command WHO (cpu|device), the range
 *                                     and direction given (sync_mode unchanged)
 *   syncreq DEV read OFF LEN [sync]   pread() of LEN bytes at OFF (O_SYNC fd: "sync")
 *   syncreq DEV write OFF LEN [sync]  pwrite() of LEN bytes at OFF (O_SYNC fd: "sync")
 *   syncreq DEV mmap PGOFF PAGES [sync]
 *                                     mmap() of PAGES pages from page PGOFF, munmap()
 *   syncreq DEV msync PGOFF PAGES PG  mmap() as above, msync(MS_SYNC) of its page PG
 *   syncreq DEV fsync                 fsync() of the node
 *   syncreq DEV dmabuf OFF SIZE RW    EXPORT of SIZE bytes at OFF (O_RDWR), then
 *                                     DMA_BUF_IOCTL_SYNC START and END with RW: read,
 *                                     write or rw
 *
 * Numbers are decimal or 0x hex.  Prints OK, or what failed with the errno name; exit
 * status 0 on OK.
 */
#include "tap.h"
#include <sys/ioctl.h>
#include <linux/dma-buf.h>
#include "u-dma-buf-ioctl.h"

#define PG 4096

static int fail(const char *what)
{
	printf("%s: %s\n", what, errname(errno));
	return 1;
}

static unsigned long long num(const char *s)
{
	return strtoull(s, NULL, 0);
}

static int ioctl_sync(int fd, int argc, char **argv)
{
	uint64_t cmd;

	if (argc != 4)
		return 2;
	cmd = num(argv[3]);
	if (ioctl(fd, strcmp(argv[2], "ioctl-cpu") ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE :
		  U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd))
		return fail(argv[2]);
	return 0;
}

static int set_sync(int fd, int argc, char **argv)
{
	u_dma_buf_ioctl_sync_args a = { 0 };

	if (argc != 7)
		return 2;
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&a, strcmp(argv[3], "cpu") ?
					   U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_DEVICE :
					   U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_CPU);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&a, num(argv[6]));
	a.offset = num(argv[4]);
	a.size = num(argv[5]);
	if (ioctl(fd, U_DMA_BUF_IOCTL_SET_SYNC, &a))
		return fail("SET_SYNC");
	return 0;
}

static int copy(int fd, int argc, char **argv)
{
	size_t len;
	void *b;
	ssize_t r;

	if (argc < 5)
		return 2;
	len = num(argv[4]);
	b = xmalloc(len);
	memset(b, 0x5a, len);
	if (!strcmp(argv[2], "read"))
		r = pread(fd, b, len, num(argv[3]));
	else
		r = pwrite(fd, b, len, num(argv[3]));
	if (r < 0)
		return fail(argv[2]);
	if ((size_t)r != len) {
		printf("%s: %zd of %zu bytes\n", argv[2], r, len);
		return 1;
	}
	return 0;
}

static int map(int fd, int argc, char **argv)
{
	size_t len;
	uint8_t *m;

	if (argc < 5)
		return 2;
	len = num(argv[4]) * PG;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, num(argv[3]) * PG);
	if (m == MAP_FAILED)
		return fail("mmap");
	if (!strcmp(argv[2], "msync")) {
		if (argc != 6)
			return 2;
		((volatile uint8_t *)m)[num(argv[5]) * PG] ^= 0;
		if (msync(m + num(argv[5]) * PG, PG, MS_SYNC))
			return fail("msync");
	}
	if (munmap(m, len))
		return fail("munmap");
	return 0;
}

static int dmabuf(int fd, int argc, char **argv)
{
	u_dma_buf_ioctl_export_args a = { .flags = O_RDWR | O_CLOEXEC, .fd = -1 };
	struct dma_buf_sync s = { 0 };
	uint64_t rw;

	if (argc != 6)
		return 2;
	a.offset = num(argv[3]);
	a.size = num(argv[4]);
	if (!strcmp(argv[5], "read"))
		rw = DMA_BUF_SYNC_READ;
	else if (!strcmp(argv[5], "write"))
		rw = DMA_BUF_SYNC_WRITE;
	else
		rw = DMA_BUF_SYNC_RW;
	if (ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a))
		return fail("EXPORT");
	s.flags = DMA_BUF_SYNC_START | rw;
	if (ioctl(a.fd, DMA_BUF_IOCTL_SYNC, &s))
		return fail("SYNC START");
	s.flags = DMA_BUF_SYNC_END | rw;
	if (ioctl(a.fd, DMA_BUF_IOCTL_SYNC, &s))
		return fail("SYNC END");
	close(a.fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *how = argc > 2 ? argv[2] : "";
	int flags = O_RDWR, fd, r;

	if (argc > 5 && !strcmp(argv[argc - 1], "sync"))
		flags |= O_SYNC;
	if (argc < 3)
		goto usage;
	fd = open(S("/dev/%s", argv[1]), flags);
	if (fd < 0)
		return fail(S("open /dev/%s", argv[1]));
	if (!strncmp(how, "ioctl-", 6))
		r = ioctl_sync(fd, argc, argv);
	else if (!strcmp(how, "set-sync"))
		r = set_sync(fd, argc, argv);
	else if (!strcmp(how, "read") || !strcmp(how, "write"))
		r = copy(fd, argc, argv);
	else if (!strcmp(how, "mmap") || !strcmp(how, "msync"))
		r = map(fd, argc, argv);
	else if (!strcmp(how, "fsync"))
		r = fsync(fd) ? fail("fsync") : 0;
	else if (!strcmp(how, "dmabuf"))
		r = dmabuf(fd, argc, argv);
	else
		r = 2;
	close(fd);
	if (r == 0)
		printf("OK\n");
	if (r != 2)
		return r;
usage:
	fprintf(stderr, "usage: syncreq DEV ioctl-cpu|ioctl-device CMD | set-sync cpu|device OFF SIZE DIR |\n"
		"       read|write OFF LEN [sync] | mmap PGOFF PAGES [sync] | msync PGOFF PAGES PG |\n"
		"       fsync | dmabuf OFF SIZE read|write|rw\n");
	return 2;
}
