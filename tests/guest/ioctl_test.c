// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ioctl_test DEV MASK_BITS MMAP_MODE OF: the ten ioctls of /dev/DEV (INTERFACE.md
 * §8, §13.3, §13.6) against sysfs. build: m32 (also built for i386 / armhf)
 *
 * MASK_BITS is the DMA mask width the buffer was created with, MMAP_MODE its
 * configured quirk_mmap_mode (1..4), OF 1 when the kernel has a device tree.
 * Every argument lies at the very end of a page followed by an inaccessible
 * one, so an ioctl that reads or writes past its declared size fails.  The
 * buffer must be fresh (initial sync state of §13.4).  Prints TAP; the test
 * names start with the ABI (64-bit, i386, armhf).
 */
#include "tap.h"
#include <dirent.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include "u-dma-buf-ioctl.h"

#if defined(__i386__)
#define ABI "i386"
#elif defined(__arm__)
#define ABI "armhf"
#else
#define ABI "64-bit"
#endif

/* The numbers and layouts of §8, on every ABI. */
_Static_assert(U_DMA_BUF_IOCTL_GET_DRV_INFO == 0x80185501, "GET_DRV_INFO");
_Static_assert(U_DMA_BUF_IOCTL_GET_SIZE == 0x80085502, "GET_SIZE");
_Static_assert(U_DMA_BUF_IOCTL_GET_DMA_ADDR == 0x80085503, "GET_DMA_ADDR");
_Static_assert(U_DMA_BUF_IOCTL_GET_SYNC_OWNER == 0x80045504, "GET_SYNC_OWNER");
_Static_assert(U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU == 0x40085505, "SET_SYNC_FOR_CPU");
_Static_assert(U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE == 0x40085506, "SET_SYNC_FOR_DEVICE");
_Static_assert(U_DMA_BUF_IOCTL_GET_DEV_INFO == 0x80185507, "GET_DEV_INFO");
_Static_assert(U_DMA_BUF_IOCTL_GET_SYNC == 0x80185508, "GET_SYNC");
_Static_assert(U_DMA_BUF_IOCTL_SET_SYNC == 0x40185509, "SET_SYNC");
_Static_assert(U_DMA_BUF_IOCTL_EXPORT == 0xC028550A, "EXPORT");
_Static_assert(sizeof(u_dma_buf_ioctl_drv_info) == 24, "drv_info");
_Static_assert(offsetof(u_dma_buf_ioctl_drv_info, version) == 8, "drv_info.version");
_Static_assert(sizeof(u_dma_buf_ioctl_dev_info) == 24, "dev_info");
_Static_assert(offsetof(u_dma_buf_ioctl_dev_info, size) == 8, "dev_info.size");
_Static_assert(offsetof(u_dma_buf_ioctl_dev_info, addr) == 16, "dev_info.addr");
_Static_assert(sizeof(u_dma_buf_ioctl_sync_args) == 24, "sync_args");
_Static_assert(offsetof(u_dma_buf_ioctl_sync_args, size) == 8, "sync_args.size");
_Static_assert(offsetof(u_dma_buf_ioctl_sync_args, offset) == 16, "sync_args.offset");
_Static_assert(sizeof(u_dma_buf_ioctl_export_args) == 40, "export_args");
_Static_assert(offsetof(u_dma_buf_ioctl_export_args, size) == 8, "export_args.size");
_Static_assert(offsetof(u_dma_buf_ioctl_export_args, offset) == 16, "export_args.offset");
_Static_assert(offsetof(u_dma_buf_ioctl_export_args, addr) == 24, "export_args.addr");
_Static_assert(offsetof(u_dma_buf_ioctl_export_args, fd) == 32, "export_args.fd");

/* The 36-byte EXPORT that i386 programs built against the old header send (§13.3). */
#define EXPORT_36 _IOC(_IOC_READ | _IOC_WRITE, 'U', 10, 36)

static const char *dev;
static int fd;
static uint64_t bufsize, allocsize, phys;
static long pagesz;
static unsigned int want_mask, want_mode, want_of;
static uint8_t *guard;		/* two pages: read-write, then PROT_NONE */
static uint8_t *ro;		/* one read-only page */
static uint8_t *none;		/* the PROT_NONE page */

