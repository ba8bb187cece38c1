// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * export_test: dma-buf export (INTERFACE.md §8 EXPORT, §9).  Prints TAP.
 *
 *   export_test data DEV          sub-range exports: mmap + DMA_BUF_IOCTL_SYNC round
 *                                 trips with the node's own mapping and read()/write(),
 *                                 mapping limits, an O_SYNC export without SIGBUS
 *   export_test life NAME         (a manager buffer) delete refused with EBUSY while an
 *                                 export or its mapping lives, rmmod refused while an
 *                                 export exists, delete works once both are gone
 *   export_test import DEV KO     a kernel importer (tests/kmod/udmabuf_import_test):
 *                                 the module is loaded by this process with the
 *                                 dma-buf fd open, checks what was written here, and
 *                                 writes a pattern back that is checked here
 */
#include "tap.h"
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/dma-buf.h>
#include "u-dma-buf-ioctl.h"

static const char *dev;
static int fd;
static size_t pg, bufsize, allocsize;
static uint64_t phys;

#define T(what) S("%s: %s", dev, what)

static int export(uint64_t flags, uint64_t off, uint64_t size, uint64_t *addr)
{
	u_dma_buf_ioctl_export_args a = { .flags = flags, .offset = off, .size = size, .fd = -1 };

	if (ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a) < 0)
		return -errno;
	if (addr)
		*addr = a.addr;
	return a.fd;
}

static int dsync(int dfd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dfd, DMA_BUF_IOCTL_SYNC, &s) < 0 ? errno : 0;
}

static int hand(const char *which)
{
	int e = sync_stored(dev, which);

	if (e)
		diag("writing 1 to %s failed with %s", which, errname(e));
	return e;
}

/* "" when the node's mapping and pread() both show the pattern at [off, off + len). */
static const char *node_has(const uint8_t *nmap, size_t off, size_t len, unsigned int seed)
{
	uint8_t *tmp = xmalloc(len);
	long bad = pat_find_bad(nmap + off, off, len, seed);
	const char *why = "";

	if (bad >= 0)
		why = S("node mapping differs at buffer offset %zu; ", off + bad);
	if (pread_all(fd, tmp, len, off) != (ssize_t)len)
		why = S("%snode pread failed: %s; ", why, errname(errno));
	else if ((bad = pat_find_bad(tmp, off, len, seed)) >= 0)
		why = S("%snode pread differs at buffer offset %zu; ", why, off + bad);
	free(tmp);
	return why;
}

static int zero_node(void)
{
	uint8_t *z = calloc(1, bufsize);
	int e = pwrite_all(fd, z, bufsize, 0) == (ssize_t)bufsize ? 0 : errno;

	free(z);
	return e | hand("sync_for_device");
}

typedef uint16_t u16u __attribute__((aligned(1)));
typedef uint32_t u32u __attribute__((aligned(1)));
typedef uint64_t u64u __attribute__((aligned(1)));

static uint8_t *child_map;
static size_t child_len;

/* In a child: memset and unaligned accesses on an uncached mapping (§12.8). */
static int touch_uncached(void *arg)
{
	volatile uint8_t *p = child_map;
	uint64_t sum = 0;

	(void)arg;
	memset(child_map, 0x5a, child_len);
	for (size_t off = 1; off + 16 < child_len; off += 4093) {
		*(volatile u16u *)(p + off) = 0x1234;
		*(volatile u32u *)(p + off + 3) = 0x12345678;
		*(volatile u64u *)(p + off + 7) = 0x1122334455667788ull;
		sum += *(volatile u16u *)(p + off) + *(volatile u32u *)(p + off + 3) +
		       *(volatile u64u *)(p + off + 7);
	}
	return sum ? 0 : 3;
}

