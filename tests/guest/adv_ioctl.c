// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * adv_ioctl: the ioctls under attack (issue 10; INTERFACE.md §9, §13.15, §13.19).  Prints TAP.
 *
 *   adv_ioctl access DEV           §13.15: EXPORT refuses (EACCES) an access mode the fd
 *                                  was not opened with; SET_SYNC needs an fd opened for
 *                                  writing (EBADF, nothing changes); the one-off sync
 *                                  commands and the GET ioctls work on an O_RDONLY fd
 *   adv_ioctl export DEV           §9: EXPORT of a buffer in mmap mode "off": the dma-buf
 *                                  maps, reads what was written through the node, and
 *                                  what is written through it reads back through the node
 *   adv_ioctl gone DEV FILE TEXT   §13.19: with DEV open and mapped, TEXT is written to
 *                                  FILE (the removal or unbind of DEV's parent); then
 *                                  GET_DMA_ADDR, GET_DEV_INFO and EXPORT -> ENODEV while
 *                                  read, write, mmap and the sync ioctls keep working
 */
#include "tap.h"
#include <sys/ioctl.h>
#include <linux/dma-buf.h>
#include "u-dma-buf-ioctl.h"

static const char *dev;
static size_t bufsize, allocsize;

#define T(what) S("%s: %s", dev, what)

static const char *mode_name(int m)
{
	return m == O_RDONLY ? "O_RDONLY" : m == O_WRONLY ? "O_WRONLY" : "O_RDWR";
}

static int open_node(int flags)
{
	int fd = open(S("/dev/%s", dev), flags);

	if (fd < 0) {
		printf("not ok - %s\n# expected an fd got %s\n", T(S("open /dev/%s %s", dev, mode_name(flags))),
		       errname(errno));
		exit(1);
	}
	return fd;
}

/* EXPORT on fd; the dma-buf fd, or -errno. */
static int export(int fd, uint64_t flags, uint64_t off, uint64_t size)
{
	u_dma_buf_ioctl_export_args a = { .flags = flags, .offset = off, .size = size, .fd = -1 };

	if (ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a) < 0)
		return -errno;
	return a.fd;
}

static int dsync(int dfd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dfd, DMA_BUF_IOCTL_SYNC, &s) < 0 ? errno : 0;
}

/* The one-off encoded sync command for [off, off + size), bidirectional. */
static uint64_t one_off(uint64_t off, uint64_t size)
{
	return off << 32 | size | 3 << 2 | 1;
}

static int io(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? errno : 0;
}

/* --- access ------------------------------------------------------------ */

static void expect_export(int fd, int fd_mode, int want_mode, int allowed)
{
	int dfd = export(fd, want_mode | O_CLOEXEC, 0, 0);
	const char *what = S("EXPORT asking %s on an fd opened %s -> %s", mode_name(want_mode),
			     mode_name(fd_mode), allowed ? "a dma-buf fd" : "EACCES");

	if (allowed) {
		tap(dfd >= 0, T(what), "expected a dma-buf fd got %s", errname(-dfd));
	} else if (!tap(dfd == -EACCES, T(what), "expected EACCES got %s",
			dfd >= 0 ? "a dma-buf fd" : errname(-dfd)) && dfd >= 0 &&
		   (want_mode == O_RDWR || want_mode == O_WRONLY)) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);

		diag("and that dma-buf %s mapped writable", p == MAP_FAILED ? "cannot be" : "CAN be");
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	if (dfd >= 0)
		close(dfd);
}

static const char *sync_str(const u_dma_buf_ioctl_sync_args *s)
{
	return S("flags 0x%llx size %llu offset %llu", (unsigned long long)s->flags,
		 (unsigned long long)s->size, (unsigned long long)s->offset);
}

