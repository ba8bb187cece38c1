// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * adv_mmap: mappings under attack (issue 10; INTERFACE.md §13.18, findings 8 and 16).
 *
 *   adv_mmap madvise DEV        (TAP) a cached MAP_SHARED mapping of the whole buffer with a
 *                               pattern; MADV_DONTNEED on pages 1..3; every page reads the
 *                               pattern again, a write to the zapped pages reaches the
 *                               buffer (read()); run in a child: a signal is a failure
 *   adv_mmap msync DEV MOFF PG  maps the buffer from page MOFF to the end, writes page PG of
 *                               the mapping, msync(MS_SYNC) of that one page; prints OK or
 *                               the errno name
 *   adv_mmap fsync DEV          fsync() of an O_RDWR fd; prints OK or the errno name
 *   adv_mmap cycles DEV N       N mmap/munmap cycles of one page; prints OK or what failed
 */
#include "tap.h"

#define PG 4096

static const char *dev;
static size_t allocsize;

static int open_node(void)
{
	int fd = open(S("/dev/%s", dev), O_RDWR);

	if (fd < 0) {
		printf("open /dev/%s: %s\n", dev, errname(errno));
		exit(1);
	}
	return fd;
}

static int madvise_child(void *arg)
{
	int fd = open_node(), r, e;
	uint8_t *m = mmap(NULL, allocsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint8_t *tmp = xmalloc(allocsize);
	long bad;

	(void)arg;
	if (!tap(m != MAP_FAILED, S("%s: mmap of the whole buffer", dev), "expected a mapping got %s",
		 errname(errno)))
		return 1;
	pat_fill(m, 0, allocsize, 81);
	r = madvise(m + PG, 3 * PG, MADV_DONTNEED);
	e = errno;
	tap(r == 0, S("%s: madvise(MADV_DONTNEED) of pages 1..3 of the mapping works", dev),
	    "expected 0 got %s (a page-frame mapping refuses it: EINVAL)", errname(e));
	diag("%s: reading every page of the mapping after MADV_DONTNEED (a SIGBUS ends this child)", dev);
	bad = pat_find_bad(m, 0, allocsize, 81);
	tap(bad < 0, S("%s: after MADV_DONTNEED every page of the mapping reads the pattern written before", dev),
	    "expected the pattern got a difference at byte %ld", bad);
	pat_fill(m + PG, PG, 3 * PG, 82);
	bad = pread_all(fd, tmp, allocsize, 0) == (ssize_t)allocsize ? pat_find_bad(tmp + PG, PG, 3 * PG, 82) : -2;
	tap(bad == -1, S("%s: a write through the refaulted pages reaches the buffer (read() sees it)", dev),
	    "expected the new pattern got %s", bad == -2 ? "a failed read" : S("a difference at %ld", bad));
	r = madvise(m, allocsize, MADV_DONTNEED);
	bad = pat_find_bad(m, 0, PG, 81);
	tap(r == 0 && bad < 0, S("%s: MADV_DONTNEED of the whole mapping, then page 0 still reads its data", dev),
	    "expected 0 and the pattern got %s, difference at %ld", res(r, errno), bad);
	munmap(m, allocsize);
	free(tmp);
	close(fd);
	return tap_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *how;
	int fd, r;
	uint8_t *m;

	if (argc < 3) {
		fprintf(stderr, "usage: adv_mmap madvise DEV | msync DEV MOFF PG | fsync DEV | cycles DEV N\n");
		return 2;
	}
	dev = argv[2];
	allocsize = (attr_u64(dev, "size") + PG - 1) & ~(size_t)(PG - 1);
	if (!strcmp(argv[1], "madvise")) {
		if (allocsize < 8 * PG) {
			printf("not ok - %s: the buffer has at least 8 pages\n# got %zu bytes\n", dev, allocsize);
			return 1;
		}
		how = run_child(madvise_child, NULL);
		tap(!strcmp(how, "0"), S("%s: the process that used the mapping after MADV_DONTNEED ended normally", dev),
		    "expected exit status 0 got %s", how);
		return 0;
	}
	if (!strcmp(argv[1], "msync") && argc == 5) {
		size_t moff = strtoul(argv[3], NULL, 0) * PG, pg = strtoul(argv[4], NULL, 0) * PG;

		fd = open_node();
		m = mmap(NULL, allocsize - moff, PROT_READ | PROT_WRITE, MAP_SHARED, fd, moff);
		if (m == MAP_FAILED) {
			printf("mmap:%s\n", errname(errno));
			return 1;
		}
		memset(m + pg, 0x5a, PG);
		r = msync(m + pg, PG, MS_SYNC);
		printf("%s\n", r ? errname(errno) : "OK");
		return 0;
	}
	if (!strcmp(argv[1], "fsync")) {
		fd = open_node();
		r = fsync(fd);
		printf("%s\n", r ? errname(errno) : "OK");
		return 0;
	}
	if (!strcmp(argv[1], "cycles") && argc == 4) {
		long n = atol(argv[3]);

		fd = open_node();
		for (long i = 0; i < n; i++) {
			m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED) {
				printf("mmap %ld:%s\n", i, errname(errno));
				return 1;
			}
			m[0] = (uint8_t)i;
			munmap(m, PG);
		}
		printf("OK\n");
		return 0;
	}
	fprintf(stderr, "usage: adv_mmap madvise DEV | msync DEV MOFF PG | fsync DEV | cycles DEV N\n");
	return 2;
}
