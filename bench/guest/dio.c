// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dio: O_DIRECT reads for the diagnosis of make bench (bench/guest/10-bench.sh).
 *   dio <file> <bytes> mapping <buffer>   read into a cached mapping of /dev/<buffer>
 *   dio <file> <bytes> malloc             read into malloc'd memory
 * Reads <bytes> in 1 MiB pieces, once to warm up, then once more timed; prints
 * "<MB/s>".  Run between two reads of kprobe_profile to see which GUP path it took.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t n, off, chunk = 1 << 20;
	struct timespec t0, t1;
	char *p, path[300];
	int fd, bfd, pass;

	if (argc < 4)
		return 2;
	n = strtoull(argv[2], NULL, 0);
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0)
		return perror(argv[1]), 1;
	if (!strcmp(argv[3], "mapping") && argc > 4) {
		snprintf(path, sizeof(path), "/dev/%s", argv[4]);
		bfd = open(path, O_RDWR);
		if (bfd < 0)
			return perror(path), 1;
		p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
		if (p == MAP_FAILED)
			return perror("mmap"), 1;
	} else {
		p = aligned_alloc(4096, n);
		if (!p)
			return 1;
	}
	memset(p, 0, n);
	for (pass = 0; pass < 2; pass++) {
		if (pass && getenv("DIO_MARK"))
			fprintf(stderr, "%s\n", getenv("DIO_MARK"));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (off = 0; off + chunk <= n; off += chunk)
			if (pread(fd, p + off, chunk, off) != (ssize_t)chunk)
				return perror("pread"), 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	}
	printf("%.1f\n", n / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9) / 1e6);
	return 0;
}
