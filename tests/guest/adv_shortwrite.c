// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * adv_shortwrite NAME: a write() whose user buffer ends in an unmapped page
 * copies what it can and returns that count; the bytes of the buffer past
 * that count stay as they were (copy_from_user() fills what it could not
 * copy with zeros: straight into the DMA buffer, that is lost data).
 */
#include "tap.h"
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	unsigned char *src, *chk;
	size_t bad = 0, i;
	ssize_t r, w;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: adv_shortwrite NAME\n");
		return 2;
	}
	fd = open(S("/dev/%s", argv[1]), O_RDWR);
	src = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	chk = malloc(3 * pg);
	if (fd < 0 || src == MAP_FAILED || !chk) {
		tap(0, "open the buffer and map a source", "got %s", errname(errno));
		return 1;
	}
	memset(src, 0xa5, 3 * pg);
	r = pwrite(fd, src, 3 * pg, 0);
	tap(r == (ssize_t)(3 * pg), S("%s: 3 pages of 0xa5 written", argv[1]), "got %s", res(r, errno));
	memset(src, 0x5a, pg);
	mprotect(src + pg, 2 * pg, PROT_NONE);
	/* An architecture's copy may stop a little before the unmapped page. */
	w = pwrite(fd, src, 2 * pg, 0);
	tap(w > 0 && w <= (ssize_t)pg,
	    S("%s: a write of 2 pages whose second page is unmapped returns at most 1 page", argv[1]),
	    "expected 1..%zu got %s", pg, res(w, errno));
	if (w < 0)
		w = 0;
	r = pread(fd, chk, 3 * pg, 0);
	for (i = 0; i < 3 * pg && r == (ssize_t)(3 * pg); i++)
		bad += chk[i] != (i < (size_t)w ? 0x5a : 0xa5);
	tap(r == (ssize_t)(3 * pg) && !bad,
	    S("%s: the bytes written have the new value, the bytes past the count are unchanged", argv[1]),
	    "expected 0x5a below %zd and 0xa5 from there got %zu bytes otherwise (byte %zd: 0x%02x)",
	    w, bad, w, chk[w]);
	return tap_failures ? 1 : 0;
}
