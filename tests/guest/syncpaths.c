// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * syncpaths DEV [LABEL]: for every sync_mode 0..7 (INTERFACE.md §5.1), data
 * written through one path (cached mapping, O_SYNC mapping, write(), O_SYNC
 * write()) is read back through the others after the documented hand-over
 * (§5.2: sync_for_device after CPU writes, sync_for_cpu before CPU reads);
 * and no mapping raises SIGBUS on memset of the whole buffer or on unaligned
 * 2/4/8-byte loads and stores (§12.8). Prints TAP.
 *
 * Limit: QEMU 7.2 TCG raises no alignment or DC ZVA fault on arm64 Device
 * memory, so under the harness the SIGBUS checks pass even for a module that
 * maps "non-cached" as pgprot_noncached() (tried as a mutation). They catch
 * that on hardware and on a QEMU that enforces Device-memory alignment.
 */
#include "tap.h"

static const char *dev;
static char label[64];
static size_t size;
static uint8_t *expect, *got;

typedef uint16_t u16u __attribute__((aligned(1)));
typedef uint32_t u32u __attribute__((aligned(1)));
typedef uint64_t u64u __attribute__((aligned(1)));

/* What each sync_mode gives without and with O_SYNC (§5.1), for the test names. */
static const char *const flavour[8][2] = {
	{ "cached", "cached" }, { "cached", "non-cached" },
	{ "cached", "write-combine" }, { "cached", "DMA-coherent" },
	{ "cached", "cached" }, { "non-cached", "non-cached" },
	{ "write-combine", "write-combine" }, { "DMA-coherent", "DMA-coherent" },
};

static int hand(const char *which)
{
	int e = sync_stored(dev, which);

	if (e)
		diag("%s: writing 1 failed with %s", which, errname(e));
	return e;
}

/* "" when view equals the expected pattern, else where it differs. */
static const char *cmp_view(const char *name, const volatile uint8_t *v)
{
	for (size_t i = 0; i < size; i++)
		if (v[i] != expect[i])
			return S("%s differs at %zu: expected 0x%02x got 0x%02x; ", name, i, expect[i], v[i]);
	return "";
}

static const char *cmp_read(const char *name, int fd)
{
	memset(got, ~expect[0], size);
	if (pread_all(fd, got, size, 0) != (ssize_t)size)
		return S("%s failed: %s; ", name, errname(errno));
	return cmp_view(name, got);
}

struct maps {
	int fc, fs;		/* without and with O_SYNC */
	uint8_t *mc, *ms;
};

static void paths(int mode, struct maps *m)
{
	char why[2048];
	const char *what;
	int e;

	/* 1. CPU writes through the cached mapping. */
	pat_fill(expect, 0, size, 100 + mode);
	e = hand("sync_for_cpu");
	memcpy(m->mc, expect, size);
	e |= hand("sync_for_device");
	snprintf(why, sizeof(why), "%s%s", cmp_view("O_SYNC mapping", m->ms), cmp_read("O_SYNC read()", m->fs));
	e |= hand("sync_for_cpu");
	snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s", cmp_view("cached mapping", m->mc),
		 cmp_read("read()", m->fc));
	what = S("%ssync_mode %d: written through the mapping without O_SYNC (%s), read back through the O_SYNC mapping, O_SYNC read(), the mapping and read()",
		 label, mode, flavour[mode][0]);
	tap(!e && !why[0], what, "expected the pattern everywhere got %s%s", why, e ? "a failed sync" : "");

	/* 2. Writes through the O_SYNC mapping (as a device would). */
	pat_fill(expect, 0, size, 200 + mode);
	e = hand("sync_for_device");
	memcpy(m->ms, expect, size);
	e |= hand("sync_for_cpu");
	snprintf(why, sizeof(why), "%s%s%s", cmp_view("cached mapping", m->mc), cmp_read("read()", m->fc),
		 cmp_read("O_SYNC read()", m->fs));
	what = S("%ssync_mode %d: written through the O_SYNC mapping (%s), read back through the mapping, read() and O_SYNC read() after sync_for_cpu",
		 label, mode, flavour[mode][1]);
	tap(!e && !why[0], what, "expected the pattern everywhere got %s%s", why, e ? "a failed sync" : "");

	/* 3. CPU writes through write() without O_SYNC. */
	pat_fill(expect, 0, size, 300 + mode);
	e = hand("sync_for_cpu");
	if (pwrite_all(m->fc, expect, size, 0) != (ssize_t)size)
		e = errno;
	e |= hand("sync_for_device");
	snprintf(why, sizeof(why), "%s%s", cmp_view("O_SYNC mapping", m->ms), cmp_read("O_SYNC read()", m->fs));
	e |= hand("sync_for_cpu");
	snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s", cmp_view("cached mapping", m->mc),
		 cmp_read("read()", m->fc));
	what = S("%ssync_mode %d: written by write(), read back through the O_SYNC mapping, O_SYNC read(), the mapping and read()",
		 label, mode);
	tap(!e && !why[0], what, "expected the pattern everywhere got %s%s", why, e ? "a failed write or sync" : "");

	/* 4. write() with O_SYNC keeps the caches right by itself (§4). */
	pat_fill(expect, 0, size, 400 + mode);
	e = 0;
	if (pwrite_all(m->fs, expect, size, 0) != (ssize_t)size)
		e = errno;
	snprintf(why, sizeof(why), "%s%s", cmp_view("O_SYNC mapping", m->ms), cmp_read("O_SYNC read()", m->fs));
	e |= hand("sync_for_cpu");
	snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s", cmp_view("cached mapping", m->mc),
		 cmp_read("read()", m->fc));
	what = S("%ssync_mode %d: written by O_SYNC write(), read back through the O_SYNC mapping and O_SYNC read() at once, the mapping and read() after sync_for_cpu",
		 label, mode);
	tap(!e && !why[0], what, "expected the pattern everywhere got %s%s", why, e ? "a failed write or sync" : "");
}

