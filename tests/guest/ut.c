// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ut: small tools for the shell suites.
 *
 *   ut wr PATH TEXT [nl]   one write() of TEXT (plus "\n" with nl); prints OK or the errno name
 *   ut pattern DEV SEED    use the whole buffer /dev/DEV: pattern through write(), checked
 *                          through a mapping; pattern through the mapping, checked through
 *                          read(). After each CPU write: sync_for_device then sync_for_cpu
 *                          (the DMA-API hand-over). Prints OK or what differed; exit 0/1.
 *   ut dump DEV FILE       copy the buffer as seen through a MAP_SHARED mapping into FILE
 */
#include "tap.h"

static int cmd_wr(const char *path, const char *text, int nl)
{
	char buf[4096];
	int fd = open(path, O_WRONLY);
	ssize_t n;

	snprintf(buf, sizeof(buf), "%s%s", text, nl ? "\n" : "");
	if (fd < 0) {
		printf("open:%s\n", errname(errno));
		return 0;
	}
	n = write(fd, buf, strlen(buf));
	if (n < 0)
		printf("%s\n", errname(errno));
	else if ((size_t)n != strlen(buf))
		printf("SHORT:%zd\n", n);
	else
		printf("OK\n");
	close(fd);
	return 0;
}

/* CPU writes done: give the buffer to the device and take it back. */
static int handover(const char *dev)
{
	int e = sync_stored(dev, "sync_for_device");

	return e ? e : sync_stored(dev, "sync_for_cpu");
}

static int cmd_pattern(const char *dev, unsigned int seed)
{
	size_t size = attr_u64(dev, "size");
	uint8_t *tmp = xmalloc(size), *map;
	int fd = open(S("/dev/%s", dev), O_RDWR);
	long bad;
	int e;

	if (fd < 0) {
		printf("open /dev/%s: %s\n", dev, errname(errno));
		return 1;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		printf("mmap: %s\n", errname(errno));
		return 1;
	}
	pat_fill(tmp, 0, size, seed);
	if (pwrite_all(fd, tmp, size, 0) != (ssize_t)size) {
		printf("write(): %s\n", errname(errno));
		return 1;
	}
	e = handover(dev);
	bad = pat_find_bad(map, 0, size, seed);
	if (e || bad >= 0) {
		printf("written by write(), mapping differs at %ld (sync %s)\n", bad, errname(e));
		return 1;
	}
	pat_fill(map, 0, size, seed + 1);
	e = handover(dev);
	memset(tmp, 0, size);
	if (pread_all(fd, tmp, size, 0) != (ssize_t)size) {
		printf("read(): %s\n", errname(errno));
		return 1;
	}
	bad = pat_find_bad(tmp, 0, size, seed + 1);
	if (e || bad >= 0) {
		printf("written through the mapping, read() differs at %ld (sync %s)\n",
		       bad, errname(e));
		return 1;
	}
	munmap(map, size);
	close(fd);
	free(tmp);
	printf("OK\n");
	return 0;
}

static int cmd_dump(const char *dev, const char *file)
{
	size_t size = attr_u64(dev, "size");
	int fd = open(S("/dev/%s", dev), O_RDONLY), out;
	uint8_t *map;

	if (fd < 0) {
		printf("open /dev/%s: %s\n", dev, errname(errno));
		return 1;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	out = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (map == MAP_FAILED || out < 0) {
		printf("mmap/open: %s\n", errname(errno));
		return 1;
	}
	if (write(out, map, size) != (ssize_t)size) {
		printf("write %s: %s\n", file, errname(errno));
		return 1;
	}
	close(out);
	munmap(map, size);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "wr"))
		return cmd_wr(argv[2], argv[3], argc > 4 && !strcmp(argv[4], "nl"));
	if (argc == 4 && !strcmp(argv[1], "pattern"))
		return cmd_pattern(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "dump"))
		return cmd_dump(argv[2], argv[3]);
	fprintf(stderr, "usage: ut wr PATH TEXT [nl] | ut pattern DEV SEED | ut dump DEV FILE\n");
	return 2;
}