static int cmd_access(void)
{
	int ro = open_node(O_RDONLY), wo = open_node(O_WRONLY), rw = open_node(O_RDWR);
	u_dma_buf_ioctl_sync_args before, after, set;
	u_dma_buf_ioctl_dev_info di;
	u_dma_buf_ioctl_drv_info dri;
	uint64_t v, cmd;
	uint32_t owner = 9;
	int dfd, e;
	void *p;

	/* EXPORT follows the access mode of the fd it is called on. */
	expect_export(ro, O_RDONLY, O_RDWR, 0);
	expect_export(ro, O_RDONLY, O_WRONLY, 0);
	expect_export(ro, O_RDONLY, O_RDONLY, 1);
	expect_export(wo, O_WRONLY, O_RDONLY, 0);
	expect_export(wo, O_WRONLY, O_RDWR, 0);
	expect_export(wo, O_WRONLY, O_WRONLY, 1);
	expect_export(rw, O_RDWR, O_RDWR, 1);
	expect_export(rw, O_RDWR, O_RDONLY, 1);

	/* A read-only export maps for reading only. */
	dfd = export(ro, O_RDONLY | O_CLOEXEC, 0, 4096);
	if (dfd >= 0) {
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, dfd, 0);
		tap(p != MAP_FAILED, T("the O_RDONLY export of an O_RDONLY fd maps PROT_READ"),
		    "expected a mapping got %s", errname(errno));
		if (p != MAP_FAILED)
			munmap(p, 4096);
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
		e = errno;
		tap(p == MAP_FAILED && e == EACCES,
		    T("the O_RDONLY export of an O_RDONLY fd cannot be mapped PROT_WRITE -> EACCES"),
		    "expected EACCES got %s", p == MAP_FAILED ? errname(e) : "a writable mapping");
		if (p != MAP_FAILED)
			munmap(p, 4096);
		close(dfd);
	}

	/* SET_SYNC changes what every user shares: it needs an fd opened for writing. */
	e = io(ro, U_DMA_BUF_IOCTL_GET_SYNC, &before);
	tap(!e, T("GET_SYNC on an O_RDONLY fd works"), "expected 0 got %s", errname(e));
	memset(&set, 0, sizeof(set));
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&set, 1);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&set, 5);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&set, U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_DEVICE);
	set.offset = 4096;
	set.size = 4096;
	e = io(ro, U_DMA_BUF_IOCTL_SET_SYNC, &set);
	tap(e == EBADF, T("SET_SYNC (direction 1, sync_mode 5, offset 4096, size 4096) on an O_RDONLY fd -> EBADF"),
	    "expected EBADF got %s", errname(e));
	io(ro, U_DMA_BUF_IOCTL_GET_SYNC, &after);
	tap(!memcmp(&before, &after, sizeof(before)), T("the refused SET_SYNC changed nothing (GET_SYNC)"),
	    "expected %s got %s", sync_str(&before), sync_str(&after));
	{
		char mode[32];

		attr_read(dev, "sync_mode", mode, sizeof(mode));
		tap(strcmp(mode, "5"), T("the refused SET_SYNC left sysfs sync_mode unchanged"),
		    "expected the old sync_mode got %s", mode);
	}

	/* The one-off sync commands and the GET ioctls work on any fd. */
	cmd = one_off(0, 4096);
	e = io(ro, U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE, &cmd);
	io(ro, U_DMA_BUF_IOCTL_GET_SYNC_OWNER, &owner);
	tap(!e && owner == 1, T("SET_SYNC_FOR_DEVICE (one-off, 4096 bytes) on an O_RDONLY fd works: owner 1"),
	    "expected 0 and owner 1 got %s and owner %u", errname(e), owner);
	e = io(ro, U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd);
	io(ro, U_DMA_BUF_IOCTL_GET_SYNC_OWNER, &owner);
	tap(!e && owner == 0, T("SET_SYNC_FOR_CPU (one-off, 4096 bytes) on an O_RDONLY fd works: owner 0"),
	    "expected 0 and owner 0 got %s and owner %u", errname(e), owner);
	e = io(ro, U_DMA_BUF_IOCTL_GET_SIZE, &v);
	tap(!e && v == bufsize, T("GET_SIZE on an O_RDONLY fd works"), "expected %zu got %s/%llu",
	    bufsize, errname(e), (unsigned long long)v);
	e = io(ro, U_DMA_BUF_IOCTL_GET_DMA_ADDR, &v);
	tap(!e && v == attr_u64(dev, "phys_addr"), T("GET_DMA_ADDR on an O_RDONLY fd works"),
	    "expected 0x%llx got %s/0x%llx", attr_u64(dev, "phys_addr"), errname(e), (unsigned long long)v);
	e = io(ro, U_DMA_BUF_IOCTL_GET_DEV_INFO, &di);
	tap(!e && di.size == bufsize, T("GET_DEV_INFO on an O_RDONLY fd works"), "expected 0 got %s", errname(e));
	e = io(ro, U_DMA_BUF_IOCTL_GET_DRV_INFO, &dri);
	tap(!e, T("GET_DRV_INFO on an O_RDONLY fd works"), "expected 0 got %s", errname(e));

	/* A writer may still SET_SYNC (O_WRONLY counts); the values are put back. */
	set = before;
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&set, 0);
	e = io(wo, U_DMA_BUF_IOCTL_SET_SYNC, &set);
	tap(!e, T("SET_SYNC (the values it had) on an O_WRONLY fd works"), "expected 0 got %s", errname(e));
	e = io(rw, U_DMA_BUF_IOCTL_SET_SYNC, &set);
	tap(!e, T("SET_SYNC (the values it had) on an O_RDWR fd works"), "expected 0 got %s", errname(e));
	close(ro);
	close(wo);
	close(rw);
	return 0;
}