/* Runs in a child: a SIGBUS ends the child, not the test program. */
static int memset_whole(void *arg)
{
	volatile uint8_t *p = arg;

	memset(arg, 0, size);
	for (size_t i = 0; i < size; i += 509)
		if (p[i] != 0)
			return 1;
	memset(arg, 0xa5, size);
	for (size_t i = 0; i < size; i += 509)
		if (p[i] != 0xa5)
			return 2;
	memset((uint8_t *)arg + 3, 0, size - 6);
	return p[2] == 0xa5 && p[3] == 0 && p[size - 4] == 0 && p[size - 3] == 0xa5 ? 0 : 3;
}

static int unaligned(void *arg)
{
	uint8_t *p = arg;

	for (size_t off = 1; off < 64; off += 2) {
		volatile u16u *a = (volatile u16u *)(p + off);
		volatile u32u *b = (volatile u32u *)(p + off + 64);
		volatile u64u *c = (volatile u64u *)(p + off + 128);
		uint64_t v = 0x0123456789abcdefull ^ off;

		*a = (uint16_t)v;
		*b = (uint32_t)v;
		*c = v;
		if (*a != (uint16_t)v || *b != (uint32_t)v || *c != v)
			return 1;
		if (off == 1 && p[129] != (uint8_t)v)	/* little-endian byte order */
			return 2;
	}
	return 0;
}

static void no_sigbus(int mode, int osync, uint8_t *map)
{
	const char *r, *fl = flavour[mode][osync], *o = osync ? "with O_SYNC" : "without O_SYNC";

	r = run_child(memset_whole, map);
	tap(!strcmp(r, "0"), S("%ssync_mode %d %s (%s): memset of the whole mapping works, no SIGBUS", label, mode, o, fl),
	    "expected the child to exit 0 got %s", r);
	r = run_child(unaligned, map);
	tap(!strcmp(r, "0"), S("%ssync_mode %d %s (%s): unaligned 2/4/8-byte loads and stores work, no SIGBUS", label, mode, o, fl),
	    "expected the child to exit 0 got %s", r);
}

int main(int argc, char **argv)
{
	char mode_text[8];

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: syncpaths DEV [LABEL]\n");
		return 2;
	}
	dev = argv[1];
	if (argc == 3)
		snprintf(label, sizeof(label), "%s: ", argv[2]);
	size = attr_u64(dev, "size");
	expect = xmalloc(size);
	got = xmalloc(size);

	for (int mode = 0; mode < 8; mode++) {
		struct maps m;
		int e;

		snprintf(mode_text, sizeof(mode_text), "%d", mode);
		e = attr_write(dev, "sync_mode", mode_text);
		if (!tap(!e, S("%ssync_mode accepts %d", label, mode), "expected OK got %s", errname(e)))
			continue;
		m.fc = open(S("/dev/%s", dev), O_RDWR);
		m.fs = open(S("/dev/%s", dev), O_RDWR | O_SYNC);
		m.mc = m.fc < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fc, 0);
		m.ms = m.fs < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fs, 0);
		if (!tap(m.mc != MAP_FAILED && m.ms != MAP_FAILED,
			 S("%ssync_mode %d: open and mmap with and without O_SYNC work", label, mode),
			 "expected two mappings got %s", errname(errno)))
			return 1;
		paths(mode, &m);
		no_sigbus(mode, 0, m.mc);
		no_sigbus(mode, 1, m.ms);
		munmap(m.mc, size);
		munmap(m.ms, size);
		close(m.fc);
		close(m.fs);
	}
	attr_write(dev, "sync_mode", "1");
	return 0;
}
