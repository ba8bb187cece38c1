// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mgr_race: create/delete cycles through /dev/u-dma-buf-mgr racing with readers in
 * other processes (INTERFACE.md §10, §12.1).  Prints TAP.
 *
 *   mgr_race CYCLES READERS SIZE
 *
 * The creator cycles over the names race0..race3: create NAME SIZE (must work at
 * once: the name is free again as soon as a delete returned), fill it with a pattern
 * through write(), delete (EBUSY while a reader has it open or mapped; retried).
 * Each reader loops over the same names: open the node, read() it, mmap it, read its
 * sysfs attributes, list the class directory.  A failing open may only say the buffer
 * is not there (ENOENT, ENODEV; ENXIO is the char-device layer's answer for a node
 * looked up just before its removal and is counted apart); whatever is read must be
 * zero or the pattern, and an open buffer must be complete (read and mmap of SIZE
 * bytes work).
 */
#include "tap.h"
#include <dirent.h>

#define MGR "/dev/u-dma-buf-mgr"
#define NAMES 4
#define SEED 77
#define MAX_DIAG 5

struct shared {
	volatile int stop;
	struct {
		long opens, absent, enxio, reads, maps, attrs, bad;
	} r[16];
};

static struct shared *sh;

static int mgr(const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return text_write(MGR, text);
}

/* Every byte is 0 or the pattern; -1 or the first bad index. */
static long find_invalid(const volatile uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] && p[i] != pat(i, SEED))
			return (long)i;
	return -1;
}

