// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * adv_pin: pages of a buffer still referenced by a pipe after munmap + close
 * (issue 10 finding 5; INTERFACE.md §13.17).  NAME must be a buffer whose mapping is
 * made of ordinary pages (CMA memory, mode page).  Prints TAP.
 *
 *   adv_pin delete NAME   vmsplice of one page into a pipe (no SPLICE_F_GIFT), munmap and
 *                         close: manager "delete NAME" -> EBUSY while the pipe holds the
 *                         page; the pipe reads the page; after the pipe's close the
 *                         delete works
 *   adv_pin rmmod NAME    the same pin, then rmmod: it works; the pipe still reads the page's
 *                         data (the memory was not freed under it); then the pipe is closed
 *                         (the suite checks the kernel log)
 */
#include "tap.h"
#include <sys/syscall.h>
#include <sys/uio.h>

#define PG 4096
#define MGR "/dev/u-dma-buf-mgr"

static const char *name;

static int mgr(const char *cmd)
{
	int fd = open(MGR, O_WRONLY);
	int e = 0;

	if (fd < 0)
		return errno;
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		e = errno;
	close(fd);
	return e;
}

/* Maps NAME, fills page 1 with a pattern, vmsplices it into p[]; unmaps and closes. */
static int pin(int p[2])
{
	int fd = open(S("/dev/%s", name), O_RDWR);
	uint8_t *m;
	struct iovec iov;
	long r;
	int e;

	if (!tap(fd >= 0, S("%s: open", name), "expected an fd got %s", errname(errno)))
		return -1;
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!tap(m != MAP_FAILED, S("%s: mmap", name), "expected a mapping got %s", errname(errno)))
		return -1;
	pat_fill(m + PG, 0, PG, 91);
	if (pipe(p))
		return -1;
	iov.iov_base = m + PG;
	iov.iov_len = PG;
	r = vmsplice(p[1], &iov, 1, 0);
	e = errno;
	munmap(m, 2 * PG);
	close(fd);
	if (!tap(r == PG, S("%s: vmsplice of one page of the mapping into a pipe (no SPLICE_F_GIFT)", name),
		 "expected %d bytes got %s", PG, res(r, e)))
		return -1;
	diag("%s: the pipe holds the page; the buffer is unmapped and closed", name);
	return 0;
}

/* The pipe's content is the pattern: the page was not reused. */
static void drain(int p[2], const char *when)
{
	uint8_t got[PG];
	ssize_t n = read(p[0], got, PG);
	long bad = n == PG ? pat_find_bad(got, 0, PG, 91) : -2;

	tap(bad == -1, S("%s: %s the pipe reads the page's data", name, when),
	    "expected %d bytes of the pattern got %s", PG,
	    n != PG ? res(n, errno) : S("a difference at byte %ld", bad));
}

int main(int argc, char **argv)
{
	int p[2], e;

	if (argc != 3) {
		fprintf(stderr, "usage: adv_pin delete NAME | rmmod NAME\n");
		return 2;
	}
	name = argv[2];
	if (pin(p))
		return 1;
	if (!strcmp(argv[1], "delete")) {
		e = mgr(S("delete %s\n", name));
		tap(e == EBUSY, S("%s: delete while a pipe holds one of its pages -> EBUSY", name),
		    "expected EBUSY got %s", e ? errname(e) : "success (the memory is freed under the pipe)");
		tap(access(S("/dev/%s", name), F_OK) == 0 || !e, S("%s: the refused delete left /dev/%s", name, name),
		    "expected /dev/%s to exist, it is gone", name);
		drain(p, "after the refused delete");
		close(p[0]);
		close(p[1]);
		if (!access(S("/dev/%s", name), F_OK)) {
			e = mgr(S("delete %s\n", name));
			tap(!e, S("%s: delete after the pipe was closed works", name), "expected success got %s",
			    errname(e));
		}
		return 0;
	}
	if (!strcmp(argv[1], "rmmod")) {
		e = syscall(SYS_delete_module, "u_dma_buf", O_NONBLOCK) ? errno : 0;
		tap(!e, S("%s: rmmod while a pipe holds one of its pages works", name), "expected success got %s",
		    errname(e));
		drain(p, "after rmmod");
		close(p[0]);
		close(p[1]);
		return 0;
	}
	fprintf(stderr, "usage: adv_pin delete NAME | rmmod NAME\n");
	return 2;
}
