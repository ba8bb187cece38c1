// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * physmap: text in and out of a buffer through a MAP_SHARED mapping, with the CPU's
 * hand-over to the device (tests/guest/46-phys.sh, 78-dt-phys.sh: memory that Linux does
 * not manage, INTERFACE.md §14).
 *
 *   physmap put DEV OFF TEXT   opens /dev/DEV O_RDWR, maps the whole buffer, copies TEXT
 *                              to OFF through the mapping, unmaps, then
 *                              U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE of the pages that
 *                              hold it (direction 1, to the device); prints OK
 *   physmap get DEV OFF LEN    U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU of the pages that hold
 *                              the LEN bytes at OFF (direction 2, from the device), maps
 *                              the buffer and prints those bytes (any byte outside
 *                              0x20..0x7e as '.')
 *
 * Numbers are decimal or 0x hex.  What fails prints "<step>: <errno name>", exit status 1.
 */
#include "tap.h"
#include <sys/ioctl.h>
#include "u-dma-buf-ioctl.h"

#define PG 4096ULL

static int fail(const char *what)
{
	printf("%s: %s\n", what, errname(errno));
	return 1;
}

/* The encoded command of INTERFACE.md §5.2 for the pages that hold [off, off + len). */
static uint64_t pages_cmd(unsigned long long off, unsigned long long len, unsigned int dir)
{
	unsigned long long lo = off / PG * PG;
	unsigned long long hi = (off + len + PG - 1) / PG * PG;

	return (uint64_t)lo << 32 | (hi - lo) | (uint64_t)dir << 2 | 1;
}

int main(int argc, char **argv)
{
	char path[256];
	unsigned long long off, len;
	uint64_t cmd;
	char *map;
	size_t size;
	int fd;

	if (argc != 5 || (strcmp(argv[1], "put") && strcmp(argv[1], "get"))) {
		fprintf(stderr, "usage: physmap put DEV OFF TEXT | get DEV OFF LEN\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/dev/%s", argv[2]);
	off = strtoull(argv[3], NULL, 0);
	len = strcmp(argv[1], "put") ? strtoull(argv[4], NULL, 0) : strlen(argv[4]);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return fail("open");
	size = attr_u64(argv[2], "size");
	if (!len || off + len > size) {
		printf("range: %llu bytes at %llu do not fit the %zu bytes\n", len, off, size);
		return 1;
	}
	if (!strcmp(argv[1], "get")) {
		cmd = pages_cmd(off, len, 2);
		if (ioctl(fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd))
			return fail("SET_SYNC_FOR_CPU");
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap");
	if (!strcmp(argv[1], "put")) {
		memcpy(map + off, argv[4], len);
		munmap(map, size);
		cmd = pages_cmd(off, len, 1);
		if (ioctl(fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE, &cmd))
			return fail("SET_SYNC_FOR_DEVICE");
		printf("OK\n");
	} else {
		for (unsigned long long i = 0; i < len; i++) {
			char c = map[off + i];

			putchar(c >= 0x20 && c <= 0x7e ? c : '.');
		}
		putchar('\n');
		munmap(map, size);
	}
	close(fd);
	return 0;
}
