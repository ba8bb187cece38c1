// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mmapcost: what an mmap() of /dev/DEV maps when (issue 12), for
 * tests/guest/45-mmap-batch.sh.
 *
 *   mmapcost DEV [PGOFF]   maps the buffer from page PGOFF to the end (MAP_SHARED) and
 *                          prints the mapping's Rss (kB, /proc/self/smaps) at four points:
 *                          "rss: mapped=N first=N half=N all=N" — right after mmap(),
 *                          after reading its first byte, after reading one byte of each
 *                          page of its first half, after reading every page
 *
 * Rss counts ordinary pages only: a mapping of page frames (no CMA) shows 0 throughout.
 */
#include "tap.h"

static long rss_kb(const void *addr)
{
	char line[256], want[32];
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, want, strlen(want));
		if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	size_t size, pg = (size_t)sysconf(_SC_PAGESIZE), off = 0;
	volatile uint8_t *m;
	long r[4];
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: mmapcost DEV [PGOFF]\n");
		return 2;
	}
	if (argc > 2)
		off = strtoul(argv[2], NULL, 0) * pg;
	size = (attr_u64(argv[1], "size") + pg - 1) / pg * pg - off;
	fd = open(S("/dev/%s", argv[1]), O_RDWR);
	if (fd < 0) {
		printf("open: %s\n", errname(errno));
		return 1;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (m == MAP_FAILED) {
		printf("mmap: %s\n", errname(errno));
		return 1;
	}
	r[0] = rss_kb((void *)m);
	(void)m[0];
	r[1] = rss_kb((void *)m);
	for (size_t i = 0; i < size / 2; i += pg)
		(void)m[i];
	r[2] = rss_kb((void *)m);
	for (size_t i = 0; i < size; i += pg)
		(void)m[i];
	r[3] = rss_kb((void *)m);
	printf("rss: mapped=%ld first=%ld half=%ld all=%ld\n", r[0], r[1], r[2], r[3]);
	munmap((void *)m, size);
	close(fd);
	return 0;
}