static void bad(int me, const char *fmt, ...)
{
	va_list ap;

	if (sh->r[me].bad++ >= MAX_DIAG)
		return;
	printf("# reader %d: ", me);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void read_attr(int me, const char *name, const char *attr, size_t size)
{
	char buf[128];
	int fd = open(S(SYSFS_CLASS "/%s/%s", name, attr), O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		if (errno != ENOENT && errno != ENODEV)
			bad(me, "open %s/%s: %s", name, attr, errname(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		if (errno != ENODEV && errno != ENOENT)
			bad(me, "read %s/%s: %s", name, attr, errname(errno));
	} else {
		buf[n] = 0;
		sh->r[me].attrs++;
		if (!strcmp(attr, "size") && strtoull(buf, NULL, 0) != size)
			bad(me, "%s/size reads '%s', expected %zu", name, buf, size);
		if (!strcmp(attr, "phys_addr") && strncmp(buf, "0x", 2))
			bad(me, "%s/phys_addr reads '%s'", name, buf);
	}
	close(fd);
}

static void reader(int me, size_t size)
{
	uint8_t *tmp = xmalloc(size);

	for (unsigned int i = me; !sh->stop; i++) {
		char name[32];
		int fd;
		DIR *d;

		snprintf(name, sizeof(name), "race%u", i % NAMES);
		fd = open(S("/dev/%s", name), O_RDWR);

		if (fd < 0) {
			if (errno == ENXIO)
				sh->r[me].enxio++;
			else if (errno == ENOENT || errno == ENODEV)
				sh->r[me].absent++;
			else
				bad(me, "open /dev/%s: %s", name, errname(errno));
		} else {
			ssize_t n = pread_all(fd, tmp, size, 0);
			uint8_t *map;
			long at;

			sh->r[me].opens++;
			if (n != (ssize_t)size) {
				bad(me, "read of /dev/%s returned %s, expected %zu bytes", name,
				    res(n, errno), size);
			} else {
				sh->r[me].reads++;
				at = find_invalid(tmp, size);
				if (at >= 0)
					bad(me, "read of /dev/%s: byte %ld is 0x%02x, neither 0 nor the pattern",
					    name, at, tmp[at]);
			}
			map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
			if (map == MAP_FAILED) {
				bad(me, "mmap of open /dev/%s: %s", name, errname(errno));
			} else {
				sh->r[me].maps++;
				/* The file is closed first: the mapping alone holds the buffer. */
				close(fd);
				fd = -1;
				at = find_invalid(map, size);
				if (at >= 0)
					bad(me, "mapping of /dev/%s: byte %ld is 0x%02x, neither 0 nor the pattern",
					    name, at, map[at]);
				munmap(map, size);
			}
			if (fd >= 0)
				close(fd);
		}
		read_attr(me, name, "size", size);
		read_attr(me, name, "phys_addr", size);
		read_attr(me, name, "sync_mode", size);
		d = opendir(SYSFS_CLASS);
		if (d) {
			while (readdir(d))
				;
			closedir(d);
		}
	}
	free(tmp);
}

int main(int argc, char **argv)
{
	int cycles, readers, status, fails = 0;
	long busy = 0, max_tries = 0;
	uint8_t *data;
	size_t size;
	pid_t pids[16];
	double t0;

	if (argc != 4) {
		fprintf(stderr, "usage: mgr_race CYCLES READERS SIZE\n");
		return 2;
	}
	cycles = atoi(argv[1]);
	readers = atoi(argv[2]);
	size = strtoull(argv[3], NULL, 0);
	if (readers < 1 || readers > 16)
		return 2;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	data = xmalloc(size);
	pat_fill(data, 0, size, SEED);
	for (int i = 0; i < NAMES; i++)
		mgr("delete race%d\n", i);
	fflush(stdout);
	for (int r = 0; r < readers; r++) {
		pids[r] = fork();
		if (pids[r] == 0) {
			reader(r, size);
			_exit(0);
		}
	}
	t0 = now();
	for (int c = 0; c < cycles; c++) {
		char name[32];
		int e, fd;
		long tries = 0;

		snprintf(name, sizeof(name), "race%d", c % NAMES);
		e = mgr("create %s %zu\n", name, size);

		if (e) {
			if (fails++ < MAX_DIAG)
				printf("# cycle %d: create %s: expected OK got %s\n", c, name, errname(e));
			continue;
		}
		fd = open(S("/dev/%s", name), O_WRONLY);
		if (fd < 0 || pwrite_all(fd, data, size, 0) != (ssize_t)size) {
			if (fails++ < MAX_DIAG)
				printf("# cycle %d: fill /dev/%s: %s\n", c, name, errname(errno));
		}
		if (fd >= 0)
			close(fd);
		do {
			e = mgr("delete %s\n", name);
			if (e == EBUSY) {
				busy++;
				usleep(200);
			}
		} while (e == EBUSY && ++tries < 20000);
		if (tries > max_tries)
			max_tries = tries;
		if (e && fails++ < MAX_DIAG)
			printf("# cycle %d: delete %s: expected OK (after EBUSY retries) got %s\n", c,
			       name, errname(e));
	}
	sh->stop = 1;
	for (int r = 0; r < readers; r++)
		waitpid(pids[r], &status, 0);
	diag("%d cycles in %.1f s; delete saw EBUSY %ld times (at most %ld retries for one)",
	     cycles, now() - t0, busy, max_tries);
	{
		long opens = 0, absent = 0, enxio = 0, reads = 0, maps = 0, attrs = 0, nbad = 0;

		for (int r = 0; r < readers; r++) {
			opens += sh->r[r].opens;
			absent += sh->r[r].absent;
			enxio += sh->r[r].enxio;
			reads += sh->r[r].reads;
			maps += sh->r[r].maps;
			attrs += sh->r[r].attrs;
			nbad += sh->r[r].bad;
		}
		diag("readers: %ld opens (%ld read, %ld mapped), %ld absent, %ld ENXIO, %ld attribute reads",
		     opens, reads, maps, absent, enxio, attrs);
		tap(fails == 0, S("%d create/delete cycles of %zu-byte buffers racing with %d readers: every create worked at once, every delete worked (after EBUSY while in use)",
				  cycles, size, readers),
		    "expected no failure got %d", fails);
		tap(nbad == 0, "the readers only ever saw absent buffers (ENOENT/ENODEV) or complete buffers with valid data",
		    "expected no bad observation got %ld (the first ones are above)", nbad);
		tap(opens > 0 && absent > 0,
		    "the readers met both existing and absent buffers (the race happened)",
		    "expected both got %ld opens, %ld absent", opens, absent);
	}
	for (int i = 0; i < NAMES; i++) {
		int e = mgr("delete race%d\n", i);

		tap(e == ENODEV, S("after the cycles race%d does not exist (delete -> ENODEV)", i),
		    "expected ENODEV got %s", errname(e));
	}
	return tap_failures ? 1 : 0;
}
