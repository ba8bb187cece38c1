// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dt_bind: unbind and bind of device-tree buffers through
 * /sys/bus/platform/drivers/u-dma-buf/{unbind,bind} (issue 3, INTERFACE.md
 * §12.1: an unbind detaches the name at once and frees the memory after the
 * last user; a bind allocates again). Prints TAP.
 *
 *   dt_bind cycles NAME PDEV N LO SIZE USER
 *	N unbind/bind cycles of buffer NAME (platform device PDEV). With USER 1
 *	each cycle holds the buffer open and mapped across the unbind: the node
 *	goes, the mapping keeps its data, the re-bind is a new allocation. LO and
 *	SIZE: the reserved region every allocation must lie in (0 0: none).
 *
 *   dt_bind hold NAME PDEV LO SIZE SECOND_NAME SECOND_PDEV
 *	The user scenario step by step, in a region that holds two buffers:
 *	SECOND (unbound when this starts) is another node of the same region and
 *	size. A user maps NAME, NAME is unbound (node gone, data kept, rmmod
 *	refused) and bound again (new memory in the region, no aliasing); with
 *	the old and the new allocation the region is full, so SECOND cannot bind;
 *	after the user's munmap and close it can, in the memory that came back.
 *	Ends with NAME and SECOND bound.
 */
#include "tap.h"
#include <sys/syscall.h>

#define DRV "/sys/bus/platform/drivers/u-dma-buf"

static const char *name, *pdev;
static unsigned long long lo, rsize;

static int sys_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int e = 0;

	if (fd < 0)
		return errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		e = errno;
	else if ((size_t)n != strlen(text))
		e = EIO;
	close(fd);
	return e;
}

static int unbind(const char *dev) { return sys_write(DRV "/unbind", dev); }
static int bind(const char *dev) { return sys_write(DRV "/bind", dev); }

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* "" when buffer n is fully there (node, class dir, driver link), else what is missing. */
static const char *present(const char *n, const char *pd)
{
	return S("%s%s%s", exists(S("/dev/%s", n)) ? "" : "no /dev node; ",
		 exists(S(SYSFS_CLASS "/%s", n)) ? "" : "no class directory; ",
		 exists(S("/sys/bus/platform/devices/%s/driver", pd)) ? "" : "no driver link; ");
}

/* "" when buffer n is fully gone, else what is left. */
static const char *gone(const char *n, const char *pd)
{
	return S("%s%s%s", exists(S("/dev/%s", n)) ? "/dev node left; " : "",
		 exists(S(SYSFS_CLASS "/%s", n)) ? "class directory left; " : "",
		 exists(S("/sys/bus/platform/devices/%s/driver", pd)) ? "driver link left; " : "");
}

static int attr_num(const char *n, const char *attr, unsigned long long *v)
{
	char buf[128], *end;
	int r = attr_read(n, attr, buf, sizeof(buf));

	if (r < 0)
		return r;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	return errno || end == buf || *end ? -EINVAL : 0;
}

/* "" when [addr, addr + size) lies in the region (or there is none). */
static const char *in_region(unsigned long long addr, unsigned long long size)
{
	if (!rsize || (addr >= lo && addr - lo <= rsize && size <= rsize - (addr - lo)))
		return "";
	return S("0x%llx+0x%llx is outside the region 0x%llx+0x%llx; ", addr, size, lo, rsize);
}

/* One 64-bit tag at the start and at the end of every page. */
static uint64_t tag(size_t page, unsigned int seed)
{
	return ((uint64_t)seed << 40) ^ (page * 0x9E3779B97F4A7C15ull) ^ 0x5a5a;
}

static void tag_fill(volatile uint8_t *map, size_t size, unsigned int seed)
{
	for (size_t off = 0, p = 0; off < size; off += 4096, p++) {
		*(volatile uint64_t *)(map + off) = tag(p, seed);
		*(volatile uint64_t *)(map + off + 4088) = ~tag(p, seed);
	}
}

/* "" when every tag is there, else where the first one differs. */
static const char *tag_check(const volatile uint8_t *map, size_t size, unsigned int seed)
{
	for (size_t off = 0, p = 0; off < size; off += 4096, p++) {
		uint64_t a = *(const volatile uint64_t *)(map + off);
		uint64_t b = *(const volatile uint64_t *)(map + off + 4088);

		if (a != tag(p, seed) || b != ~tag(p, seed))
			return S("page %zu: expected 0x%016llx got 0x%016llx; ", p,
				 (unsigned long long)tag(p, seed), (unsigned long long)a);
	}
	return "";
}

struct user {
	int fd;
	uint8_t *map;
	size_t size;
	unsigned long long addr;
};