/* Like S(), with more and larger buffers: a test line may format many values. */
static const char *F(const char *fmt, ...)
{
	static char bufs[32][1024];
	static unsigned int next;
	char *b = bufs[next++ % 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

#define T(what) F("%s %s: %s", ABI, dev, what)

/* The last n bytes of the read-write page: one byte more and the access faults. */
static void *tail(size_t n)
{
	memset(guard, 0xa5, pagesz);
	return guard + pagesz - n;
}

static int xioctl(unsigned long cmd, void *arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? errno : 0;
}

/* --- sync state: sysfs and GET_SYNC ------------------------------------ */

struct st {
	uint64_t off, size;
	unsigned int dir, mode, owner;
};

static struct st sys_state(void)
{
	struct st s = {
		.off = attr_u64(dev, "sync_offset"),
		.size = attr_u64(dev, "sync_size"),
		.dir = attr_u64(dev, "sync_direction"),
		.mode = attr_u64(dev, "sync_mode"),
		.owner = attr_u64(dev, "sync_owner"),
	};
	return s;
}

/* GET_SYNC; *extra gets the flag bits other than DIR, MODE and OWNER. */
static int ioc_state(struct st *s, uint64_t *extra)
{
	u_dma_buf_ioctl_sync_args *a = tail(sizeof(*a));
	int e = xioctl(U_DMA_BUF_IOCTL_GET_SYNC, a);

	if (e)
		return e;
	s->off = a->offset;
	s->size = a->size;
	s->dir = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(a);
	s->mode = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(a);
	s->owner = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(a);
	if (extra) {
		SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(a, 0);
		SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(a, 0);
		SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(a, 0);
		*extra = a->flags;
	}
	return 0;
}

static const char *st_str(struct st s)
{
	return F("offset=%llu size=%llu direction=%u sync_mode=%u owner=%u",
		 (unsigned long long)s.off, (unsigned long long)s.size, s.dir, s.mode, s.owner);
}

static int st_eq(struct st a, struct st b)
{
	return a.off == b.off && a.size == b.size && a.dir == b.dir && a.mode == b.mode &&
	       a.owner == b.owner;
}

/* "" when sysfs and GET_SYNC both show want, else what they show. */
static const char *state_diff(struct st want)
{
	struct st s = sys_state(), g;
	uint64_t extra = 0;
	int e = ioc_state(&g, &extra);

	if (e)
		return F("GET_SYNC failed with %s", errname(e));
	if (st_eq(s, want) && st_eq(g, want) && !extra)
		return "";
	return F("expected %s; sysfs shows %s; GET_SYNC shows %s, other flag bits 0x%llx",
		 st_str(want), st_str(s), st_str(g), (unsigned long long)extra);
}

static void check_state(const char *what, struct st want)
{
	const char *d = state_diff(want);

	tap(!d[0], what, "%s", d);
}

static int set_sync(unsigned int cmd, unsigned int dir, unsigned int mode, uint64_t off,
		    uint64_t size, uint64_t more_flags)
{
	u_dma_buf_ioctl_sync_args *a = tail(sizeof(*a));

	a->flags = more_flags;
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(a, cmd);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(a, dir);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(a, mode);
	a->offset = off;
	a->size = size;
	return xioctl(U_DMA_BUF_IOCTL_SET_SYNC, a);
}

static int encoded(int for_device, uint64_t cmd)
{
	uint64_t *p = tail(sizeof(*p));

	*p = cmd;
	return xioctl(for_device ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE :
			U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, p);
}

static uint64_t enc(uint64_t off, uint64_t size, unsigned int dir)
{
	return off << 32 | (size & 0xfffffff0u) | dir << 2 | 1;
}

/* Puts the owner where it is wanted, through sysfs. */
static void own(unsigned int owner)
{
	int e = sync_stored(dev, owner ? "sync_for_device" : "sync_for_cpu");

	if (e)
		diag("writing 1 to %s failed with %s", owner ? "sync_for_device" : "sync_for_cpu",
		     errname(e));
}

/* --- info ioctls ------------------------------------------------------- */

static void test_drv_info(void)
{
	u_dma_buf_ioctl_drv_info *d = tail(sizeof(*d));
	char ver[64];
	uint64_t known, extra;
	int e = xioctl(U_DMA_BUF_IOCTL_GET_DRV_INFO, d);

	if (!tap(!e, T("GET_DRV_INFO succeeds"), "expected 0 got %s", errname(e)))
		return;
	attr_read(dev, "driver_version", ver, sizeof(ver));
	tap(memchr(d->version, 0, sizeof(d->version)) && !strcmp(d->version, ver),
	    T("GET_DRV_INFO version is sysfs driver_version, NUL-terminated"),
	    "expected '%s' got '%.16s'", ver, d->version);
	tap(GET_U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION(d) == 2 &&
	    attr_u64(dev, "ioctl_version") == 2,
	    T("GET_DRV_INFO IOCTL_VERSION is 2, as sysfs ioctl_version"),
	    "expected 2 and 2 got %llu and %llu",
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION(d),
	    attr_u64(dev, "ioctl_version"));
	tap(GET_U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS(d) == 1,
	    T("GET_DRV_INFO IN_KERNEL_FUNCTIONS is 1"), "expected 1 got %llu",
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS(d));
	tap(GET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP(d) == 1 &&
	    GET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE(d) == 1,
	    T("GET_DRV_INFO USE_QUIRK_MMAP and USE_QUIRK_MMAP_PAGE are 1"), "expected 1 1 got %llu %llu",
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP(d),
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE(d));
	tap(GET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG(d) == want_of &&
	    GET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM(d) == want_of,
	    T(F("GET_DRV_INFO USE_OF_DMA_CONFIG and USE_OF_RESERVED_MEM are %u (%s device tree, §13.12)",
		want_of, want_of ? "a" : "no")),
	    "expected %u %u got %llu %llu", want_of, want_of,
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG(d),
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM(d));
	known = 0xffull | 1ull << 8 | 1ull << 12 | 1ull << 13 | 1ull << 16 | 1ull << 17;
	extra = d->flags & ~known;
	tap(!extra, T("GET_DRV_INFO sets no flag bit outside the defined fields"),
	    "expected 0 got 0x%llx", (unsigned long long)extra);
}

static void test_size_addr_owner(void)
{
	uint64_t *p = tail(8);
	uint32_t *o;
	int e;

	e = xioctl(U_DMA_BUF_IOCTL_GET_SIZE, p);
	tap(!e && *p == bufsize, T("GET_SIZE is sysfs size"), "expected %llu got %s %llu",
	    (unsigned long long)bufsize, errname(e), (unsigned long long)*p);
	p = tail(8);
	e = xioctl(U_DMA_BUF_IOCTL_GET_DMA_ADDR, p);
	tap(!e && *p == phys, T("GET_DMA_ADDR is sysfs phys_addr"), "expected 0x%llx got %s 0x%llx",
	    (unsigned long long)phys, errname(e), (unsigned long long)*p);
	for (unsigned int want = 1; want <= 2; want++) {
		unsigned int w = want & 1;

		own(w);
		o = tail(4);
		e = xioctl(U_DMA_BUF_IOCTL_GET_SYNC_OWNER, o);
		tap(!e && *o == w && attr_u64(dev, "sync_owner") == w,
		    T(F("GET_SYNC_OWNER is %u (%s), as sysfs sync_owner, after sync_for_%s", w,
			w ? "device" : "CPU", w ? "device" : "cpu")),
		    "expected %u got %s %u (sysfs %llu)", w, errname(e), *o, attr_u64(dev, "sync_owner"));
	}
}

static void test_dev_info(void)
{
	u_dma_buf_ioctl_dev_info *d = tail(sizeof(*d));
	uint64_t coherent = attr_u64(dev, "dma_coherent"), mode = attr_u64(dev, "quirk_mmap_mode");
	uint64_t extra;
	int e = xioctl(U_DMA_BUF_IOCTL_GET_DEV_INFO, d);

	if (!tap(!e, T("GET_DEV_INFO succeeds"), "expected 0 got %s", errname(e)))
		return;
	tap(d->size == bufsize && d->addr == phys, T("GET_DEV_INFO size and addr are sysfs size and phys_addr"),
	    "expected %llu 0x%llx got %llu 0x%llx", (unsigned long long)bufsize,
	    (unsigned long long)phys, (unsigned long long)d->size, (unsigned long long)d->addr);
	tap(GET_U_DMA_BUF_IOCTL_FLAGS_DMA_MASK(d) == want_mask,
	    T(F("GET_DEV_INFO DMA_MASK is the %u-bit mask the buffer was created with", want_mask)),
	    "expected %u got %llu", want_mask, (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_DMA_MASK(d));
	tap(GET_U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT(d) == coherent,
	    T("GET_DEV_INFO DMA_COHERENT is sysfs dma_coherent"), "expected %llu got %llu",
	    (unsigned long long)coherent, (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT(d));
	tap(GET_U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE(d) == mode && mode == want_mode,
	    T(F("GET_DEV_INFO MMAP_MODE is sysfs quirk_mmap_mode, the configured %u (§13.1)", want_mode)),
	    "expected %u got %llu (sysfs %llu)", want_mode,
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE(d), (unsigned long long)mode);
	extra = d->flags & ~(0xffull | 1ull << 9 | 7ull << 10);
	tap(!extra, T("GET_DEV_INFO sets no flag bit outside the defined fields"),
	    "expected 0 got 0x%llx", (unsigned long long)extra);
}

/* --- GET_SYNC / SET_SYNC ----------------------------------------------- */

static void test_get_sync(void)
{
	struct st init = { 0, bufsize, 0, 1, 0 };
	static const struct { unsigned int off, size, dir, mode; } sets[] = {
		{ 0x800, 0x400, 2, 6 }, { 16, 48, 1, 0 }, { 0, 4096, 0, 7 }, { 4080, 16, 2, 3 },
	};

	check_state(T("GET_SYNC and sysfs show the initial state of §13.4 (offset 0, size = size, direction 0, sync_mode 1, owner CPU), command field 0"),
		    init);
	for (unsigned int i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct st w = { sets[i].off, sets[i].size, sets[i].dir, sets[i].mode, 0 };
		int e = 0;

		e |= attr_write(dev, "sync_offset", F("0x%x", sets[i].off));
		e |= attr_write(dev, "sync_size", F("%u", sets[i].size));
		e |= attr_write(dev, "sync_direction", F("%u", sets[i].dir));
		e |= attr_write(dev, "sync_mode", F("%u", sets[i].mode));
		if (e)
			diag("a sysfs write failed");
		check_state(T(F("GET_SYNC shows what sysfs stored (%s)", st_str(w))), w);
	}
	for (unsigned int m = 0; m <= 7; m++) {
		struct st w = sys_state(), g;

		attr_write(dev, "sync_mode", F("%u", m));
		w.mode = m;
		ioc_state(&g, NULL);
		tap(g.mode == m, T(F("GET_SYNC SYNC_MODE follows sysfs sync_mode %u", m)), "%s", state_diff(w));
	}
}

static void test_set_sync(void)
{
	struct st w;
	int e;

	own(0);
	e = set_sync(0, 1, 5, 16, 32, 0);
	w = (struct st){ 16, 32, 1, 5, 0 };
	tap(!e && !state_diff(w)[0], T("SET_SYNC (no command) stores direction 1, sync_mode 5, offset 16, size 32: sysfs and GET_SYNC show them"),
	    "expected 0 got %s; %s", errname(e), state_diff(w));
	e = set_sync(0, 3, 0, 48, 0, 0);
	w.off = 48;
	tap(!e && !state_diff(w)[0], T("SET_SYNC direction 3, sync_mode 0 and size 0 leave those unchanged, offset 48 is stored"),
	    "expected 0 got %s; %s", errname(e), state_diff(w));
	for (unsigned int m = 1; m <= 7; m++) {
		e = set_sync(0, 3, m, 48, 0, 0);
		w.mode = m;
		tap(!e && !state_diff(w)[0], T(F("SET_SYNC sync_mode %u is stored", m)), "expected 0 got %s; %s",
		    errname(e), state_diff(w));
	}
	for (unsigned int d = 0; d <= 2; d++) {
		e = set_sync(0, d, 0, 48, 0, 0);
		w.dir = d;
		tap(!e && !state_diff(w)[0], T(F("SET_SYNC direction %u is stored", d)), "expected 0 got %s; %s",
		    errname(e), state_diff(w));
	}
	e = set_sync(3, 3, 0, 64, 128, 0);
	w.off = 64;
	w.size = 128;
	w.owner = 1;
	tap(!e && !state_diff(w)[0], T("SET_SYNC command 3 stores offset 64 size 128 and syncs for the device: owner 1"),
	    "expected 0 got %s; %s", errname(e), state_diff(w));
	e = set_sync(2, 3, 0, 64, 0, 0);
	tap(!e && !state_diff(w)[0], T("SET_SYNC command 2 is no command: owner stays 1"), "expected 0 got %s; %s",
	    errname(e), state_diff(w));
	e = set_sync(0, 3, 0, 64, 0, 0);
	tap(!e && !state_diff(w)[0], T("SET_SYNC command 0 is no command: owner stays 1"), "expected 0 got %s; %s",
	    errname(e), state_diff(w));
	e = set_sync(1, 3, 0, 64, 0, 0);
	w.owner = 0;
	tap(!e && !state_diff(w)[0], T("SET_SYNC command 1 syncs for the CPU: owner 0"), "expected 0 got %s; %s",
	    errname(e), state_diff(w));
	e = set_sync(0, 3, 0, 64, 0, 1ull << 16);
	tap(!e && !state_diff(w)[0], T("SET_SYNC ignores the read-only owner bit 16 (§13.6)"), "expected 0 got %s; %s",
	    errname(e), state_diff(w));
	e = set_sync(0, 2, 6, 80, 96, 0xf0ull | 1ull << 17 | 1ull << 31 | 1ull << 32 | 1ull << 63);
	w = (struct st){ 80, 96, 2, 6, 0 };
	tap(!e && !state_diff(w)[0], T("SET_SYNC ignores unknown flag bits (4..7, 17, 31, 32, 63) and stores the fields (§13.6)"),
	    "expected 0 got %s; %s", errname(e), state_diff(w));
	e = set_sync(0, 3, 0, bufsize - 16, 16, 0);
	w.off = bufsize - 16;
	w.size = 16;
	tap(!e && !state_diff(w)[0], T("SET_SYNC accepts offset + size = size exactly"), "expected 0 got %s; %s",
	    errname(e), state_diff(w));

	/* Persistence: a new open file and encoded commands see the same stored values. */
	{
		int fd2 = open(F("/dev/%s", dev), O_RDWR), keep = fd;
		struct st g = { 0 };

		fd = fd2;
		e = fd2 < 0 ? errno : ioc_state(&g, NULL);
		fd = keep;
		if (fd2 >= 0)
			close(fd2);
		tap(!e && st_eq(g, w), T("SET_SYNC values persist: GET_SYNC through another open file shows them"),
		    "expected %s got %s %s", st_str(w), errname(e), st_str(g));
	}
	e = encoded(1, enc(0, 4096, 1)) | encoded(0, enc(16, 32, 3)) | encoded(1, 1) | encoded(0, 1);
	tap(!e && !state_diff(w)[0], T("SET_SYNC values persist after encoded SET_SYNC_FOR_DEVICE/FOR_CPU commands"),
	    "expected 0 got %s; %s", errname(e), state_diff(w));
	e = attr_write(dev, "sync_for_device", F("0x%08X%08X", 0u, 4096u | 1u << 2 | 1u));
	e |= attr_write(dev, "sync_for_cpu", "1");
	tap(!e && !state_diff(w)[0], T("SET_SYNC values persist after sysfs one-off and stored sync commands"),
	    "expected 0 got %s; %s", errname(e), state_diff(w));
}

/* A refused SET_SYNC: EINVAL, and neither sysfs nor GET_SYNC changed. */
static void refused_set(const char *what, unsigned int cmd, unsigned int dir, unsigned int mode,
			uint64_t off, uint64_t size)
{
	struct st before = sys_state();
	int e = set_sync(cmd, dir, mode, off, size, 0);
	const char *d = state_diff(before);

	tap(e == EINVAL && !d[0], T(F("SET_SYNC %s -> EINVAL, nothing stored, no sync", what)),
	    "expected EINVAL got %s; %s", errname(e), d);
}

static void test_set_sync_invalid(void)
{
	char bad[512] = "";
	struct st before;

	set_sync(0, 1, 2, 32, 64, 0);
	own(0);
	before = sys_state();
	for (unsigned int m = 8; m <= 255; m++) {
		int e = set_sync(3, 2, m, 0, 16, 0);
		const char *d = state_diff(before);

		if ((e != EINVAL || d[0]) && strlen(bad) < 400)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "sync_mode %u: %s %s; ", m,
				 errname(e), d);
	}
	tap(!bad[0], T("SET_SYNC sync_mode 8..255 -> EINVAL each, nothing stored, no sync"),
	    "expected EINVAL and no change got %s", bad);
	refused_set(F("offset %llu > size", (unsigned long long)bufsize + 1), 3, 0, 6, bufsize + 1, 16);
	refused_set("offset > size with size 0 (= stored size)", 3, 0, 6, bufsize + 1, 0);
	refused_set(F("offset = size with size 0 (stored size %llu)", (unsigned long long)before.size),
		    3, 0, 6, bufsize, 0);
	refused_set(F("size %llu > size", (unsigned long long)bufsize + 1), 3, 0, 6, 0, bufsize + 1);
	refused_set("offset 16 + size = size + 16", 3, 0, 6, 16, bufsize);
	refused_set("offset 16 + size 2^64-16 (wraps to 0)", 3, 0, 6, 16, -16ull);
	refused_set("offset 2^64-1 + size 1 (wraps)", 3, 0, 6, -1ull, 1);
	refused_set("offset 2^63 size 2^63 (wraps)", 1, 2, 7, 1ull << 63, 1ull << 63);
	refused_set("sync_mode 8 with a valid range and direction", 1, 2, 8, 0, 16);
	refused_set("sync_mode 255 with command 3", 3, 0, 255, 0, 0);
	/* The 2-bit direction fields have no invalid value (3 = unchanged / bidirectional). */
	{
		int e = attr_write(dev, "sync_direction", "3");
		const char *d = state_diff(before);

		tap(e == EINVAL && !d[0], T("sysfs sync_direction 3 -> EINVAL, GET_SYNC unchanged"),
		    "expected EINVAL got %s; %s", errname(e), d);
	}
}

/* --- encoded sync commands --------------------------------------------- */

static void test_encoded(void)
{
	struct st w = sys_state(), base;
	uint64_t edge = (bufsize & ~15ull) - 16;
	int e;

	for (int dv = 0; dv <= 1; dv++) {
		const char *name = dv ? "SET_SYNC_FOR_DEVICE" : "SET_SYNC_FOR_CPU";

		own(!dv);
		w = sys_state();
		e = encoded(dv, 0);
		tap(!e && !state_diff(w)[0], T(F("%s 0 does nothing: owner stays %d", name, !dv)),
		    "expected 0 got %s; %s", errname(e), state_diff(w));
		e = encoded(dv, 1);
		w.owner = dv;
		tap(!e && !state_diff(w)[0], T(F("%s 1 syncs the stored range: owner %d, stored values unchanged", name, dv)),
		    "expected 0 got %s; %s", errname(e), state_diff(w));
		for (unsigned int d = 0; d <= 3; d++) {
			own(!dv);
			e = encoded(dv, enc(16, 4096 < bufsize - 16 ? 4096 : 16, d));
			tap(!e && !state_diff(w)[0],
			    T(F("%s one-off offset 16 direction %u: owner %d, stored offset/size/direction unchanged (not persistent)",
				name, d, dv)), "expected 0 got %s; %s", errname(e), state_diff(w));
		}
		own(!dv);
		e = encoded(dv, enc(edge, 16, 0));
		tap(!e && !state_diff(w)[0], T(F("%s one-off range ending at the 16-byte boundary %llu works",
						 name, (unsigned long long)edge + 16)),
		    "expected 0 got %s; %s", errname(e), state_diff(w));
		own(!dv);
		base = sys_state();
		{
			static const struct { const char *what; uint64_t cmd; } bad[] = {
				{ "offset past the end", 0 }, { "offset + size past the end", 1 },
				{ "size past the end", 2 }, { "offset 2^32-1 size 2^32-16", 3 },
			};
			for (unsigned int i = 0; i < 4; i++) {
				uint64_t c = i == 0 ? enc(bufsize + 16, 16, 0) :
					     i == 1 ? enc(edge, 48, 0) :
					     i == 2 ? enc(0, (bufsize + 16) & 0xfffffff0, 0) :
						      enc(0xffffffffull, 0xfffffff0ull, 3);
				const char *d;

				if (i == 2 && bufsize + 16 > 0xfffffff0ull)
					continue;
				e = encoded(dv, c);
				d = state_diff(base);
				tap(e == EINVAL && !d[0], T(F("%s one-off %s (0x%016llx) -> EINVAL, owner unchanged",
							      name, bad[i].what, (unsigned long long)c)),
				    "expected EINVAL got %s; %s", errname(e), d);
			}
		}
		e = xioctl(dv ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE : U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, none);
		tap(e == EFAULT && !state_diff(base)[0], T(F("%s with an inaccessible argument -> EFAULT, owner unchanged", name)),
		    "expected EFAULT got %s; %s", errname(e), state_diff(base));
	}
}

/* --- bad pointers and unknown commands ---------------------------------- */

static void test_bad_pointers(void)
{
	static const struct { const char *name; unsigned long cmd; int writes; } cmds[] = {
		{ "GET_DRV_INFO", U_DMA_BUF_IOCTL_GET_DRV_INFO, 1 },
		{ "GET_SIZE", U_DMA_BUF_IOCTL_GET_SIZE, 1 },
		{ "GET_DMA_ADDR", U_DMA_BUF_IOCTL_GET_DMA_ADDR, 1 },
		{ "GET_SYNC_OWNER", U_DMA_BUF_IOCTL_GET_SYNC_OWNER, 1 },
		{ "SET_SYNC_FOR_CPU", U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, 0 },
		{ "SET_SYNC_FOR_DEVICE", U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE, 0 },
		{ "GET_DEV_INFO", U_DMA_BUF_IOCTL_GET_DEV_INFO, 1 },
		{ "GET_SYNC", U_DMA_BUF_IOCTL_GET_SYNC, 1 },
		{ "SET_SYNC", U_DMA_BUF_IOCTL_SET_SYNC, 0 },
		{ "EXPORT", U_DMA_BUF_IOCTL_EXPORT, 0 },	/* read-only page: test_export */
		{ "EXPORT (36-byte)", EXPORT_36, 0 },
	};
	struct st before;

	own(1);
	before = sys_state();
	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		void *ptrs[] = { NULL, none, (void *)(uintptr_t)1, ro };
		const char *pname[] = { "NULL", "an inaccessible page", "address 1", "a read-only page" };

		for (unsigned int k = 0; k < 4; k++) {
			int e, want = EFAULT;
			const char *d;

			if (k == 3 && !cmds[i].writes)
				continue;
			e = xioctl(cmds[i].cmd, ptrs[k]);
			d = state_diff(before);
			tap(e == want && !d[0], T(F("%s with %s -> EFAULT, state unchanged", cmds[i].name, pname[k])),
			    "expected EFAULT got %s; %s", errname(e), d);
		}
	}
}

static void test_unknown(void)
{
	static const struct { const char *name; unsigned long cmd; } cmds[] = {
		{ "_IO('U', 0)", _IO('U', 0) },
		{ "_IOR('U', 11, __u64)", _IOR('U', 11, __u64) },
		{ "_IOWR('U', 255, __u64)", _IOWR('U', 255, __u64) },
		{ "_IOR('V', 1, drv_info)", _IOR('V', 1, u_dma_buf_ioctl_drv_info) },
		{ "_IOR('U', 2, __u32) (GET_SIZE with the wrong size)", _IOR('U', 2, __u32) },
		{ "_IOW('U', 1, drv_info) (GET_DRV_INFO with the wrong direction)", _IOW('U', 1, u_dma_buf_ioctl_drv_info) },
		{ "_IOR('U', 9, sync_args) (SET_SYNC with the wrong direction)", _IOR('U', 9, u_dma_buf_ioctl_sync_args) },
		{ "_IOR('U', 10, export_args) (EXPORT with the wrong direction)", _IOR('U', 10, u_dma_buf_ioctl_export_args) },
		{ "_IOC(RW, 'U', 10, 32)", _IOC(_IOC_READ | _IOC_WRITE, 'U', 10, 32) },
		{ "_IOC(RW, 'U', 10, 44)", _IOC(_IOC_READ | _IOC_WRITE, 'U', 10, 44) },
		{ "0x00000000", 0 },
		{ "0xffffffff", 0xffffffffu },
	};
	struct st before = sys_state();

	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		void *arg = tail(64);
		int e = xioctl(cmds[i].cmd, arg);
		const char *d = state_diff(before);

		tap(e == ENOTTY && !d[0], T(F("unknown command %s -> ENOTTY, state unchanged", cmds[i].name)),
		    "expected ENOTTY got %s; %s", errname(e), d);
	}
}

/* --- EXPORT through the ioctl ABI --------------------------------------- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* EXPORT of flags/offset/size; returns 0 or the errno; *out gets the result. */
static int do_export(uint64_t flags, uint64_t off, uint64_t size, u_dma_buf_ioctl_export_args *out)
{
	u_dma_buf_ioctl_export_args *a = tail(sizeof(*a));
	int e;

	memset(a, 0, sizeof(*a));
	a->flags = flags;
	a->offset = off;
	a->size = size;
	a->fd = -1;
	e = xioctl(U_DMA_BUF_IOCTL_EXPORT, a);
	if (out)
		*out = *a;
	return e;
}

static void export_ok(const char *what, uint64_t flags, uint64_t off, uint64_t size)
{
	u_dma_buf_ioctl_export_args a;
	uint64_t want_size = size ? size : allocsize - off;
	int e = do_export(flags, off, size, &a);
	char why[512] = "";
	off_t end;
	int fl, fdfl;

	if (e) {
		tap(0, T(what), "expected 0 got %s", errname(e));
		return;
	}
	end = lseek(a.fd, 0, SEEK_END);
	fl = fcntl(a.fd, F_GETFL);
	fdfl = fcntl(a.fd, F_GETFD);
	if (a.addr != phys + off)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "addr 0x%llx, expected 0x%llx; ",
			 (unsigned long long)a.addr, (unsigned long long)(phys + off));
	if ((uint64_t)end != want_size)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "dma-buf size %lld, expected %llu; ",
			 (long long)end, (unsigned long long)want_size);
	if ((fl & O_ACCMODE) != (int)(flags & O_ACCMODE))
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "access mode %d, expected %d; ",
			 fl & O_ACCMODE, (int)(flags & O_ACCMODE));
	if (!(fdfl & FD_CLOEXEC) != !(flags & O_CLOEXEC))
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "FD_CLOEXEC %d, expected %d; ",
			 !!(fdfl & FD_CLOEXEC), !!(flags & O_CLOEXEC));
	close(a.fd);
	tap(!why[0], T(what), "%s", why);
}

