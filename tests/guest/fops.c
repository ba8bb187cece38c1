// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fops DEV [LABEL]: the file operations of /dev/DEV (INTERFACE.md §4, §12.2, §12.3,
 * §13.10): read/write/llseek at and past the end, bad user pointers, mmap with
 * offsets and past the end, MAP_PRIVATE, fsync/msync. Prints TAP.
 */
#include "tap.h"
#include <limits.h>

static const char *dev;
static char label[64];
static char node[64];
static size_t size, alloc, pg;

static int xopen(int flags)
{
	int fd = open(node, flags);

	if (fd < 0) {
		printf("not ok - open %s\n# expected a file descriptor got %s\n", node, errname(errno));
		exit(1);
	}
	return fd;
}

static const char *T(const char *what)
{
	return S("%s%s (size %zu): %s", label, dev, size, what);
}

/* Fills the whole buffer with pat(seed) through write(). */
static void fill(int fd, unsigned int seed)
{
	uint8_t *b = xmalloc(size);

	pat_fill(b, 0, size, seed);
	if (pwrite_all(fd, b, size, 0) != (ssize_t)size) {
		printf("not ok - %s\n# expected %zu bytes got %s\n", T("fill through write()"),
		       size, errname(errno));
		exit(1);
	}
	free(b);
}

static void test_open_modes(void)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDWR | O_SYNC };
	static const char *const names[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_RDWR|O_SYNC" };

	for (int i = 0; i < 4; i++) {
		int fd = open(node, modes[i]);

		tap(fd >= 0, T(S("open with %s works", names[i])), "expected a descriptor got %s",
		    errname(errno));
		if (fd >= 0)
			close(fd);
	}
}

static void test_read_edges(int fd)
{
	uint8_t b[256], exp[256];
	ssize_t r;
	off_t o;

	fill(fd, 1);
	o = lseek(fd, size, SEEK_SET);
	r = read(fd, b, sizeof(b));
	tap(o == (off_t)size && r == 0, T("read exactly at the end returns 0"),
	    "expected lseek %zu and read 0 got lseek %s and read %s", size, res(o, errno),
	    res(r, errno));
	r = pread(fd, b, sizeof(b), size + 1);
	tap(r == 0, T("pread one byte past the end returns 0"), "expected 0 got %s", res(r, errno));
	r = pread(fd, b, sizeof(b), size + 100 * pg);
	tap(r == 0, T("pread 100 pages past the end returns 0"), "expected 0 got %s",
	    res(r, errno));
	r = pread(fd, b, sizeof(b), (off_t)1 << 40);
	tap(r == 0, T("pread at 1 TiB returns 0"), "expected 0 got %s", res(r, errno));

	memset(b, 0, sizeof(b));
	pat_fill(exp, size - 10, 10, 1);
	r = pread(fd, b, sizeof(b), size - 10);
	tap(r == 10 && !memcmp(b, exp, 10), T("pread of 256 bytes at size-10 returns the last 10 bytes"),
	    "expected 10 bytes of the pattern got %s (match %d)", res(r, errno), !memcmp(b, exp, 10));

	lseek(fd, size - 3, SEEK_SET);
	r = read(fd, b, sizeof(b));
	o = lseek(fd, 0, SEEK_CUR);
	tap(r == 3 && o == (off_t)size, T("read() at size-3 returns 3 bytes and moves the position to the end"),
	    "expected 3 and position %zu got %s and %s", size, res(r, errno), res(o, errno));

	r = pread(fd, b, 0, 0);
	tap(r == 0, T("read of 0 bytes returns 0"), "expected 0 got %s", res(r, errno));

	lseek(fd, 0, SEEK_SET);
	r = read(fd, b, sizeof(b));
	pat_fill(exp, 0, sizeof(exp), 1);
	tap(r == (ssize_t)sizeof(b) && !memcmp(b, exp, sizeof(b)), T("read() at 0 returns the data written"),
	    "expected %zu matching bytes got %s", sizeof(b), res(r, errno));
}