/* --- export of mode "off" ------------------------------------------------ */

static int cmd_export(void)
{
	int fd = open_node(O_RDWR), dfd, e;
	uint8_t *tmp = xmalloc(allocsize), *m;
	size_t pg = 4096, len = allocsize - pg;
	long bad;

	pat_fill(tmp, 0, bufsize, 61);
	tap(pwrite_all(fd, tmp, bufsize, 0) == (ssize_t)bufsize, T("write() of a pattern through the node"),
	    "expected %zu bytes got %s", bufsize, errname(errno));
	sync_stored(dev, "sync_for_device");
	dfd = export(fd, O_RDWR | O_CLOEXEC, 0, 0);
	if (!tap(dfd >= 0, T("EXPORT O_RDWR of the whole buffer (mmap mode off) works"),
		 "expected a dma-buf fd got %s", errname(-dfd)))
		return 0;
	m = mmap(NULL, allocsize, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (!tap(m != MAP_FAILED, T("the dma-buf of a mode-off buffer can be mmapped read/write"),
		 "expected a mapping got %s", errname(errno))) {
		close(dfd);
		return 0;
	}
	e = dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
	bad = pat_find_bad(m, 0, bufsize, 61);
	e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	tap(!e && bad < 0, T("DMA_BUF_IOCTL_SYNC START/END work and the dma-buf mapping reads what write() put in"),
	    "expected sync 0 and the pattern got sync %s, first difference at %ld", errname(e), bad);
	e = dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
	pat_fill(m, 0, bufsize, 62);
	e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
	sync_stored(dev, "sync_for_cpu");
	memset(tmp, 0, allocsize);
	bad = pread_all(fd, tmp, bufsize, 0) == (ssize_t)bufsize ? pat_find_bad(tmp, 0, bufsize, 62) : -2;
	tap(!e && bad == -1, T("what is written through the dma-buf mapping reads back through the node's read()"),
	    "expected sync 0 and the pattern got sync %s, %s", errname(e),
	    bad == -2 ? "a failed read" : S("first difference at %ld", bad));
	munmap(m, allocsize);
	close(dfd);

	/* A sub-range: one page in. */
	dfd = export(fd, O_RDWR | O_CLOEXEC, pg, len);
	if (tap(dfd >= 0, T("EXPORT of the range from the second page to the end (mode off) works"),
		"expected a dma-buf fd got %s", errname(-dfd))) {
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, dfd, 0);
		if (m != MAP_FAILED) {
			e = dsync(dfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
			bad = pat_find_bad(m, pg, bufsize - pg, 62);
			e |= dsync(dfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
			tap(!e && bad < 0, T("the sub-range dma-buf maps the buffer at that offset"),
			    "expected the pattern from offset %zu got sync %s, first difference at %ld", pg,
			    errname(e), bad);
			munmap(m, len);
		} else {
			tap(0, T("the sub-range dma-buf can be mmapped"), "expected a mapping got %s", errname(errno));
		}
		close(dfd);
	}
	free(tmp);
	close(fd);
	return 0;
}

/* --- the parent gone ------------------------------------------------------- */

static int cmd_gone(const char *file, const char *text)
{
	int fd = open_node(O_RDWR), dfd, e, w;
	u_dma_buf_ioctl_dev_info di;
	uint8_t *m, *m2, *tmp = xmalloc(allocsize);
	uint64_t v = 0, cmd;
	long bad;

	e = io(fd, U_DMA_BUF_IOCTL_GET_DMA_ADDR, &v);
	tap(!e, T("before: GET_DMA_ADDR works"), "expected 0 got %s", errname(e));
	diag("%s: DMA address 0x%llx before the parent's removal", dev, (unsigned long long)v);
	dfd = export(fd, O_RDWR | O_CLOEXEC, 0, 0);
	tap(dfd >= 0, T("before: EXPORT works"), "expected a dma-buf fd got %s", errname(-dfd));
	if (dfd >= 0)
		close(dfd);
	m = mmap(NULL, allocsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!tap(m != MAP_FAILED, T("before: mmap works"), "expected a mapping got %s", errname(errno)))
		return 1;

	w = open(file, O_WRONLY);
	e = w < 0 ? errno : write(w, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : errno;
	if (w >= 0)
		close(w);
	if (!tap(!e, T(S("write '%s' to %s (the parent goes)", text, file)), "expected success got %s",
		 errname(e)))
		return 1;
	tap(access(S("/dev/%s", dev), F_OK) != 0, T("the node is gone with the parent"),
	    "expected /dev/%s to be gone, it is still there", dev);

	v = 0;
	e = io(fd, U_DMA_BUF_IOCTL_GET_DMA_ADDR, &v);
	tap(e == ENODEV, T("after the parent went: GET_DMA_ADDR on the open fd -> ENODEV"),
	    "expected ENODEV got %s", e ? errname(e) : S("0 and address 0x%llx", (unsigned long long)v));
	memset(&di, 0, sizeof(di));
	e = io(fd, U_DMA_BUF_IOCTL_GET_DEV_INFO, &di);
	tap(e == ENODEV, T("after the parent went: GET_DEV_INFO on the open fd -> ENODEV"),
	    "expected ENODEV got %s", e ? errname(e) : S("0 and address 0x%llx", (unsigned long long)di.addr));
	dfd = export(fd, O_RDWR | O_CLOEXEC, 0, 0);
	tap(dfd == -ENODEV, T("after the parent went: EXPORT on the open fd -> ENODEV"),
	    "expected ENODEV got %s", dfd >= 0 ? "a dma-buf fd" : errname(-dfd));
	if (dfd >= 0)
		close(dfd);

	/* The memory itself stays for its users. */
	e = io(fd, U_DMA_BUF_IOCTL_GET_SIZE, &v);
	tap(!e && v == bufsize, T("after the parent went: GET_SIZE still works"), "expected %zu got %s",
	    bufsize, errname(e));
	pat_fill(tmp, 0, bufsize, 71);
	tap(pwrite_all(fd, tmp, bufsize, 0) == (ssize_t)bufsize, T("after the parent went: write() works"),
	    "expected %zu bytes got %s", bufsize, errname(errno));
	cmd = one_off(0, bufsize & ~(size_t)15);
	e = io(fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE, &cmd);
	e |= io(fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd);
	tap(!e, T("after the parent went: SET_SYNC_FOR_DEVICE and SET_SYNC_FOR_CPU work"),
	    "expected 0 got %s", errname(e));
	bad = pat_find_bad(m, 0, bufsize, 71);
	tap(bad < 0, T("after the parent went: the old mapping sees what write() put in"),
	    "expected the pattern got a difference at %ld", bad);
	m2 = mmap(NULL, allocsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (tap(m2 != MAP_FAILED, T("after the parent went: a new mmap on the open fd works"),
		"expected a mapping got %s", errname(errno))) {
		pat_fill(m2, 0, bufsize, 72);
		io(fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE, &cmd);
		io(fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd);
		memset(tmp, 0, allocsize);
		bad = pread_all(fd, tmp, bufsize, 0) == (ssize_t)bufsize ? pat_find_bad(tmp, 0, bufsize, 72) : -2;
		tap(bad == -1, T("after the parent went: read() gets what the new mapping wrote"),
		    "expected the pattern got %s", bad == -2 ? "a failed read" : S("a difference at %ld", bad));
		munmap(m2, allocsize);
	}
	munmap(m, allocsize);
	free(tmp);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: adv_ioctl access DEV | export DEV | gone DEV FILE TEXT\n");
		return 2;
	}
	dev = argv[2];
	bufsize = attr_u64(dev, "size");
	allocsize = (bufsize + 4095) & ~(size_t)4095;
	if (!strcmp(argv[1], "access"))
		return cmd_access();
	if (!strcmp(argv[1], "export"))
		return cmd_export();
	if (!strcmp(argv[1], "gone") && argc == 5)
		return cmd_gone(argv[3], argv[4]);
	fprintf(stderr, "usage: adv_ioctl access DEV | export DEV | gone DEV FILE TEXT\n");
	return 2;
}