static const char *user_open(struct user *u, const char *n)
{
	unsigned long long size;

	u->map = MAP_FAILED;
	if (attr_num(n, "size", &size) < 0)
		return S("cannot read %s/size; ", n);
	u->size = (size + 4095) & ~4095ull;
	if (attr_num(n, "phys_addr", &u->addr) < 0)
		return S("cannot read %s/phys_addr; ", n);
	u->fd = open(S("/dev/%s", n), O_RDWR);
	if (u->fd < 0)
		return S("open /dev/%s: %s; ", n, errname(errno));
	u->map = mmap(NULL, u->size, PROT_READ | PROT_WRITE, MAP_SHARED, u->fd, 0);
	if (u->map == MAP_FAILED) {
		close(u->fd);
		return S("mmap /dev/%s: %s; ", n, errname(errno));
	}
	return "";
}

static void user_close(struct user *u)
{
	if (u->map != MAP_FAILED) {
		munmap(u->map, u->size);
		close(u->fd);
	}
	u->map = MAP_FAILED;
}

/* ---- cycles ----------------------------------------------------------- */

static int cycles(int n, int with_user)
{
	char fails[2048] = "";
	int failed = 0, e;
	double t0 = now();
	unsigned long long size, addr;

	if (attr_num(name, "size", &size) < 0) {
		tap(0, S("%s: %d unbind/bind cycles", name, n), "the buffer is not there at the start");
		return 1;
	}
	for (int i = 1; i <= n; i++) {
		struct user u = { .map = MAP_FAILED };
		char why[1024] = "";
		const char *r;

		if (with_user) {
			r = user_open(&u, name);
			if (*r) {
				snprintf(why, sizeof(why), "%s", r);
				goto next;
			}
			tag_fill(u.map, u.size, i);
		}
		e = unbind(pdev);
		if (e) {
			snprintf(why, sizeof(why), "unbind: %s; ", errname(e));
			goto next;
		}
		r = gone(name, pdev);
		strncat(why, r, sizeof(why) - strlen(why) - 1);
		if (with_user) {
			strncat(why, tag_check(u.map, u.size, i), sizeof(why) - strlen(why) - 1);
			tag_fill(u.map, u.size, i + 1000);
			r = tag_check(u.map, u.size, i + 1000);
			if (*r)
				strncat(why, S("mapping after unbind: %s", r), sizeof(why) - strlen(why) - 1);
		}
		e = bind(pdev);
		if (e) {
			strncat(why, S("bind: %s; ", errname(e)), sizeof(why) - strlen(why) - 1);
			goto next;
		}
		strncat(why, present(name, pdev), sizeof(why) - strlen(why) - 1);
		if (attr_num(name, "size", &size) < 0 || attr_num(name, "phys_addr", &addr) < 0) {
			strncat(why, "no size/phys_addr after bind; ", sizeof(why) - strlen(why) - 1);
			goto next;
		}
		strncat(why, in_region(addr, size), sizeof(why) - strlen(why) - 1);
		if (with_user) {
			if (addr < u.addr + u.size && u.addr < addr + size)
				strncat(why, S("the new buffer 0x%llx overlaps the old one 0x%llx still mapped; ",
					       addr, u.addr), sizeof(why) - strlen(why) - 1);
			strncat(why, tag_check(u.map, u.size, i + 1000), sizeof(why) - strlen(why) - 1);
		}
next:
		user_close(&u);
		if (why[0]) {
			failed++;
			if (failed <= 5)
				snprintf(fails + strlen(fails), sizeof(fails) - strlen(fails),
					 "%scycle %d: %s", failed > 1 ? "\n# " : "", i, why);
			if (!exists(S("/sys/bus/platform/devices/%s/driver", pdev)))
				bind(pdev);
		}
	}
	diag("%s: %d cycles took %.1f s", name, n, now() - t0);
	tap(!failed, with_user ?
	    S("%s: %d unbind/bind cycles while open and mapped: node gone after unbind, data kept in the mapping, a new allocation%s after bind", name, n, rsize ? " inside the region" : "") :
	    S("%s: %d unbind/bind cycles without users: node gone after unbind, back after bind%s", name, n, rsize ? " inside the region" : ""),
	    "expected no failure got %d, the first ones:\n# %s", failed, fails);
	return 0;
}

/* ---- hold ------------------------------------------------------------- */

static const char *try_rmmod(void)
{
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(syscall(SYS_delete_module, "u_dma_buf", O_NONBLOCK) ? errno & 0xff : 0);
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return "no result";
	return WEXITSTATUS(st) ? errname(WEXITSTATUS(st)) : "OK";
}