static int cmd_data(void)
{
	size_t off = pg, len = 2 * pg;
	uint64_t addr = 0;
	uint8_t *nmap, *dmap, *dmap1;
	int dfd, e;
	const char *why;

	nmap = mmap(NULL, allocsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!tap(nmap != MAP_FAILED, T("mmap of the node"), "expected a mapping got %s", errname(errno)))
		return 1;
	if (zero_node())
		diag("zeroing the buffer failed");

	/* 1. Written through the dma-buf mapping, seen by the node. */
	dfd = export(O_RDWR | O_CLOEXEC, off, len, &addr);
	if (!tap(dfd >= 0 && addr == phys + off, T("EXPORT of pages 1..2: addr = phys_addr + offset"),
		 "expected an fd and 0x%llx got %s, 0x%llx", (unsigned long long)(phys + off),
		 dfd < 0 ? errname(-dfd) : "an fd", (unsigned long long)addr))
		return 1;
	dmap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (!tap(dmap != MAP_FAILED, T("mmap of the whole dma-buf"), "expected a mapping got %s", errname(errno)))
		return 1;
	e = dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	pat_fill(dmap, off, len, 11);
	e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	tap(!e, T("DMA_BUF_IOCTL_SYNC START|WRITE and END|WRITE succeed"), "expected 0 got %s", errname(e));
	hand("sync_for_cpu");
	why = node_has(nmap, off, len, 11);
	tap(!why[0], T("bytes written through the dma-buf mapping (after END) are in the node's mapping and read() at the exported offset (after sync_for_cpu)"),
	    "expected the pattern got %s", why);
	{
		long bad = -1;

		for (size_t i = 0; i < allocsize; i++)
			if ((i < off || i >= off + len) && nmap[i]) {
				bad = i;
				break;
			}
		tap(bad < 0, T("the bytes outside the exported range are untouched"),
		    "expected 0 got 0x%02x at buffer offset %ld", bad >= 0 ? nmap[bad] : 0, bad);
	}

	/* 2. Written by the node's write(), seen through the dma-buf mapping. */
	hand("sync_for_cpu");
	{
		uint8_t *src = xmalloc(len);

		pat_fill(src, off, len, 12);
		e = pwrite_all(fd, src, len, off) == (ssize_t)len ? 0 : errno;
		free(src);
	}
	e |= hand("sync_for_device");
	e |= dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	{
		long bad = pat_find_bad(dmap, off, len, 12);

		e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		tap(!e && bad < 0, T("bytes written by the node's write() (after sync_for_device) are seen through the dma-buf mapping after START|READ"),
		    "expected the pattern got %s, first difference at %ld", errname(e), bad);
	}

	/* 3. A mapping of the dma-buf at a page offset, and the limits. */
	dmap1 = mmap(NULL, pg, PROT_READ, MAP_SHARED, dfd, pg);
	tap(dmap1 != MAP_FAILED && pat_find_bad(dmap1, off + pg, pg, 12) < 0,
	    T("mmap of the dma-buf at page offset 1 shows buffer page 2"), "expected the pattern got %s",
	    dmap1 == MAP_FAILED ? errname(errno) : "other bytes");
	if (dmap1 != MAP_FAILED)
		munmap(dmap1, pg);
	dmap1 = mmap(NULL, len + pg, PROT_READ, MAP_SHARED, dfd, 0);
	tap(dmap1 == MAP_FAILED && errno == EINVAL, T("mmap of the dma-buf one page longer than the export -> EINVAL"),
	    "expected EINVAL got %s", dmap1 == MAP_FAILED ? errname(errno) : "a mapping");
	if (dmap1 != MAP_FAILED)
		munmap(dmap1, len + pg);
	dmap1 = mmap(NULL, pg, PROT_READ, MAP_SHARED, dfd, len);
	tap(dmap1 == MAP_FAILED && errno == EINVAL, T("mmap of the dma-buf at a page offset past the export -> EINVAL"),
	    "expected EINVAL got %s", dmap1 == MAP_FAILED ? errname(errno) : "a mapping");
	if (dmap1 != MAP_FAILED)
		munmap(dmap1, pg);
	dmap1 = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, dfd, 0);
	tap(dmap1 == MAP_FAILED, T("MAP_PRIVATE of the dma-buf is refused"), "expected an error got a mapping");
	if (dmap1 != MAP_FAILED)
		munmap(dmap1, pg);
	munmap(dmap, len);
	close(dfd);

	/* 4. size 0 = to the end; a read-only export cannot be mapped writable. */
	dfd = export(O_RDONLY, allocsize - pg, 0, &addr);
	if (tap(dfd >= 0 && addr == phys + allocsize - pg && lseek(dfd, 0, SEEK_END) == (off_t)pg,
		T("EXPORT O_RDONLY of the last page with size 0: one page, addr = phys_addr + offset"),
		"expected an fd of one page got %s", dfd < 0 ? errname(-dfd) : "another size or address")) {
		dmap = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
		tap(dmap == MAP_FAILED && errno == EACCES, T("a writable mapping of an O_RDONLY export -> EACCES"),
		    "expected EACCES got %s", dmap == MAP_FAILED ? errname(errno) : "a mapping");
		if (dmap != MAP_FAILED)
			munmap(dmap, pg);
		dmap = mmap(NULL, pg, PROT_READ, MAP_SHARED, dfd, 0);
		tap(dmap != MAP_FAILED, T("a read-only mapping of an O_RDONLY export works"), "expected a mapping got %s",
		    errname(errno));
		if (dmap != MAP_FAILED)
			munmap(dmap, pg);
		close(dfd);
	}

	/* 5. O_SYNC export: uncached CPU mappings, no SIGBUS, data reaches memory. */
	dfd = export(O_RDWR | O_SYNC, 0, 0, NULL);
	if (tap(dfd >= 0, T("EXPORT O_RDWR|O_SYNC of the whole buffer"), "expected an fd got %s",
		dfd < 0 ? errname(-dfd) : "")) {
		dmap = mmap(NULL, allocsize, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
		if (tap(dmap != MAP_FAILED, T("mmap of the O_SYNC export"), "expected a mapping got %s", errname(errno))) {
			const char *how;

			child_map = dmap;
			child_len = allocsize;
			how = run_child(touch_uncached, NULL);
			tap(!strcmp(how, "0"), T("memset and unaligned 2/4/8-byte loads and stores on the O_SYNC export's mapping: no SIGBUS (§12.8)"),
			    "expected a clean exit got %s", how);
			hand("sync_for_cpu");
			e = dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
			pat_fill(dmap, 0, allocsize, 13);
			e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
			hand("sync_for_cpu");
			why = node_has(nmap, 0, bufsize, 13);
			tap(!e && !why[0], T("bytes written through the O_SYNC export's mapping are in the node's mapping and read()"),
			    "expected the pattern got %s %s", errname(e), why);
			munmap(dmap, allocsize);
		}
		close(dfd);
	}
	munmap(nmap, allocsize);
	return 0;
}