static void export_refused(const char *what, int want, uint64_t flags, uint64_t off, uint64_t size)
{
	int n0 = count_fds(), e = do_export(flags, off, size, NULL), n1 = count_fds();

	tap(e == want && n0 == n1, T(F("EXPORT %s -> %s, no fd created", what, errname(want))),
	    "expected %s got %s, open fds %d -> %d", errname(want), errname(e), n0, n1);
}

static void test_export(void)
{
	static const struct { const char *name; uint64_t flags; } good[] = {
		{ "O_RDONLY", O_RDONLY }, { "O_WRONLY", O_WRONLY }, { "O_RDWR", O_RDWR },
		{ "O_RDONLY|O_CLOEXEC", O_RDONLY | O_CLOEXEC }, { "O_RDWR|O_CLOEXEC", O_RDWR | O_CLOEXEC },
		{ "O_RDWR|O_SYNC", O_RDWR | O_SYNC }, { "O_RDWR|O_SYNC|O_CLOEXEC", O_RDWR | O_SYNC | O_CLOEXEC },
		{ "O_WRONLY|O_SYNC", O_WRONLY | O_SYNC },
	};
	static const struct { const char *name; uint64_t flags; } bad[] = {
		{ "O_NONBLOCK", O_RDWR | O_NONBLOCK }, { "O_APPEND", O_RDWR | O_APPEND },
		{ "O_CREAT", O_RDWR | O_CREAT }, { "O_TRUNC", O_RDWR | O_TRUNC }, { "O_EXCL", O_RDWR | O_EXCL },
		{ "O_NOCTTY", O_RDWR | O_NOCTTY }, { "O_DIRECT", O_RDWR | O_DIRECT },
		{ "O_DIRECTORY", O_RDWR | O_DIRECTORY }, { "O_NOATIME", O_RDWR | O_NOATIME },
		{ "O_PATH", O_PATH }, { "O_DSYNC without the rest of O_SYNC", O_RDWR | O_DSYNC },
		{ "bit 32", O_RDWR | 1ull << 32 }, { "bit 63", O_RDWR | 1ull << 63 },
		{ "all bits", ~0ull },
	};
	uint64_t pg = pagesz;
	u_dma_buf_ioctl_export_args *a;
	int e;

	/* Mode off exports too (coherent memory, INTERFACE 9): the same checks. */
	for (unsigned int i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		export_ok(F("EXPORT %s of the whole buffer: addr = phys_addr, dma-buf size = alloc size, fd flags as asked",
			    good[i].name), good[i].flags, 0, 0);
	export_ok("EXPORT offset 0 size = alloc size: the whole buffer", O_RDWR, 0, allocsize);
	if (allocsize >= 2 * pg) {
		export_ok("EXPORT offset one page, size 0 (to the end): addr = phys_addr + offset",
			  O_RDWR, pg, 0);
		export_ok("EXPORT offset one page, size one page: addr = phys_addr + offset",
			  O_RDWR | O_CLOEXEC, pg, pg);
		export_ok("EXPORT the last page", O_RDWR, allocsize - pg, pg);
	}
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		export_refused(F("with flag %s", bad[i].name), EINVAL, bad[i].flags, 0, 0);
	export_refused("offset 1 (unaligned)", EINVAL, O_RDWR, 1, pg);
	export_refused("offset page-1 (unaligned)", EINVAL, O_RDWR, pg - 1, 0);
	export_refused("size 1 (unaligned)", EINVAL, O_RDWR, 0, 1);
	export_refused("size page+1 (unaligned)", EINVAL, O_RDWR, 0, pg + 1);
	export_refused("offset = size (an empty range, §13.6)", EINVAL, O_RDWR, allocsize, 0);
	export_refused("offset = size with size one page", EINVAL, O_RDWR, allocsize, pg);
	export_refused("offset past the end", EINVAL, O_RDWR, allocsize + pg, 0);
	export_refused("size past the end", EINVAL, O_RDWR, 0, allocsize + pg);
	export_refused("offset one page + size = alloc size (past the end)", EINVAL, O_RDWR, pg, allocsize);
	export_refused("offset one page + size 2^64 - page (wraps)", EINVAL, O_RDWR, pg, -pg);
	export_refused("offset 2^64 - page, size one page (wraps)", EINVAL, O_RDWR, -pg, pg);
	export_refused("offset 2^64 - page, size 0", EINVAL, O_RDWR, -pg, 0);
	{
		int n0 = count_fds();

		e = xioctl(U_DMA_BUF_IOCTL_EXPORT, NULL);
		tap(e == EFAULT && count_fds() == n0, T("EXPORT with a NULL argument -> EFAULT, no fd created"),
		    "expected EFAULT got %s", errname(e));
		/* Readable but not writable: the result cannot be returned. */
		a = (void *)ro;
		e = xioctl(U_DMA_BUF_IOCTL_EXPORT, a);
		tap(e == EFAULT && count_fds() == n0,
		    T("EXPORT with valid arguments in a read-only page -> EFAULT, no fd created"),
		    "expected EFAULT got %s, open fds %d -> %d", errname(e), n0, count_fds());
	}
	/* The 36-byte form of §13.3, at the end of a page. */
	{
		uint8_t *p = tail(36);
		u_dma_buf_ioctl_export_args a36;
		int dfd;

		memset(p, 0, 36);
		a36 = (u_dma_buf_ioctl_export_args){ .flags = O_RDWR, .offset = 0, .size = pg, .fd = -1 };
		memcpy(p, &a36, 36);
		e = xioctl(EXPORT_36, p);
		memcpy(&a36, p, 36);
		dfd = e ? -1 : a36.fd;
		tap(!e && dfd >= 0 && a36.addr == phys && lseek(dfd, 0, SEEK_END) == (off_t)pg,
		    T("EXPORT in the 36-byte form (0xC024550A) works: fd, addr, size"),
		    "expected 0, an fd, addr 0x%llx got %s, fd %d, addr 0x%llx", (unsigned long long)phys,
		    errname(e), dfd, (unsigned long long)a36.addr);
		if (dfd >= 0)
			close(dfd);
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: ioctl_test DEV MASK_BITS MMAP_MODE OF\n");
		return 2;
	}
	dev = argv[1];
	want_mask = strtoul(argv[2], NULL, 0);
	want_mode = strtoul(argv[3], NULL, 0);
	want_of = strtoul(argv[4], NULL, 0);
	pagesz = sysconf(_SC_PAGESIZE);
	fd = open(F("/dev/%s", dev), O_RDWR);
	if (fd < 0) {
		printf("not ok - %s open /dev/%s\n# expected an fd got %s\n", ABI, dev, errname(errno));
		return 1;
	}
	guard = mmap(NULL, 2 * pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED || ro == MAP_FAILED)
		return 1;
	none = guard + pagesz;
	mprotect(none, pagesz, PROT_NONE);
	/* The read-only page holds a valid EXPORT argument. */
	{
		u_dma_buf_ioctl_export_args x = { .flags = O_RDWR };

		memcpy(ro, &x, sizeof(x));
	}
	mprotect(ro, pagesz, PROT_READ);
	bufsize = attr_u64(dev, "size");
	allocsize = (bufsize + pagesz - 1) / pagesz * pagesz;
	phys = attr_u64(dev, "phys_addr");

	tap(1, T("ioctl numbers 0x80185501..0xC028550A and structure sizes 24/24/24/40 as §8 (checked at compile time)"), "");
	test_get_sync();	/* first: it checks the initial state */
	test_drv_info();
	test_size_addr_owner();
	test_dev_info();
	test_set_sync();
	test_set_sync_invalid();
	test_encoded();
	test_bad_pointers();
	test_unknown();
	test_export();
	close(fd);
	return 0;
}
