// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mgr_busy: `delete` through /dev/u-dma-buf-mgr of a buffer in use (INTERFACE.md
 * §10, §12.1): EBUSY while it is open or mapped, the buffer and its data intact, and
 * the delete works once the last user is gone.  Prints TAP.
 *
 *   mgr_busy NAME SIZE   creates NAME itself for every case
 */
#include "tap.h"

#define MGR "/dev/u-dma-buf-mgr"

/* One command in one write() on a fresh open; 0 or the errno. */
static int mgr(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return text_write(MGR, text);
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

enum hold { HOLD_OPEN, HOLD_MAP, HOLD_BOTH_CLOSE_FIRST, HOLD_BOTH_UNMAP_FIRST, HOLD_TWO_MAPS };

static const char *hold_name[] = {
	"open (no mapping)",
	"mapped only (file closed)",
	"open and mapped, closed first",
	"open and mapped, unmapped first",
	"mapped twice (file closed)",
};

static void one_case(const char *name, size_t size, enum hold hold)
{
	const char *how = hold_name[hold];
	char node[256], dir[256];
	uint8_t *map = MAP_FAILED, *map2 = MAP_FAILED;
	int fd, e;
	long bad;

	snprintf(node, sizeof(node), "/dev/%s", name);
	snprintf(dir, sizeof(dir), SYSFS_CLASS "/%s", name);
	e = mgr("create %s %zu\n", name, size);
	if (!tap(e == 0, S("%s: create %s %zu", how, name, size), "expected OK got %s",
		 errname(e)))
		return;
	fd = open(node, O_RDWR);
	if (!tap(fd >= 0, S("%s: open %s", how, node), "expected a file got %s", errname(errno)))
		goto out;
	if (hold != HOLD_OPEN) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (!tap(map != MAP_FAILED, S("%s: mmap %zu bytes", how, size),
			 "expected a mapping got %s", errname(errno)))
			goto out;
		pat_fill(map, 0, size, 11);
	}
	if (hold == HOLD_TWO_MAPS) {
		map2 = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (!tap(map2 != MAP_FAILED, S("%s: second mmap", how),
			 "expected a mapping got %s", errname(errno)))
			goto out;
	}
	if (hold == HOLD_MAP || hold == HOLD_TWO_MAPS) {
		close(fd);
		fd = -1;
	}
	e = mgr("delete %s\n", name);
	tap(e == EBUSY, S("%s: delete %s -> EBUSY", how, name), "expected EBUSY got %s",
	    errname(e));
	tap(exists(node) && exists(dir),
	    S("%s: after the refused delete %s and its sysfs directory are still there", how, node),
	    "expected both got node %s, sysfs %s", exists(node) ? "yes" : "no",
	    exists(dir) ? "yes" : "no");
	if (map != MAP_FAILED) {
		bad = pat_find_bad(map, 0, size, 11);
		tap(bad < 0, S("%s: the mapping keeps its data after the refused delete", how),
		    "expected the pattern got a difference at byte %ld", bad);
	}
	if (hold == HOLD_BOTH_CLOSE_FIRST) {
		close(fd);
		fd = -1;
		e = mgr("delete %s\n", name);
		tap(e == EBUSY, S("%s: after close, still mapped: delete -> EBUSY", how),
		    "expected EBUSY got %s", errname(e));
	}
	if (hold == HOLD_BOTH_UNMAP_FIRST) {
		munmap(map, size);
		map = MAP_FAILED;
		e = mgr("delete %s\n", name);
		tap(e == EBUSY, S("%s: after munmap, still open: delete -> EBUSY", how),
		    "expected EBUSY got %s", errname(e));
	}
	if (hold == HOLD_TWO_MAPS) {
		munmap(map, size);
		map = MAP_FAILED;
		e = mgr("delete %s\n", name);
		tap(e == EBUSY, S("%s: one mapping left: delete -> EBUSY", how),
		    "expected EBUSY got %s", errname(e));
	}
out:
	if (map2 != MAP_FAILED)
		munmap(map2, size);
	if (map != MAP_FAILED)
		munmap(map, size);
	if (fd >= 0)
		close(fd);
	e = mgr("delete %s\n", name);
	tap(e == 0, S("%s: once the last user is gone, delete %s works", how, name),
	    "expected OK got %s", errname(e));
	tap(!exists(node) && !exists(dir),
	    S("%s: after the delete %s and its sysfs directory are gone", how, node),
	    "expected neither got node %s, sysfs %s", exists(node) ? "yes" : "no",
	    exists(dir) ? "yes" : "no");
}

int main(int argc, char **argv)
{
	size_t size;

	if (argc != 3) {
		fprintf(stderr, "usage: mgr_busy NAME SIZE\n");
		return 2;
	}
	size = strtoull(argv[2], NULL, 0);
	for (int h = HOLD_OPEN; h <= HOLD_TWO_MAPS; h++)
		one_case(argv[1], size, h);
	return tap_failures ? 1 : 0;
}