static int mgr(const char *cmd)
{
	int m = open("/dev/u-dma-buf-mgr", O_WRONLY);
	ssize_t n;
	int e = 0;

	if (m < 0)
		return errno;
	n = write(m, cmd, strlen(cmd));
	if (n < 0)
		e = errno;
	close(m);
	return e;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int cmd_life(void)
{
	char del[128];
	uint8_t *dmap;
	int dfd, e;
	long r;

	snprintf(del, sizeof(del), "delete %s\n", dev);
	dfd = export(O_RDWR | O_CLOEXEC, 0, 0, NULL);
	close(fd);
	if (!tap(dfd >= 0, T("EXPORT of the whole buffer, then the node is closed"), "expected an fd got %s",
		 dfd < 0 ? errname(-dfd) : ""))
		return 1;
	e = mgr(del);
	tap(e == EBUSY && exists(S("/dev/%s", dev)), T("manager delete while the dma-buf fd is open -> EBUSY, the node stays"),
	    "expected EBUSY got %s", errname(e));
	r = syscall(SYS_delete_module, "u_dma_buf", O_NONBLOCK);
	e = r < 0 ? errno : 0;
	tap(r < 0 && exists("/sys/module/u_dma_buf"), T("rmmod u_dma_buf while an export exists is refused"),
	    "expected an error got %s", errname(e));
	if (r == 0)
		return 1;	/* nothing else can be tested */
	dmap = mmap(NULL, allocsize, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (!tap(dmap != MAP_FAILED, T("mmap of the dma-buf"), "expected a mapping got %s", errname(errno)))
		return 1;
	close(dfd);
	e = mgr(del);
	tap(e == EBUSY && exists(S("/dev/%s", dev)),
	    T("manager delete while only a mapping of the dma-buf is left -> EBUSY, the node stays"),
	    "expected EBUSY got %s", errname(e));
	pat_fill(dmap, 0, allocsize, 14);
	tap(pat_find_bad(dmap, 0, allocsize, 14) < 0, T("the mapping still works after the refused delete"),
	    "expected the pattern got other bytes");
	munmap(dmap, allocsize);
	e = mgr(del);
	tap(!e && !exists(S("/dev/%s", dev)) && !exists(S(SYSFS_CLASS "/%s", dev)),
	    T("manager delete once the dma-buf fd and its mapping are gone works: node and sysfs directory gone"),
	    "expected success got %s, /dev/%s %s", errname(e), dev, exists(S("/dev/%s", dev)) ? "exists" : "gone");
	return 0;
}

static int cmd_import(const char *ko)
{
	size_t off = pg, len = allocsize - 2 * pg;
	uint64_t addr = 0;
	uint8_t *dmap;
	int dfd, e, st;
	pid_t pid;

	dfd = export(O_RDWR, off, len, &addr);	/* no O_CLOEXEC: the loader inherits it */
	if (!tap(dfd >= 0, T("EXPORT without O_CLOEXEC for the importer"), "expected an fd got %s",
		 dfd < 0 ? errname(-dfd) : ""))
		return 1;
	dmap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (!tap(dmap != MAP_FAILED, T("mmap of the dma-buf"), "expected a mapping got %s", errname(errno)))
		return 1;
	e = dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	pat_fill(dmap, 0, len, 21);
	e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		const char *bin = getenv("BIN");

		dup2(null, 1);
		execl(S("%s/modctl", bin ? bin : "/t/bin"), "modctl", "load", ko, S("fd=%d", dfd), S("size=%zu", len),
		      S("addr=0x%llx", (unsigned long long)addr), "seed=21", "wseed=22", (char *)NULL);
		_exit(127);
	}
	st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	tap(!e && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    T("the importer module loads in a process that holds the dma-buf fd"),
	    "expected the load to succeed got wait status 0x%x (modctl: 1 = the load failed), sync %s", st, errname(e));
	e = dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	{
		long bad = pat_find_bad(dmap, 0, len, 22);

		e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
		tap(!e && bad < 0, T("bytes the importer wrote through its vmap are seen through the dma-buf mapping"),
		    "expected the pattern got %s, first difference at %ld", errname(e), bad);
	}
	hand("sync_for_cpu");
	{
		uint8_t *tmp = xmalloc(len);
		long bad = pread_all(fd, tmp, len, off) == (ssize_t)len ? pat_find_bad(tmp, 0, len, 22) : -2;

		tap(bad == -1, T("bytes the importer wrote are seen by the node's read() at the exported offset"),
		    "expected the pattern got %s", bad == -2 ? "a failed read" : S("a difference at %ld", bad));
		free(tmp);
	}
	munmap(dmap, len);
	close(dfd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: export_test data DEV | life NAME | import DEV KO\n");
		return 2;
	}
	dev = argv[2];
	pg = sysconf(_SC_PAGESIZE);
	fd = open(S("/dev/%s", dev), O_RDWR);
	if (fd < 0) {
		printf("not ok - open /dev/%s\n# expected an fd got %s\n", dev, errname(errno));
		return 1;
	}
	bufsize = attr_u64(dev, "size");
	allocsize = (bufsize + pg - 1) / pg * pg;
	phys = attr_u64(dev, "phys_addr");
	if (allocsize < 4 * pg) {
		printf("not ok - %s: export_test needs at least four pages\n", dev);
		return 1;
	}
	if (!strcmp(argv[1], "data"))
		return cmd_data();
	if (!strcmp(argv[1], "life"))
		return cmd_life();
	if (!strcmp(argv[1], "import") && argc == 4)
		return cmd_import(argv[3]);
	fprintf(stderr, "usage: export_test data DEV | life NAME | import DEV KO\n");
	return 2;
}