static int hold(const char *second, const char *second_pdev)
{
	struct user u = { .map = MAP_FAILED }, v = { .map = MAP_FAILED };
	unsigned long long size, addr, size2, addr2;
	const char *r, *r2;
	char buf[64];
	ssize_t n;
	int e;

	r = user_open(&u, name);
	if (!tap(!*r, S("%s: open and mmap the whole buffer", name), "expected a mapping got %s", r))
		return 1;
	diag("%s: phys_addr 0x%llx", name, u.addr);
	tag_fill(u.map, u.size, 1);
	e = unbind(pdev);
	if (!tap(!e, S("%s: unbind of %s works while the buffer is open and mapped", name, pdev), "expected OK got %s", errname(e)))
		return 1;
	r = gone(name, pdev);
	tap(!*r, S("%s: after the unbind /dev/%s, the class directory and the driver link are gone", name, name), "expected nothing got %s", r);
	r = tag_check(u.map, u.size, 1);
	tag_fill(u.map, u.size, 2);
	r2 = tag_check(u.map, u.size, 2);
	tap(!*r && !*r2, S("%s: after the unbind the mapping still has its data and takes writes", name),
	    "expected the tags got %s%s", r, r2);
	n = pread(u.fd, buf, 8, 0);
	diag("%s: read() on the file opened before the unbind returns %s", name, res(n, errno));
	r = try_rmmod();
	tap(strcmp(r, "OK") != 0 && exists("/sys/module/u_dma_buf"),
	    S("%s: rmmod is refused while the unbound buffer is still mapped", name),
	    "expected a refusal got %s", r);

	e = bind(pdev);
	if (!tap(!e, S("%s: bind of %s works while the old buffer is still mapped", name, pdev), "expected OK got %s", errname(e)))
		goto out;
	r = present(name, pdev);
	if (!tap(!*r && attr_num(name, "size", &size) == 0 && attr_num(name, "phys_addr", &addr) == 0,
		 S("%s: after the bind the buffer is there again", name), "expected node, class dir, driver got %s", r))
		goto out;
	r = in_region(addr, size);
	diag("%s: the new buffer's phys_addr 0x%llx, the old one's 0x%llx", name, addr, u.addr);
	tap(!*r && (addr >= u.addr + u.size || u.addr >= addr + size),
	    S("%s: the new buffer is a new allocation%s, apart from the old one still mapped",
	      name, rsize ? " inside the region" : ""),
	    "expected a disjoint range in the region got %s0x%llx+0x%llx vs old 0x%llx+0x%zx", r, addr, size, u.addr, u.size);
	r = user_open(&v, name);
	if (tap(!*r, S("%s: the new buffer opens and maps", name), "expected a mapping got %s", r)) {
		tag_fill(v.map, v.size, 3);
		r = tag_check(v.map, v.size, 3);
		r2 = tag_check(u.map, u.size, 2);
		tap(!*r && !*r2, S("%s: writes to the new buffer do not show in the old mapping, the old data stays", name),
		    "expected new tags 3 and old tags 2 got %s%s", r, r2);
		user_close(&v);
	}

	e = bind(second_pdev);
	tap(e != 0 && !exists(S(SYSFS_CLASS "/%s", second)),
	    S("%s: the region is full (old buffer still mapped, new one bound): bind of %s fails", name, second),
	    "expected the bind to fail got %s, %s %s", errname(e), second,
	    exists(S(SYSFS_CLASS "/%s", second)) ? "exists" : "absent");
	if (!e)
		unbind(second_pdev);

	user_close(&u);
	e = bind(second_pdev);
	if (tap(!e, S("%s: after munmap and close of the old buffer, bind of %s (needs its memory) works", name, second),
		"expected OK got %s", errname(e))) {
		if (attr_num(second, "size", &size2) == 0 && attr_num(second, "phys_addr", &addr2) == 0) {
			r = in_region(addr2, size2);
			diag("%s: %s's phys_addr 0x%llx", name, second, addr2);
			tap(!*r && (addr2 >= addr + size || addr >= addr2 + size2),
			    S("%s: %s got the memory that came back%s", name, second,
			      rsize ? " inside the region" : ""),
			    "expected a range apart from %s's 0x%llx+0x%llx got %s0x%llx+0x%llx", name, addr, size, r, addr2, size2);
		} else {
			tap(0, S("%s: %s got the memory that came back", name, second), "expected size and phys_addr of %s", second);
		}
	}
	return 0;
out:
	user_close(&u);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 8 && !strcmp(argv[1], "cycles")) {
		name = argv[2];
		pdev = argv[3];
		lo = strtoull(argv[5], NULL, 0);
		rsize = strtoull(argv[6], NULL, 0);
		return cycles(atoi(argv[4]), atoi(argv[7]));
	}
	if (argc == 8 && !strcmp(argv[1], "hold")) {
		name = argv[2];
		pdev = argv[3];
		lo = strtoull(argv[4], NULL, 0);
		rsize = strtoull(argv[5], NULL, 0);
		return hold(argv[6], argv[7]);
	}
	fprintf(stderr, "usage: dt_bind cycles NAME PDEV N LO SIZE USER | dt_bind hold NAME PDEV LO SIZE SECOND_NAME SECOND_PDEV\n");
	return 2;
}