static void test_write_edges(int fd)
{
	uint8_t b[256], got[16];
	uint8_t *map = mmap(NULL, alloc, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	size_t tail = alloc - size;
	ssize_t r;
	long bad;
	off_t o;

	memset(b, 0x5a, sizeof(b));
	r = pwrite(fd, b, sizeof(b), size);
	tap(r < 0 && errno == ENOSPC, T("pwrite exactly at the end fails with ENOSPC"),
	    "expected ENOSPC got %s", res(r, errno));
	r = pwrite(fd, b, sizeof(b), size + 1);
	tap(r < 0 && errno == ENOSPC, T("pwrite one byte past the end fails with ENOSPC"),
	    "expected ENOSPC got %s", res(r, errno));
	r = pwrite(fd, b, sizeof(b), (off_t)1 << 40);
	tap(r < 0 && errno == ENOSPC, T("pwrite at 1 TiB fails with ENOSPC"),
	    "expected ENOSPC got %s", res(r, errno));
	o = lseek(fd, 0, SEEK_END);
	r = write(fd, b, 1);
	tap(r < 0 && errno == ENOSPC, T("write() after lseek(0, SEEK_END) fails with ENOSPC"),
	    "expected ENOSPC got %s (lseek %s)", res(r, errno), res(o, errno));

	if (map == MAP_FAILED) {
		tap(0, T("mmap of the page-rounded size for the partial-write test"),
		    "expected a mapping got %s", errname(errno));
		return;
	}
	/* Bytes between size and the end of the last page, which write() must not reach. */
	memset(map + size, 0xc3, tail);
	fill(fd, 2);
	r = pwrite(fd, b, sizeof(b), size - 10);
	pread(fd, got, 10, size - 10);
	tap(r == 10 && !memcmp(got, b, 10), T("pwrite of 256 bytes at size-10 writes the last 10 bytes"),
	    "expected 10 bytes of 0x5a got %s (match %d)", res(r, errno), !memcmp(got, b, 10));
	bad = -1;
	for (size_t i = 0; i < tail; i++)
		if (map[size + i] != 0xc3) {
			bad = i;
			break;
		}
	if (tail)
		tap(bad < 0, T("a write at the end does not touch the rest of the last page"),
		    "expected 0xc3 past the size got 0x%02x at size+%ld", bad < 0 ? 0 : map[size + bad], bad);
	bad = pat_find_bad(map, 0, size - 10, 2);
	tap(bad < 0, T("a partial write at the end leaves the bytes before it alone"),
	    "expected the pattern got a difference at %ld", bad);
	r = pwrite(fd, b, 0, 0);
	tap(r == 0, T("write of 0 bytes returns 0"), "expected 0 got %s", res(r, errno));
	munmap(map, alloc);
}

static void test_bad_pointers(int fd)
{
	uint8_t *none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *ptrs[] = { (void *)8, none, (void *)(uintptr_t)-4096 };
	static const char *const names[] = { "address 8", "a PROT_NONE page", "the last page of the address space" };
	ssize_t r;

	for (int i = 0; i < 3; i++) {
		lseek(fd, 0, SEEK_SET);
		r = read(fd, ptrs[i], 64);
		tap(r < 0 && errno == EFAULT, T(S("read() into %s fails with EFAULT", names[i])),
		    "expected EFAULT got %s", res(r, errno));
		r = write(fd, ptrs[i], 64);
		tap(r < 0 && errno == EFAULT, T(S("write() from %s fails with EFAULT", names[i])),
		    "expected EFAULT got %s", res(r, errno));
	}
	munmap(none, pg);
}

static void test_llseek(int fd)
{
	struct { off_t set; off_t off; int whence; off_t expect; const char *what; } c[] = {
		{ 0, 0, SEEK_END, size, "lseek(0, SEEK_END) returns the size" },
		{ 0, size, SEEK_SET, size, "lseek(size, SEEK_SET) returns the size" },
		{ 0, size + 1, SEEK_SET, -EINVAL, "lseek(size+1, SEEK_SET) fails with EINVAL" },
		{ 0, -1, SEEK_SET, -EINVAL, "lseek(-1, SEEK_SET) fails with EINVAL" },
		{ 0, LLONG_MAX, SEEK_SET, -EINVAL, "lseek(LLONG_MAX, SEEK_SET) fails with EINVAL" },
		{ 0, 1, SEEK_END, -EINVAL, "lseek(1, SEEK_END) fails with EINVAL" },
		{ 0, -(off_t)size, SEEK_END, 0, "lseek(-size, SEEK_END) returns 0" },
		{ 0, -(off_t)size - 1, SEEK_END, -EINVAL, "lseek(-size-1, SEEK_END) fails with EINVAL" },
		{ 100, 50, SEEK_CUR, 150, "lseek(50, SEEK_CUR) at 100 returns 150" },
		{ 100, -100, SEEK_CUR, 0, "lseek(-100, SEEK_CUR) at 100 returns 0" },
		{ 100, -101, SEEK_CUR, -EINVAL, "lseek(-101, SEEK_CUR) at 100 fails with EINVAL" },
		{ 100, size - 100, SEEK_CUR, size, "lseek(size-100, SEEK_CUR) at 100 returns the size" },
		{ 100, size - 99, SEEK_CUR, -EINVAL, "lseek(size-99, SEEK_CUR) at 100 fails with EINVAL" },
		{ 100, LLONG_MAX - 50, SEEK_CUR, -EINVAL, "lseek(LLONG_MAX-50, SEEK_CUR) at 100 fails with EINVAL" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		off_t r;

		lseek(fd, c[i].set, SEEK_SET);
		errno = 0;
		r = lseek(fd, c[i].off, c[i].whence);
		if (c[i].expect >= 0)
			tap(r == c[i].expect, T(c[i].what), "expected %lld got %s",
			    (long long)c[i].expect, res(r, errno));
		else
			tap(r < 0 && errno == -c[i].expect, T(c[i].what), "expected %s got %s",
			    errname(-c[i].expect), res(r, errno));
	}
}

static void test_mmap(int fd)
{
	uint8_t *b = xmalloc(size), *whole, *m;
	size_t last = (alloc / pg - 1) * pg;
	size_t offs[] = { pg, last };
	long bad;
	int r;

	whole = mmap(NULL, alloc, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap(whole != MAP_FAILED, T(S("MAP_SHARED of the page-rounded size %zu works", alloc)),
	    "expected a mapping got %s", errname(errno));
	if (whole == MAP_FAILED)
		exit(1);
	whole[alloc - 1] = 0x11;
	tap(whole[alloc - 1] == 0x11, T("the last byte of the last page can be written and read"),
	    "expected 0x11 got 0x%02x", whole[alloc - 1]);

	for (int i = 0; i < 2; i++) {
		size_t off = offs[i], n = size - off < pg ? size - off : pg;

		if (off >= size)
			continue;
		fill(fd, 10 + i);
		m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		if (!tap(m != MAP_FAILED, T(S("mmap of one page at offset %zu works", off)),
			 "expected a mapping got %s", errname(errno)))
			continue;
		bad = pat_find_bad(m, off, n, 10 + i);
		tap(bad < 0, T(S("a mapping at offset %zu shows the bytes written there by write()", off)),
		    "expected pattern byte 0x%02x got 0x%02x at +%ld", pat(off + (bad < 0 ? 0 : bad), 10 + i),
		    m[bad < 0 ? 0 : bad], bad);
		bad = pat_find_bad(whole + off, off, n, 10 + i);
		tap(bad < 0, T(S("the whole mapping shows the same bytes at offset %zu", off)),
		    "expected the pattern got a difference at +%ld", bad);
		pat_fill(m, off, n, 20 + i);
		memset(b, 0, n);
		r = pread(fd, b, n, off) == (ssize_t)n;
		bad = r ? pat_find_bad(b, off, n, 20 + i) : 0;
		tap(r && bad < 0, T(S("bytes stored through the mapping at offset %zu are read back by read()", off)),
		    "expected the pattern got a difference at +%ld (read %s)", bad, r ? "ok" : errname(errno));
		bad = pat_find_bad(whole + off, off, n, 20 + i);
		tap(bad < 0, T(S("bytes stored through the mapping at offset %zu show in a mapping at 0", off)),
		    "expected the pattern got a difference at +%ld", bad);
		munmap(m, pg);
	}

	m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, alloc);
	tap(m == MAP_FAILED && errno == EINVAL, T("mmap of one page at the page-rounded size fails with EINVAL"),
	    "expected EINVAL got %s", m == MAP_FAILED ? errname(errno) : "a mapping");
	m = mmap(NULL, alloc + pg, PROT_READ, MAP_SHARED, fd, 0);
	tap(m == MAP_FAILED && errno == EINVAL, T("mmap one page longer than the buffer fails with EINVAL"),
	    "expected EINVAL got %s", m == MAP_FAILED ? errname(errno) : "a mapping");
	m = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, alloc - pg);
	tap(m == MAP_FAILED && errno == EINVAL, T("mmap of two pages from the last page fails with EINVAL"),
	    "expected EINVAL got %s", m == MAP_FAILED ? errname(errno) : "a mapping");
	m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, (off_t)1 << 40);
#if __SIZEOF_LONG__ == 4
	/*
	 * A 32-bit kernel maps a character device only below ULONG_MAX (file_mmap_ok()):
	 * it refuses the offset with EOVERFLOW before the driver's mmap is called.
	 */
	tap(m == MAP_FAILED && errno == EOVERFLOW,
	    T("mmap at offset 1 TiB fails with EOVERFLOW (32-bit kernel: past ULONG_MAX)"),
	    "expected EOVERFLOW got %s", m == MAP_FAILED ? errname(errno) : "a mapping");
#else
	tap(m == MAP_FAILED && errno == EINVAL, T("mmap at offset 1 TiB fails with EINVAL"),
	    "expected EINVAL got %s", m == MAP_FAILED ? errname(errno) : "a mapping");
#endif

	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	tap(m == MAP_FAILED && errno == EINVAL, T("MAP_PRIVATE read-write fails with EINVAL"),
	    "expected EINVAL got %s", m == MAP_FAILED ? errname(errno) : "a mapping");
	m = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	tap(m == MAP_FAILED && errno == EINVAL, T("MAP_PRIVATE read-only fails with EINVAL"),
	    "expected EINVAL got %s", m == MAP_FAILED ? errname(errno) : "a mapping");
	if (m != MAP_FAILED)
		munmap(m, pg);

	munmap(whole, alloc);
	free(b);
}

static void test_fsync(int fd)
{
	uint8_t *m = mmap(NULL, alloc, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char owner[16];
	int r, e;

	if (m == MAP_FAILED) {
		tap(0, T("mmap for the fsync tests"), "expected a mapping got %s", errname(errno));
		return;
	}
	memset(m, 0x77, size);
	r = fsync(fd);
	tap(r == 0, T("fsync() returns 0"), "expected 0 got %s", res(r, errno));
	r = fdatasync(fd);
	tap(r == 0, T("fdatasync() returns 0"), "expected 0 got %s", res(r, errno));
	r = msync(m, alloc, MS_SYNC);
	tap(r == 0, T("msync(MS_SYNC) returns 0"), "expected 0 got %s", res(r, errno));
	r = msync(m, alloc, MS_ASYNC);
	tap(r == 0, T("msync(MS_ASYNC) returns 0"), "expected 0 got %s", res(r, errno));

	/* §13.10: no change of sync_owner, in either state. */
	for (int want = 1; want >= 0; want--) {
		e = sync_stored(dev, want ? "sync_for_device" : "sync_for_cpu");
		r = fsync(fd);
		attr_read(dev, "sync_owner", owner, sizeof(owner));
		tap(r == 0 && e == 0 && atoi(owner) == want,
		    T(S("fsync() leaves sync_owner at %d", want)), "expected fsync 0 and owner %d got fsync %s, owner %s (sync write %s)",
		    want, res(r, errno), owner, errname(e));
	}
	munmap(m, alloc);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: fops DEV [LABEL]\n");
		return 2;
	}
	dev = argv[1];
	if (argc == 3)
		snprintf(label, sizeof(label), "%s: ", argv[2]);
	snprintf(node, sizeof(node), "/dev/%s", dev);
	pg = sysconf(_SC_PAGESIZE);
	size = attr_u64(dev, "size");
	alloc = (size + pg - 1) / pg * pg;

	test_open_modes();
	fd = xopen(O_RDWR);
	test_read_edges(fd);
	test_write_edges(fd);
	test_bad_pointers(fd);
	test_llseek(fd);
	test_mmap(fd);
	test_fsync(fd);
	close(fd);
	return 0;
}
