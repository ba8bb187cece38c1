// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz: a seeded fuzzer of u-dma-buf (issue 10).  Several processes do random
 * operations on random buffers for a bounded time and check after each one
 * what they can know (INTERFACE.md; /work/notes/issue10-semantics.md):
 *
 *   - the result, or the errno, is one the interface documents for that call
 *     with those arguments (an exact prediction where the process alone owns
 *     the buffer, a documented set where others race with it);
 *   - data written through one path (write, pwrite, a mapping, a dma-buf
 *     mapping, O_DIRECT from the disk, a fork child) reads back through the
 *     others (read, pread, mappings, vmsplice, O_DIRECT to the disk);
 *   - the sync state (offset, size, direction, mode, owner) follows every
 *     command, read back through GET_SYNC, GET_SYNC_OWNER and sysfs;
 *   - no access to a valid mapping faults (SIGBUS/SIGSEGV are caught and
 *     reported), no process dies of a signal, every worker ends in time.
 *
 *   fuzz [--seed S] [--seconds N] [--procs P] [--shared NAME]... [--edu PCIADDR]
 *        [--unbind PDEV NAME] [--max-reports N]
 *
 * Worker i draws from a generator seeded with S + i.  Its private buffers
 * fzp<i>_<k> are touched by it alone, so their contents and sync state are
 * modelled exactly (a shadow copy; bytes of unknown value are learnt on the
 * first read).  The shared names (--shared, plus fzs0..fzs3, created and
 * deleted by everyone) are only checked for documented errnos and for faults.
 * A run replays with the same seed: the same draws in each process, though
 * the outcome of racing operations on shared names may steer them apart.
 *
 * The data model assumes CPU caches never lose data between the paths, which
 * holds on a DMA-coherent amd64 and under QEMU TCG (no cache model); on real
 * non-coherent hardware a sync for the CPU may drop dirty lines.  Mappings
 * made uncached (O_SYNC, sync_mode bit 2) are not compared where the
 * architecture really maps them uncached (everything but x86).
 *
 * Output: TAP.  Each violation is one "not ok - fuzz: <op> ..." line with
 * "# expected ... got ..." and the seed (at most max_printed of them, then
 * only counted); at the end "ok - fuzz: N ops, seed S, 0 reports" or
 * "not ok - fuzz: N ops, seed S, R reports".
 */
#include "tap.h"
#include <ctype.h>
#include <setjmp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/dma-buf.h>
#include "u-dma-buf-ioctl.h"

#define MGR		"/dev/u-dma-buf-mgr"
#define MAXP		16
#define NPRIV		3
#define NSHARED_MAX	12
#define NFD		6
#define NMAP		8
#define NDB		3
static int max_printed = 20;
#define TRACE_LEN	16
#define PG		4096UL
#define ARENA		(4UL << 20)
#define DISK_REGION	(1UL << 20)
#define MGR_LINE_MAX	1024

#if defined(__x86_64__) || defined(__i386__)
#define ARCH_X86 1
#else
#define ARCH_X86 0
#endif

/* --- operations ---------------------------------------------------------- */

#define OPS(X) \
	X(create) X(delete) X(mgr_bad) X(mgr_split) X(shared_mgr) X(open) X(close) \
	X(mmap) X(munmap) X(mremap) X(madvise) X(touch) X(fork) X(read) X(write) \
	X(pread) X(pwrite) X(lseek) X(ioctl_get) X(ioctl_sync) X(set_sync) \
	X(export) X(ioctl_bad) X(sysfs_write) X(sysfs_read) X(db_mmap) X(db_sync) \
	X(db_close) X(vmsplice) X(pipe_drain) X(pin_delete) X(odirect_write) \
	X(odirect_read) X(rmmod) X(fsync) X(edu) X(unbind) X(worker)
#define OP_ENUM(n) OP_##n,
#define OP_NAME(n) #n,
enum { OPS(OP_ENUM) NOPS };
static const char *const op_names[] = { OPS(OP_NAME) };

struct shared {
	int reports;
	int printed;
	int zerofill;
	volatile int stop;
	long ops[MAXP];
	long per_op[NOPS];
	long rep_op[NOPS];
	long ok_op[NOPS];
	long checked;		/* bytes compared with the model */
};

static struct shared *sh;
static unsigned long long seed;
static int W;			/* this worker's index */
static long opno;
static int cur_op = OP_worker;
static char trace_ring[TRACE_LEN][160];

/* --- random -------------------------------------------------------------- */

static uint64_t rng;

static uint64_t r64(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rn(uint64_t n)
{
	return n ? r64() % n : 0;
}

static int pct(int p)
{
	return (int)rn(100) < p;
}

/* --- reports ------------------------------------------------------------- */

static void trace(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(trace_ring[opno % TRACE_LEN], sizeof(trace_ring[0]), fmt, ap);
	va_end(ap);
}

/* One violation: counted always, printed (with the last operations) while few. */
static void report(const char *what, const char *fmt, ...)
{
	char line[4096];
	int n, len;
	va_list ap;

	__atomic_fetch_add(&sh->rep_op[cur_op], 1, __ATOMIC_RELAXED);
	n = __atomic_fetch_add(&sh->reports, 1, __ATOMIC_RELAXED);
	if (n >= max_printed)
		return;
	len = snprintf(line, sizeof(line), "not ok - fuzz: %s: %s (worker %d, op %ld, seed %llu)\n# ",
		       op_names[cur_op], what, W, opno, seed);
	va_start(ap, fmt);
	len += vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (len < (int)sizeof(line) - 1)
		line[len++] = '\n';
	if (n < 6) {
		for (long i = opno - 5; i <= opno && len < (int)sizeof(line) - 200; i++) {
			if (i < 0)
				continue;
			len += snprintf(line + len, sizeof(line) - len, "#   op %ld: %s\n", i,
					trace_ring[i % TRACE_LEN]);
		}
	}
	if (len > (int)sizeof(line))
		len = sizeof(line);
	if (write(1, line, len) < 0)
		_exit(4);
}

/* Is the outcome in the allowed set ("0" = success, errno names)? */
static int in_set(long r, int e, const char *set)
{
	const char *name = r >= 0 ? "0" : errname(e);
	size_t l = strlen(name);

	for (const char *p = set; (p = strstr(p, name)); p += l)
		if ((p == set || p[-1] == ' ') && (p[l] == 0 || p[l] == ' '))
			return 1;
	return 0;
}

/* Reports when the outcome is outside the set; returns 1 when it is in it. */
static int expect(const char *what, long r, int e, const char *set)
{
	if (in_set(r, e, set)) {
		if (r >= 0)
			__atomic_fetch_add(&sh->ok_op[cur_op], 1, __ATOMIC_RELAXED);
		return 1;
	}
	report(what, "expected {%s} got %s", set, r >= 0 ? S("%ld", r) : errname(e));
	return 0;
}

/* --- fault guard --------------------------------------------------------- */

static sigjmp_buf guard_jb;
static volatile sig_atomic_t guard_on;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (guard_on) {
		guard_on = 0;
		siglongjmp(guard_jb, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Runs fn(arg); returns 0, or the signal (SIGBUS, SIGSEGV) it raised. */
static int guarded(void (*fn)(void *), void *arg)
{
	int sig = sigsetjmp(guard_jb, 1);

	if (sig)
		return sig;
	guard_on = 1;
	fn(arg);
	guard_on = 0;
	return 0;
}

struct copy_args {
	void *dst;
	const void *src;
	size_t len;
};

static void copy_fn(void *a)
{
	struct copy_args *c = a;
	volatile uint8_t *d = c->dst;
	const volatile uint8_t *s = c->src;

	for (size_t i = 0; i < c->len; i++)
		d[i] = s[i];
}

static int gcopy(void *dst, const void *src, size_t len)
{
	struct copy_args c = { dst, src, len };

	return guarded(copy_fn, &c);
}

static const char *signame(int sig)
{
	return sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : S("signal %d", sig);
}

/* --- model ----------------------------------------------------------------- */

struct pbuf {
	char name[40];
	int exists;
	uint64_t size, alloc;
	int mode;		/* 1..4 as created (3 when not given) */
	uint64_t dma_addr;
	uint8_t *shadow, *known;
	uint64_t sync_off, sync_size;
	int sync_dir, sync_mode, owner, debug_vma;
};

struct ofd {
	int fd;			/* -1: free */
	int b;			/* < NPRIV private, else shared index + NPRIV */
	int acc, osync;
	uint64_t size, alloc;
	int64_t pos;
};

struct omap {
	uint8_t *addr;		/* NULL: free */
	size_t len;
	int b;
	uint64_t boff;
	int prot;
	int checkable;		/* private, and the same view of memory as read()/write() */
	int dontfork;
	int zapped;		/* MADV_DONTNEED'd at least once */
	int dmabuf;		/* a mapping of a dma-buf (no fsync: msync(MS_SYNC) fails) */
};

struct odb {
	int fd;
	int b;
	uint64_t off, size;
	int acc, osync;
};

static struct pbuf pb[NPRIV];
static const char *shared_names[NSHARED_MAX];
static int nshared;
static const char *detachable;	/* shared name whose buffer an unbind takes away */
static struct ofd fds[NFD];
static struct omap maps[NMAP];
static struct odb dbs[NDB];
static int mfd = -1;			/* a manager fd held for the whole run */
static const char *edu;
static const char *unbind_pdev;
static char drv_version[64];

/* The pipe with vmspliced pages: they belong to buffer pipe_b at pipe_off. */
static int pipefd[2] = { -1, -1 };
static int pipe_b = -1;
static uint64_t pipe_off;
static size_t pipe_len;

/* O_DIRECT */
static int vfd = -1;
static uint64_t disk_base;
static uint8_t *disk_shadow, *disk_known;

/* Scratch memory: ARENA bytes RW, then a PROT_NONE guard page, a PROT_READ page and another guard. */
static uint8_t *arena, *ro_page, *none_page;
static uint8_t *tmpbuf;

static const char *bname(int b)
{
	if (b < 0 || b >= NPRIV + nshared)
		return "?";
	return b < NPRIV ? pb[b].name : shared_names[b - NPRIV];
}

static int is_priv(int b)
{
	return b >= 0 && b < NPRIV;
}

/* Compare bytes read from buffer b at off with the shadow; learn unknown bytes. */
static void check_data(int b, uint64_t off, const uint8_t *got, size_t len, const char *path)
{
	struct pbuf *p = &pb[b];
	long bad = -1;

	if (!is_priv(b))
		return;
	for (size_t i = 0; i < len && off + i < p->alloc; i++) {
		if (!p->known[off + i]) {
			p->shadow[off + i] = got[i];
			p->known[off + i] = 1;
		} else if (p->shadow[off + i] != got[i] && bad < 0) {
			bad = i;
		}
	}
	__atomic_fetch_add(&sh->checked, len, __ATOMIC_RELAXED);
	if (bad >= 0)
		report(S("%s of %s reads other bytes than were written", path, p->name),
		       "expected byte %llu = 0x%02x got 0x%02x (range %llu+%zu)",
		       (unsigned long long)(off + bad), p->shadow[off + bad], got[bad],
		       (unsigned long long)off, len);
}

static void set_data(int b, uint64_t off, const uint8_t *data, size_t len)
{
	if (!is_priv(b))
		return;
	for (size_t i = 0; i < len && off + i < pb[b].alloc; i++) {
		pb[b].shadow[off + i] = data[i];
		pb[b].known[off + i] = 1;
	}
}

static void forget_data(int b, uint64_t off, size_t len)
{
	if (!is_priv(b))
		return;
	for (size_t i = 0; i < len && off + i < pb[b].alloc; i++)
		pb[b].known[off + i] = 0;
}

static void fill_random(uint8_t *p, size_t len)
{
	uint64_t v = r64();

	for (size_t i = 0; i < len; i++) {
		if (!(i & 7))
			v = r64();
		p[i] = (uint8_t)(v >> ((i & 7) * 8));
	}
}

/* Is buffer b held by this process (fd, mapping, dma-buf, pipe)? */
static int held(int b)
{
	for (int i = 0; i < NFD; i++)
		if (fds[i].fd >= 0 && fds[i].b == b)
			return 1;
	for (int i = 0; i < NMAP; i++)
		if (maps[i].addr && maps[i].b == b)
			return 1;
	for (int i = 0; i < NDB; i++)
		if (dbs[i].fd >= 0 && dbs[i].b == b)
			return 1;
	return pipe_b == b;
}

static uint64_t page_align(uint64_t v)
{
	return (v + PG - 1) & ~(PG - 1);
}

/* The mapping flavour of an fd of a private buffer: 1 when it shows what read() shows. */
static int view_checkable(int b, int osync)
{
	struct pbuf *p = &pb[b];

	if (!is_priv(b))
		return 0;
	if (ARCH_X86 || p->mode == 1)
		return 1;
	if (!osync && !(p->sync_mode & 4))
		return 1;
	return (p->sync_mode & 3) == 0;
}

/* --- kstrtoull, as sysfs parses ------------------------------------------ */

static int k_strtoull(const char *s, uint64_t *res)
{
	unsigned int base = 10;
	uint64_t v = 0;
	int n = 0, over = 0;

	if (*s == '+')
		s++;
	if (s[0] == '0') {
		if (tolower((unsigned char)s[1]) == 'x' && isxdigit((unsigned char)s[2])) {
			base = 16;
			s += 2;
		} else {
			base = 8;
		}
	}
	for (;; s++, n++) {
		unsigned int d;
		int c = tolower((unsigned char)*s);

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			over = 1;
		v = v * base + d;
	}
	if (over)
		return -ERANGE;
	if (!n)
		return -EINVAL;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*res = v;
	return 0;
}

/* --- manager ------------------------------------------------------------- */

static int mgr_write(int fd, const void *text, size_t len, long *ret)
{
	long r = write(fd, text, len);

	if (ret)
		*ret = r;
	return r < 0 ? errno : 0;
}

/* One command on a fresh manager fd; returns 0 or the errno. */
static int mgr_cmd(const char *text)
{
	int fd = open(MGR, O_WRONLY), e;

	if (fd < 0) {
		report("open " MGR, "expected an fd got %s", errname(errno));
		return errno;
	}
	e = mgr_write(fd, text, strlen(text), NULL);
	close(fd);
	return e;
}

static int node_exists(const char *name)
{
	return access(S("/dev/%s", name), F_OK) == 0;
}

static void pbuf_reset(struct pbuf *p)
{
	p->exists = 0;
	free(p->shadow);
	free(p->known);
	p->shadow = p->known = NULL;
}

static void pbuf_created(int b, uint64_t size, int mode)
{
	struct pbuf *p = &pb[b];
	char text[64];

	p->exists = 1;
	p->size = size;
	p->alloc = page_align(size);
	p->mode = mode;
	p->shadow = calloc(p->alloc, 1);
	p->known = calloc(p->alloc, 1);
	if (!p->shadow || !p->known) {
		report("calloc", "expected memory got none");
		_exit(3);
	}
	p->sync_off = 0;
	p->sync_size = size;
	p->sync_dir = 0;
	p->sync_mode = 1;
	p->owner = 0;
	p->debug_vma = 0;
	p->dma_addr = 0;
	if (text_read(attr_path(p->name, "size"), text, sizeof(text)) ||
	    strtoull(text, NULL, 0) != size)
		report(S("create %s %llu: sysfs size", p->name, (unsigned long long)size),
		       "expected %llu got '%s'", (unsigned long long)size, text);
	if (text_read(attr_path(p->name, "quirk_mmap_mode"), text, sizeof(text)) ||
	    atoi(text) != mode)
		report(S("create %s: sysfs quirk_mmap_mode", p->name), "expected %d got '%s'", mode, text);
	if (!text_read(attr_path(p->name, "phys_addr"), text, sizeof(text)))
		p->dma_addr = strtoull(text, NULL, 0);
}

static const uint64_t sizes[] = { 1, 17, 4095, 4096, 4097, 12288, 65536, 65537, 200000, 262144, 1048576 };
static const char *const modes[] = { "", "quirk-mmap-off", "quirk-mmap-on", "quirk-mmap-auto", "quirk-mmap-page" };

static void op_create(void)
{
	int b = rn(NPRIV), mode = rn(5), e, term = rn(10), low_mask = pct(3);
	struct pbuf *p = &pb[b];
	uint64_t size = sizes[rn(sizeof(sizes) / sizeof(sizes[0]))];
	char cmd[256], sz[40];
	const char *mask = "";
	int fd;
	long r;

	switch (rn(4)) {
	case 0: snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size); break;
	case 1: snprintf(sz, sizeof(sz), "0x%llx", (unsigned long long)size); break;
	case 2: snprintf(sz, sizeof(sz), "size=%llu", (unsigned long long)size); break;
	default:
		size = (size + 1023) / 1024 * 1024;
		snprintf(sz, sizeof(sz), "%lluK", (unsigned long long)size / 1024);
	}
	if (low_mask)
		mask = " dma-mask=24";
	else if (pct(10))
		mask = pct(50) ? " dma-mask=32" : " dma-mask=64";
	snprintf(cmd, sizeof(cmd), "create\t%s %s%s%s%s", p->name, sz, mask, *modes[mode] ? " " : "",
		 modes[mode]);
	trace("create '%s' term %d (exists %d)", cmd, term, p->exists);
	fd = open(MGR, O_WRONLY);
	if (fd < 0) {
		report("open " MGR, "expected an fd got %s", errname(errno));
		return;
	}
	if (term == 0) {
		/* No terminator: the command runs at close. */
		e = mgr_write(fd, cmd, strlen(cmd), &r);
		close(fd);
		if (!expect(S("unterminated '%s' (runs at close)", cmd), r, e, "0"))
			return;
		if (node_exists(p->name) != 1 && !p->exists && !low_mask) {
			report(S("unterminated '%s' then close", cmd), "expected /dev/%s to exist got none",
			       p->name);
			return;
		}
		if (!p->exists && node_exists(p->name))
			pbuf_created(b, size, mode ? mode : 3);
		return;
	}
	if (term == 1) {
		/* Split across two writes. */
		size_t half = rn(strlen(cmd));

		e = mgr_write(fd, cmd, half, &r);
		if (!expect(S("first part of a split '%s'", cmd), r, e, "0")) {
			close(fd);
			return;
		}
		memmove(cmd, cmd + half, strlen(cmd + half) + 1);
		strcat(cmd, "\n");
	} else {
		size_t l = strlen(cmd);

		cmd[l] = term == 2 ? ';' : term == 3 ? '\0' : '\n';
		cmd[l + 1] = 0;
		l++;
		e = mgr_write(fd, cmd, l, &r);
		close(fd);
		goto done;
	}
	e = mgr_write(fd, cmd, strlen(cmd), &r);
	close(fd);
done:
	if (p->exists) {
		/* A DMA mask the platform cannot serve may be refused before the name is looked at. */
		expect(S("create of existing %s%s", p->name, mask), r, e, low_mask ? "EEXIST ENOMEM" : "EEXIST");
		return;
	}
	if (!expect(S("create %s %s%s mode %d", p->name, sz, mask, mode), r, e,
		    low_mask ? "0 ENOMEM" : size >= 1048576 ? "0 ENOMEM" : "0"))
		return;
	if (r >= 0)
		pbuf_created(b, size, mode ? mode : 3);
}

static void drop_pipe(void)
{
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	pipefd[0] = pipefd[1] = -1;
	pipe_b = -1;
	pipe_len = 0;
}

/* After a buffer went against the model: forget every handle of it. */
static void forget_handles(int b)
{
	for (int i = 0; i < NFD; i++)
		if (fds[i].fd >= 0 && fds[i].b == b) {
			close(fds[i].fd);
			fds[i].fd = -1;
		}
	for (int i = 0; i < NMAP; i++)
		if (maps[i].addr && maps[i].b == b) {
			munmap(maps[i].addr, maps[i].len);
			maps[i].addr = NULL;
		}
	for (int i = 0; i < NDB; i++)
		if (dbs[i].fd >= 0 && dbs[i].b == b) {
			close(dbs[i].fd);
			dbs[i].fd = -1;
		}
	if (pipe_b == b)
		drop_pipe();
}

static void delete_priv(int b)
{
	struct pbuf *p = &pb[b];
	int e, h = held(b);
	const char *want = !p->exists ? "ENODEV" : h ? "EBUSY" : "0";

	trace("delete %s (exists %d held %d pipe %d)", p->name, p->exists, h, pipe_b == b);
	e = mgr_cmd(S(pct(50) ? "delete %s\n" : "delete  %s ;", p->name));
	if (!expect(S("delete %s (%s)", p->name, !p->exists ? "absent" : h ? pipe_b == b &&
		    h ? "held, with vmspliced pages in a pipe" : "held" : "unused"),
		    e ? -1 : 0, e, want)) {
		if (!e) {	/* gone against the model */
			forget_handles(b);
			pbuf_reset(p);
		}
		return;
	}
	if (!e) {
		pbuf_reset(p);
		if (node_exists(p->name))
			report(S("delete %s", p->name), "expected /dev/%s gone got it still there", p->name);
	}
}

static void op_delete(void)
{
	delete_priv(rn(NPRIV));
}

/* Malformed manager lines: each must fail with its errno and leave the manager usable. */
static void op_mgr_bad(void)
{
	static char text[4096];
	const char *want = "EINVAL";
	char name[80];
	int fd, e, k = rn(30);
	long r;
	size_t len;

	snprintf(name, sizeof(name), "fzj%d", W);
	switch (k) {
	case 0: snprintf(text, sizeof(text), "create\n"); break;
	case 1: snprintf(text, sizeof(text), "create %s\n", name); break;
	case 2: snprintf(text, sizeof(text), "create %s 0\n", name); break;
	case 3: snprintf(text, sizeof(text), "create %s -4096\n", name); break;
	case 4: snprintf(text, sizeof(text), "create %s 4096x\n", name); break;
	case 5: snprintf(text, sizeof(text), "create %s 0x\n", name); break;
	case 6: snprintf(text, sizeof(text), "create %s 1T\n", name); break;
	case 7: snprintf(text, sizeof(text), "create %s 99999999999999999999999\n", name); break;
	case 8: snprintf(text, sizeof(text), "create %s 0xffffffffffffffff\n", name); break;
	case 9: snprintf(text, sizeof(text), "create %s 17179869184G\n", name); break;
	case 10: snprintf(text, sizeof(text), "create %s 4096 bogus=1\n", name); break;
	case 11: snprintf(text, sizeof(text), "create %s 4096 quirk-mmap-bogus\n", name); break;
	case 12: snprintf(text, sizeof(text), "create %s 4096 dma-mask=%s\n", name,
			  (const char *[]){ "11", "65", "x", "", "-1", "0x100" }[rn(6)]); break;
	case 13: snprintf(text, sizeof(text), "create %s 4096 bus=pci\n", name); break;
	case 14: snprintf(text, sizeof(text), "create %s 4096 device=no-such-dev\n", name);
		want = "ENODEV"; break;
	case 15: snprintf(text, sizeof(text), "create %s 4096 bus=nosuchbus device=x\n", name); break;
	case 16: snprintf(text, sizeof(text), "create %s 4096 bus=pci device=0000:7f:1f.7\n", name);
		want = "ENODEV"; break;
	case 17: snprintf(text, sizeof(text), "create %s 4096\n",
			  (const char *[]){ ".", "..", "u-dma-buf-mgr", "fz/x", "/" }[rn(5)]); break;
	case 18:	/* a name of 64 characters and more */
		len = 7 + 64 + rn(8);
		memset(text, 'n', len);
		snprintf(text + len, sizeof(text) - len, " 4096\n");
		memcpy(text, "create fzlongname", 17);
		break;
	case 19: snprintf(text, sizeof(text), "create %s 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", name); break;
	case 20: snprintf(text, sizeof(text), "%s %s 4096\n", (const char *[]){ "frobnicate", "Create", "creat", "deletex" }[rn(4)], name); break;
	case 21: snprintf(text, sizeof(text), "delete\n"); break;
	case 22: snprintf(text, sizeof(text), "delete %s extra\n", name); break;
	case 23: snprintf(text, sizeof(text), "delete fznone%d\n", W); want = "ENODEV"; break;
	case 24: snprintf(text, sizeof(text), "\n\n;; \t;"); want = "0"; break;
	case 25:	/* random junk that starts with an unknown word */
		len = 1 + rn(200);
		text[0] = 'x';
		for (size_t i = 1; i < len; i++) {
			char c;

			do {
				c = (char)(1 + rn(255));
			} while (c == '\n' || c == ';');
			text[i] = c;
		}
		text[len] = '\n';
		text[len + 1] = 0;
		break;
	case 26: {	/* over-long line, in one write or two; then the manager still works */
		size_t n = MGR_LINE_MAX + 1 + rn(2000);

		fd = open(MGR, O_WRONLY);
		if (fd < 0)
			return;
		memset(text, 'a', n);
		if (pct(50)) {
			text[n] = '\n';
			e = mgr_write(fd, text, n + 1, &r);
			expect(S("a %zu-byte line", n), r, e, "EINVAL");
		} else {
			e = mgr_write(fd, text, n, &r);
			expect(S("a %zu-byte unterminated line", n), r, e, "EINVAL");
			e = mgr_write(fd, "rest of it create x 1\n", 22, &r);
			expect("the rest of an over-long line is discarded", r, e, "0");
		}
		snprintf(text, sizeof(text), "create %s 4096\n", name);
		e = mgr_write(fd, text, strlen(text), &r);
		expect("a command after an over-long line on the same fd", r, e, "0");
		close(fd);
		trace("over-long line %zu", n);
		e = mgr_cmd(S("delete %s\n", name));
		expect(S("delete %s after the over-long line", name), e ? -1 : 0, e, "0");
		return;
	}
	case 27: {	/* exactly MGR_LINE_MAX bytes is still a command */
		int l = snprintf(text, sizeof(text), "create %s 4096", name);

		memset(text + l, ' ', MGR_LINE_MAX - l);
		text[MGR_LINE_MAX] = '\n';
		text[MGR_LINE_MAX + 1] = 0;
		want = "0";
		break;
	}
	case 28:
		fd = open(MGR, O_WRONLY);
		if (fd < 0)
			return;
		e = mgr_write(fd, pct(50) ? NULL : (void *)none_page, 1 + rn(100), &r);
		expect("manager write from a bad pointer", r, e, "EFAULT");
		e = mgr_write(fd, text, 0, &r);
		expect("manager write of 0 bytes", r, e, "0");
		close(fd);
		trace("manager write from bad pointer");
		return;
	default:	/* create with a name of random characters, then delete it */
		len = 1 + rn(20);
		snprintf(name, sizeof(name), "fzg%d", W);
		for (size_t i = strlen(name), j = 0; j < len; i++, j++) {
			char c;

			do {
				c = (char)(33 + rn(94));
			} while (c == '/' || c == ';' || c == '!');
			name[i] = c;
			name[i + 1] = 0;
		}
		snprintf(text, sizeof(text), "create %s 4096\n", name);
		e = mgr_cmd(text);
		trace("create random name '%s'", name);
		if (expect(S("create '%s' 4096", name), e ? -1 : 0, e, "0") && !e) {
			e = mgr_cmd(S("delete %s\n", name));
			expect(S("delete '%s'", name), e ? -1 : 0, e, "0");
		}
		return;
	}
	trace("mgr '%.60s'", text);
	len = k == 25 ? strlen(text) : strlen(text);
	if (k == 24)
		len = strlen(text) + 1;
	e = mgr_cmd(text);
	if (!expect(S("manager line '%.80s'", text), e ? -1 : 0, e, want) && !e)
		mgr_cmd(S("delete %s\n", name));
	if (k == 27 && !e) {
		e = mgr_cmd(S("delete %s\n", name));
		expect(S("delete %s", name), e ? -1 : 0, e, "0");
	}
}

/* Commands on the manager fd held for the whole run, built across several writes. */
static void op_mgr_split(void)
{
	char text[128];
	size_t l, at = 0;
	long r;
	int e = 0;

	snprintf(text, sizeof(text), "create fzk%d %llu;delete fzk%d\n", W,
		 (unsigned long long)(1 + rn(100000)), W);
	l = strlen(text);
	trace("split '%s' on the held manager fd", text);
	while (at < l) {
		size_t n = 1 + rn(l - at);

		e = mgr_write(mfd, text + at, n, &r);
		if (!expect(S("part %zu+%zu of '%s' on the held manager fd", at, n, text), r, e, "0"))
			return;
		at += n;
	}
	if (node_exists(S("fzk%d", W)))
		report(S("'%s' in pieces", text), "expected fzk%d deleted got it still there", W);
}

/* Shared names: everyone creates and deletes them; only documented errnos. */
static void op_shared_mgr(void)
{
	int s = rn(nshared), e, h = held(NPRIV + s);
	const char *name = shared_names[s];

	/* A parent's removal or an unbind takes the name from under a holder: no claim then. */
	if (!strcmp(name, "fzedu") || (detachable && !strcmp(name, detachable)))
		h = 0;

	if (pct(50)) {
		const char *extra = "";

		if (edu && !strcmp(name, "fzedu"))
			extra = S(" bus=pci device=%s", edu);
		trace("create shared %s", name);
		e = mgr_cmd(S("create %s %llu%s\n", name, (unsigned long long)(1 + rn(262144)), extra));
		expect(S("create shared %s", name), e ? -1 : 0, e,
		       h ? "EEXIST" : *extra ? "0 EEXIST ENOMEM ENODEV" : "0 EEXIST ENOMEM");
	} else {
		trace("delete shared %s (held %d)", name, h);
		e = mgr_cmd(S("delete %s\n", name));
		expect(S("delete shared %s%s", name, h ? " while this process holds it" : ""),
		       e ? -1 : 0, e, h ? "EBUSY" : "0 ENODEV EBUSY");
	}
}

/* --- files ------------------------------------------------------------------ */

static struct ofd *pick_fd(void)
{
	int n = 0, idx[NFD];

	for (int i = 0; i < NFD; i++)
		if (fds[i].fd >= 0)
			idx[n++] = i;
	return n ? &fds[idx[rn(n)]] : NULL;
}

static struct omap *pick_map(int need_prot)
{
	int n = 0, idx[NMAP];

	for (int i = 0; i < NMAP; i++)
		if (maps[i].addr && (maps[i].prot & need_prot) == need_prot)
			idx[n++] = i;
	return n ? &maps[idx[rn(n)]] : NULL;
}

static struct odb *pick_db(void)
{
	int n = 0, idx[NDB];

	for (int i = 0; i < NDB; i++)
		if (dbs[i].fd >= 0)
			idx[n++] = i;
	return n ? &dbs[idx[rn(n)]] : NULL;
}

static void close_fd(struct ofd *f)
{
	if (close(f->fd))
		report(S("close of an fd of %s", bname(f->b)), "expected 0 got %s", errname(errno));
	f->fd = -1;
}

static int pick_buffer(void)
{
	if (pct(75)) {
		int b = rn(NPRIV);

		if (!pb[b].exists && pct(80)) {
			for (int i = 0; i < NPRIV; i++)
				if (pb[i].exists)
					return i;
		}
		return b;
	}
	return NPRIV + rn(nshared);
}

static void op_open(void)
{
	static const int accs[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDWR };
	int b = pick_buffer(), slot = -1, acc = accs[rn(4)], osync = pct(25) ? O_SYNC : 0;
	int flags = acc | osync | (pct(30) ? O_CLOEXEC : 0) | (pct(10) ? O_NONBLOCK : 0);
	struct ofd *f;
	uint64_t size;
	int fd;

	for (int i = 0; i < NFD; i++)
		if (fds[i].fd < 0)
			slot = i;
	if (slot < 0) {
		slot = rn(NFD);
		close_fd(&fds[slot]);
	}
	f = &fds[slot];
	trace("open %s flags 0x%x", bname(b), flags);
	fd = open(S("/dev/%s", bname(b)), flags);
	if (is_priv(b)) {
		if (!expect(S("open /dev/%s (%s)", bname(b), pb[b].exists ? "exists" : "absent"), fd,
			    errno, pb[b].exists ? "0" : "ENOENT"))
			goto wrong;
	} else if (!expect(S("open shared /dev/%s", bname(b)), fd, errno, "0 ENOENT ENODEV ENXIO")) {
		goto wrong;
	}
	if (fd < 0)
		return;
	if (ioctl(fd, U_DMA_BUF_IOCTL_GET_SIZE, &size)) {
		report(S("GET_SIZE on a new fd of %s", bname(b)), "expected 0 got %s", errname(errno));
		close(fd);
		return;
	}
	if (is_priv(b) && size != pb[b].size)
		report(S("GET_SIZE of %s", bname(b)), "expected %llu got %llu",
		       (unsigned long long)pb[b].size, (unsigned long long)size);
	f->fd = fd;
	f->b = b;
	f->acc = acc;
	f->osync = !!osync;
	f->size = size;
	f->alloc = page_align(size);
	f->pos = 0;
	return;
wrong:
	if (fd >= 0)
		close(fd);
}

static void op_close(void)
{
	struct ofd *f = pick_fd();
	struct odb *d;

	if (f && pct(70)) {
		trace("close fd of %s", bname(f->b));
		close_fd(f);
	} else if ((d = pick_db())) {
		trace("close dma-buf of %s", bname(d->b));
		if (close(d->fd))
			report("close of a dma-buf fd", "expected 0 got %s", errname(errno));
		d->fd = -1;
	}
}

/* --- mappings --------------------------------------------------------------- */

static struct omap *free_map_slot(void)
{
	for (int i = 0; i < NMAP; i++)
		if (!maps[i].addr)
			return &maps[i];
	{
		struct omap *m = &maps[rn(NMAP)];

		if (munmap(m->addr, m->len))
			report("munmap of a whole mapping", "expected 0 got %s", errname(errno));
		m->addr = NULL;
		return m;
	}
}

struct touch_args {
	const uint8_t *p;
	size_t len;
	uint8_t *out;
};

static void touch_fn(void *a)
{
	struct touch_args *t = a;
	const volatile uint8_t *p = t->p;

	for (size_t i = 0; i < t->len; i += PG)
		t->out[i / PG] = p[i];
}

/* Reads a byte of every page of a fresh mapping: none may fault. */
static void touch_pages(struct omap *m, const char *what)
{
	static uint8_t out[(ARENA / PG) + 1];
	struct touch_args t = { m->addr, m->len, out };
	int sig;

	if (!(m->prot & PROT_READ) || m->len > ARENA)
		return;
	sig = guarded(touch_fn, &t);
	if (sig)
		report(S("%s: reading the mapping of %s", what, bname(m->b)), "expected no fault got %s",
		       signame(sig));
}

/*
 * mmap of an fd of the buffer, or of a dma-buf (db != NULL): the arguments
 * drawn at random, the errno predicted by the order the kernel checks in.
 */
static void do_mmap(int fd, int b, int acc, uint64_t alloc, uint64_t base_off, int checkable,
		    const char *what)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
				     PROT_WRITE, PROT_NONE };
	int prot = prots[rn(5)], shared = !pct(6), unaligned = pct(4);
	uint64_t pages = alloc / PG, pgoff, len;
	const char *want;
	struct omap *m;
	void *addr;

	pgoff = pct(60) ? 0 : pct(85) ? rn(pages) : pages + rn(3);
	switch (rn(6)) {
	case 0: len = 0; if (pct(70)) len = (pages > pgoff ? pages - pgoff : 1) * PG; break;
	case 1: len = (pages > pgoff ? pages - pgoff : 1) * PG; break;
	case 2: len = (pages > pgoff ? pages - pgoff : 1) * PG + PG; break;
	case 3: len = 1 + rn((pages > pgoff ? pages - pgoff : 1) * PG); break;
	case 4: len = pct(20) ? (1ULL << 46) : UINT64_MAX - PG; break;
	default: len = PG * (1 + rn(pages > pgoff ? pages - pgoff : 1));
	}
	/* A 32-bit size_t (armhf) keeps the low 32 bits of the length: the kernel sees those. */
	if (sizeof(size_t) < sizeof(len))
		len = (size_t)len;
	/* The order of do_mmap(): length, address space, file access, accounting, module. */
	if (!len)
		want = "EINVAL";
	else if (unaligned)
		want = "EINVAL";
	else if (len > (1ULL << 47) || (sizeof(size_t) == 4 && len > 0xc0000000ULL))
		want = "ENOMEM EINVAL EOVERFLOW";
	else if (acc == O_WRONLY)
		want = len > (1ULL << 45) ? "EACCES ENOMEM" : "EACCES";
	else if (shared && (prot & PROT_WRITE) && acc == O_RDONLY)
		want = len > (1ULL << 45) ? "EACCES ENOMEM" : "EACCES";
	else if (len > (1ULL << 45))
		want = "EINVAL ENOMEM";
	else if (!shared)
		want = "EINVAL";
	else if (pgoff >= pages || page_align(len) / PG > pages - pgoff)
		want = "EINVAL";
	else
		want = "0";
	trace("%s mmap %s len %llu pgoff %llu prot %d %s%s", what, bname(b), (unsigned long long)len,
	      (unsigned long long)pgoff, prot, shared ? "shared" : "private", unaligned ? " unaligned" : "");
	addr = mmap(NULL, len, prot, shared ? MAP_SHARED : MAP_PRIVATE, fd,
		    pgoff * PG + (unaligned ? 1 + rn(PG - 1) : 0));
	if (!expect(S("%s mmap of %s: len %llu, page offset %llu of %llu, prot %d, %s, fd %s%s", what,
		      bname(b), (unsigned long long)len, (unsigned long long)pgoff,
		      (unsigned long long)pages, prot, shared ? "MAP_SHARED" : "MAP_PRIVATE",
		      acc == O_RDONLY ? "O_RDONLY" : acc == O_WRONLY ? "O_WRONLY" : "O_RDWR",
		      unaligned ? ", offset not page-aligned" : ""),
		    addr == MAP_FAILED ? -1 : 0, errno, want)) {
		if (addr != MAP_FAILED)
			munmap(addr, len);
		return;
	}
	if (addr == MAP_FAILED)
		return;
	m = free_map_slot();
	m->addr = addr;
	m->len = page_align(len);
	m->b = b;
	m->boff = base_off + pgoff * PG;
	m->prot = prot == PROT_WRITE ? PROT_READ | PROT_WRITE : prot;
	m->checkable = checkable;
	m->dontfork = 0;
	m->zapped = 0;
	/* msync(MS_SYNC) calls fsync only for VM_SHARED, i.e. a file opened for writing. */
	m->dmabuf = !strcmp(what, "dma-buf") && acc == O_RDWR;
	touch_pages(m, what);
}

static void op_mmap(void)
{
	struct ofd *f = pick_fd();

	if (!f)
		return;
	do_mmap(f->fd, f->b, f->acc, f->alloc, 0, view_checkable(f->b, f->osync), "node");
}

static void op_munmap(void)
{
	struct omap *m = pick_map(0), *n;
	size_t pages, first, count;
	int k = rn(4);

	if (!m)
		return;
	pages = m->len / PG;
	if (k == 0 || pages < 2) {
		first = 0;
		count = pages;
	} else if (k == 1) {
		first = 0;
		count = 1 + rn(pages - 1);
	} else if (k == 2) {
		count = 1 + rn(pages - 1);
		first = pages - count;
	} else {
		first = rn(pages);
		count = 1 + rn(pages - first);
	}
	trace("munmap %s pages %zu+%zu of %zu", bname(m->b), first, count, pages);
	if (munmap(m->addr + first * PG, count * PG)) {
		report(S("munmap of pages %zu+%zu of a %zu-page mapping of %s", first, count, pages,
			 bname(m->b)), "expected 0 got %s", errname(errno));
		return;
	}
	if (first + count < pages && first > 0) {
		/* A hole in the middle: the tail becomes a mapping of its own. */
		n = NULL;
		for (int i = 0; i < NMAP; i++)
			if (!maps[i].addr)
				n = &maps[i];
		if (n) {
			*n = *m;
			n->addr = m->addr + (first + count) * PG;
			n->len = (pages - first - count) * PG;
			n->boff = m->boff + (first + count) * PG;
		} else {
			munmap(m->addr + (first + count) * PG, (pages - first - count) * PG);
		}
		m->len = first * PG;
	} else if (first == 0 && count == pages) {
		m->addr = NULL;
	} else if (first == 0) {
		m->addr += count * PG;
		m->boff += count * PG;
		m->len -= count * PG;
	} else {
		m->len -= count * PG;
	}
	if (m->addr)
		touch_pages(m, "after a partial munmap");
}

static void op_mremap(void)
{
	struct omap *m = pick_map(0);
	size_t pages;
	void *r, *to;
	int k = rn(4);

	if (!m)
		return;
	pages = m->len / PG;
	if (k == 0 && pages > 1) {
		size_t keep = 1 + rn(pages - 1);

		trace("mremap shrink %s %zu -> %zu pages", bname(m->b), pages, keep);
		r = mremap(m->addr, m->len, keep * PG, 0);
		if (expect(S("mremap shrinking a mapping of %s from %zu to %zu pages", bname(m->b), pages, keep),
			   r == MAP_FAILED ? -1 : 0, errno, "0") && r != MAP_FAILED)
			m->len = keep * PG;
	} else if (k == 1) {
		trace("mremap grow %s", bname(m->b));
		r = mremap(m->addr, m->len, m->len + PG, pct(50) ? MREMAP_MAYMOVE : 0);
		if (!expect(S("mremap growing a mapping of %s by a page (VM_DONTEXPAND)", bname(m->b)),
			    r == MAP_FAILED ? -1 : 0, errno, "EFAULT") && r != MAP_FAILED) {
			m->addr = r;
			m->len += PG;
		}
	} else if (k == 2) {
		to = mmap(NULL, m->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (to == MAP_FAILED)
			return;
		trace("mremap move %s %zu pages", bname(m->b), pages);
		r = mremap(m->addr, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		if (expect(S("mremap moving a %zu-page mapping of %s", pages, bname(m->b)),
			   r == MAP_FAILED ? -1 : 0, errno, "0") && r != MAP_FAILED) {
			m->addr = r;
			touch_pages(m, "after mremap moved it");
		} else {
			munmap(to, m->len);
		}
	} else {
		trace("mremap DONTUNMAP %s", bname(m->b));
		r = mremap(m->addr, m->len, m->len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
		if (!expect(S("mremap MREMAP_DONTUNMAP of a mapping of %s (VM_DONTEXPAND)", bname(m->b)),
			    r == MAP_FAILED ? -1 : 0, errno, "EINVAL") && r != MAP_FAILED)
			munmap(r, m->len);
	}
}

/* Read (and compare) a random range of a mapping; maybe write one. */
static void touch_map(struct omap *m, int may_write, const char *why)
{
	size_t off = rn(m->len), len = 1 + rn(m->len - off);
	int sig;

	if (len > ARENA)
		len = ARENA;
	if (m->prot & PROT_READ) {
		sig = gcopy(tmpbuf, m->addr + off, len);
		if (sig) {
			report(S("%sreading bytes %zu+%zu of a valid mapping of %s%s", why, off, len, bname(m->b),
				 m->zapped ? " (MADV_DONTNEED'd before)" : ""),
			       "expected the data got %s", signame(sig));
			return;
		}
		if (m->checkable)
			check_data(m->b, m->boff + off, tmpbuf, len, S("%smapping", why));
	}
	if (may_write && (m->prot & PROT_WRITE) && pct(50)) {
		fill_random(tmpbuf, len);
		sig = gcopy(m->addr + off, tmpbuf, len);
		if (sig) {
			report(S("%swriting bytes %zu+%zu of a valid mapping of %s%s", why, off, len, bname(m->b),
				 m->zapped ? " (MADV_DONTNEED'd before)" : ""),
			       "expected no fault got %s", signame(sig));
			forget_data(m->b, m->boff + off, len);
			return;
		}
		if (m->checkable)
			set_data(m->b, m->boff + off, tmpbuf, len);
		else
			forget_data(m->b, m->boff + off, len);
	}
}

static void op_touch(void)
{
	struct omap *m = pick_map(PROT_READ);

	if (!m)
		return;
	trace("touch mapping of %s at +%llu, %zu bytes", bname(m->b), (unsigned long long)m->boff, m->len);
	touch_map(m, 1, "");
}

static void op_madvise(void)
{
	struct omap *m = pick_map(0);
	size_t first, count, pages;
	int k = rn(8), r;

	if (!m)
		return;
	pages = m->len / PG;
	first = rn(pages);
	count = 1 + rn(pages - first);
	if (k < 4) {
		trace("madvise DONTNEED %s pages %zu+%zu", bname(m->b), first, count);
		r = madvise(m->addr + first * PG, count * PG, MADV_DONTNEED);
		/* VM_PFNMAP mappings (no struct pages, or "off") refuse it. */
		if (expect(S("madvise(MADV_DONTNEED) of a mapping of %s", bname(m->b)), r, errno,
			   "0 EINVAL") && !r) {
			m->zapped = 1;
			touch_map(m, 1, "after MADV_DONTNEED: ");
		}
	} else if (k == 4) {
		trace("madvise WILLNEED");
		r = madvise(m->addr + first * PG, count * PG, MADV_WILLNEED);
		expect(S("madvise(MADV_WILLNEED) of a mapping of %s", bname(m->b)), r, errno, "0 EBADF EINVAL");
	} else if (k == 5) {
		int adv = pct(50) ? MADV_COLD : MADV_PAGEOUT;

		trace("madvise %s", adv == MADV_COLD ? "COLD" : "PAGEOUT");
		r = madvise(m->addr + first * PG, count * PG, adv);
		if (expect(S("madvise(%s) of a mapping of %s", adv == MADV_COLD ? "MADV_COLD" : "MADV_PAGEOUT",
			     bname(m->b)), r, errno, "0 EINVAL"))
			touch_map(m, 0, "after MADV_COLD/PAGEOUT: ");
	} else {
		int adv = k == 6 ? MADV_DONTFORK : MADV_DOFORK;

		trace("madvise %s whole", adv == MADV_DONTFORK ? "DONTFORK" : "DOFORK");
		r = madvise(m->addr, m->len, adv);
		/* MADV_DOFORK refuses VM_IO mappings (remap_pfn_range). */
		if (expect(S("madvise(%s) of a mapping of %s", adv == MADV_DONTFORK ? "MADV_DONTFORK" :
			     "MADV_DOFORK", bname(m->b)), r, errno, adv == MADV_DOFORK ? "0 EINVAL" : "0") && !r)
			m->dontfork = adv == MADV_DONTFORK;
	}
}

/*
 * fork: the child reads every mapping it inherited and compares, writes a
 * known pattern into one and exits; the parent sees the pattern by pread().
 */
static void op_fork(void)
{
	struct omap *w = pick_map(PROT_READ | PROT_WRITE);
	uint64_t wseed = r64();
	size_t woff = 0, wlen = 0;
	pid_t pid;
	int st;

	if (w && (!w->checkable || w->dontfork))
		w = NULL;
	if (w) {
		woff = rn(w->len);
		wlen = 1 + rn(w->len - woff < 65536 ? w->len - woff : 65536);
	}
	trace("fork (child writes %s +%zu %zu)", w ? bname(w->b) : "-", woff, wlen);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		expect("fork", -1, errno, "0 ENOMEM EAGAIN");
		return;
	}
	if (pid == 0) {
		cur_op = OP_fork;
		for (int i = 0; i < NMAP; i++)
			if (maps[i].addr && !maps[i].dontfork && (maps[i].prot & PROT_READ))
				touch_map(&maps[i], 0, "fork child: ");
		if (w) {
			uint64_t save = rng;
			int sig;

			rng = wseed;
			fill_random(tmpbuf, wlen);
			rng = save;
			sig = gcopy(w->addr + woff, tmpbuf, wlen);
			if (sig) {
				report(S("fork child: writing a valid mapping of %s", bname(w->b)),
				       "expected no fault got %s", signame(sig));
				_exit(3);
			}
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid) {
		report("waitpid of the fork child", "expected its pid got %s", errname(errno));
		return;
	}
	if (WIFSIGNALED(st))
		report("fork child", "expected exit 0 got %s", signame(WTERMSIG(st)));
	else if (WEXITSTATUS(st) && WEXITSTATUS(st) != 3)
		report("fork child", "expected exit 0 got %d", WEXITSTATUS(st));
	if (w) {
		uint64_t save = rng;

		rng = wseed;
		fill_random(tmpbuf, wlen);
		rng = save;
		set_data(w->b, w->boff + woff, tmpbuf, wlen);
		touch_map(w, 0, "after the fork child wrote: ");
	}
}

/* --- read / write -------------------------------------------------------------- */

enum { P_HEAP, P_NULL, P_NONE, P_RDONLY, P_PARTIAL, P_MAP, P_KERNEL, P_COUNT };
static const char *const ptr_names[] = { "heap", "NULL", "unmapped", "read-only page",
					  "partly unmapped", "a u-dma-buf mapping", "kernel address" };

struct uptr {
	int kind;
	uint8_t *p;
	size_t valid;		/* bytes accessible from p (for this direction) */
	struct omap *m;		/* P_MAP */
};

/* A user pointer for a transfer of count bytes; to_user: the kernel writes to it. */
static struct uptr pick_ptr(size_t count, int to_user, int b)
{
	struct uptr u = { 0 };
	int k = rn(100);

	if (k < 60)
		u.kind = P_HEAP;
	else if (k < 65)
		u.kind = P_NULL;
	else if (k < 70)
		u.kind = P_NONE;
	else if (k < 75)
		u.kind = P_RDONLY;
	else if (k < 83)
		u.kind = P_PARTIAL;
	else if (k < 97)
		u.kind = P_MAP;
	else
		u.kind = P_KERNEL;
	if (u.kind == P_MAP) {
		u.m = pick_map(to_user ? PROT_READ | PROT_WRITE : PROT_READ);
		/* Whole inside the mapping: what lies after it may be mapped too. */
		if (!u.m || u.m->b == b || u.m->len < count)
			u.kind = P_HEAP;
	}
	switch (u.kind) {
	case P_HEAP:
		u.p = arena + (count < ARENA ? rn(ARENA - count) : 0);
		u.valid = arena + ARENA - u.p;
		break;
	case P_NULL:
		u.p = NULL;
		break;
	case P_NONE:
		u.p = none_page + rn(PG);
		break;
	case P_RDONLY:
		u.p = ro_page + rn(PG);
		u.valid = to_user ? 0 : ro_page + PG - u.p;
		break;
	case P_PARTIAL:
		u.valid = 1 + rn(count < PG ? count : PG);
		u.p = arena + ARENA - u.valid;
		break;
	case P_MAP:
		u.p = u.m->addr + rn(u.m->len - count + 1);
		u.valid = u.m->addr + u.m->len - u.p;
		break;
	default:
		u.p = (uint8_t *)(uintptr_t)(sizeof(void *) == 8 ? 0xffff888000000000ull : 0xc0000000ul);
	}
	return u;
}

static size_t pick_count(uint64_t size, int64_t pos)
{
	uint64_t left = pos >= 0 && (uint64_t)pos < size ? size - pos : 0;

	switch (rn(8)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return left;
	case 3: return left + 1 + rn(100);
	case 4: return pct(50) ? SIZE_MAX : (SIZE_MAX >> 1) + 1;
	default: return 1 + rn(left ? left : 4096);
	}
}

static int64_t pick_pos(uint64_t size)
{
	switch (rn(8)) {
	case 0: return -1 - (int64_t)rn(10);
	case 1: return INT64_MIN + rn(2);
	case 2: return INT64_MAX - rn(2);
	case 3: return size;
	case 4: return size + 1 + rn(8192);
	default: return rn(size + 1);
	}
}

/*
 * One read() or write() (explicit pos: pread/pwrite), the outcome predicted
 * from the access mode, pointer, position and count in the order the VFS and
 * the module check them.
 */
static void do_rw(struct ofd *f, int is_write, int positional)
{
	int64_t pos = positional ? pick_pos(f->size) : f->pos;
	size_t count = pick_count(f->size, pos);
	struct uptr u = pick_ptr(count > ARENA ? ARENA : count, !is_write, f->b);
	uint64_t n = 0;
	const char *want;
	char wantbuf[64];
	long r;
	int e, sig = 0;
	int readable = f->acc != O_WRONLY, writable = f->acc != O_RDONLY;
	const char *opn = is_write ? (positional ? "pwrite" : "write") : (positional ? "pread" : "read");
	int huge = count > (SIZE_MAX >> 2);

	if (count > ARENA && !huge)
		count = ARENA;
	if (u.kind == P_MAP && u.m->checkable && is_write) {
		/* The source bytes, as the mapping shows them now. */
		sig = gcopy(tmpbuf, u.p, count < u.valid ? count : u.valid);
	} else if (is_write && (u.kind == P_HEAP || u.kind == P_PARTIAL)) {
		fill_random(u.p, count < u.valid ? count : u.valid);
	}
	if (sig)
		report(S("reading a valid mapping of %s", bname(u.m->b)), "expected no fault got %s", signame(sig));
	if (positional && pos < 0) {
		want = "EINVAL";	/* ksys_pread64/pwrite64 check it first */
	} else if (is_write ? !writable : !readable) {
		want = "EBADF";
	} else if (u.kind == P_KERNEL) {
		want = "EFAULT";	/* access_ok() fails even for 0 bytes */
	} else if (huge) {
		want = "EFAULT EINVAL";
	} else if (pos < 0 || (int64_t)(pos + (uint64_t)count) < 0) {
		want = "EINVAL";
	} else if (!count) {
		want = "0";
	} else if ((uint64_t)pos >= f->size) {
		want = is_write ? "ENOSPC" : "0";
	} else {
		n = count < f->size - pos ? count : f->size - pos;
		if (u.valid >= n) {
			snprintf(wantbuf, sizeof(wantbuf), "%llu", (unsigned long long)n);
			want = wantbuf;
		} else {
			want = u.valid ? "partial" : "EFAULT";
		}
	}
	trace("%s %s pos %lld count %zu ptr %s (fd acc %d)", opn, bname(f->b), (long long)pos, count,
	      ptr_names[u.kind], f->acc);
	if (positional)
		r = is_write ? pwrite(f->fd, u.p, count, pos) : pread(f->fd, u.p, count, pos);
	else
		r = is_write ? write(f->fd, u.p, count) : read(f->fd, u.p, count);
	e = errno;
	if (!strcmp(want, "partial")) {
		if (!(r < 0 ? e == EFAULT : (uint64_t)r <= u.valid && r > 0)) {
			report(S("%s of %s at %lld, %zu bytes, from a pointer with %zu valid bytes", opn, bname(f->b),
				 (long long)pos, count, u.valid),
			       "expected 1..%zu bytes or EFAULT got %s", u.valid, res(r, e));
			r = -1;
		}
	} else if (want == wantbuf) {
		if (r != (long)n) {
			report(S("%s of %s at %lld, %zu bytes, pointer %s", opn, bname(f->b), (long long)pos, count,
				 ptr_names[u.kind]), "expected %llu got %s", (unsigned long long)n, res(r, e));
			if (r < 0)
				return;
		}
	} else if (!expect(S("%s of %s at %lld, %zu bytes, pointer %s, fd %s", opn, bname(f->b), (long long)pos,
			     count, ptr_names[u.kind], f->acc == O_RDONLY ? "O_RDONLY" : f->acc == O_WRONLY ?
			     "O_WRONLY" : "O_RDWR"), r, e, want)) {
		if (r > 0 && !positional)
			f->pos += r;
		if (r > 0 && is_write)
			forget_data(f->b, pos, r);
		return;
	}
	if (r <= 0) {
		if (is_write && n && r < 0 && is_priv(f->b)) {
			/* copy_from_user() may have zero-filled what it could not read. */
			forget_data(f->b, pos, n);
		}
		return;
	}
	if (!positional)
		f->pos += r;
	if (is_write) {
		if (u.kind == P_MAP && !u.m->checkable)
			forget_data(f->b, pos, r);
		else if (u.kind == P_MAP)
			set_data(f->b, pos, tmpbuf, r);
		else
			set_data(f->b, pos, u.p, r);
		if ((uint64_t)r < n)
			forget_data(f->b, pos + r, n - r);
	} else {
		if (u.kind == P_MAP) {
			sig = gcopy(tmpbuf, u.p, r);
			if (sig) {
				report(S("reading a valid mapping of %s", bname(u.m->b)), "expected no fault got %s",
				       signame(sig));
				return;
			}
			check_data(f->b, pos, tmpbuf, r, opn);
			if (u.m->checkable)
				set_data(u.m->b, u.m->boff + (u.p - u.m->addr), tmpbuf, r);
			else
				forget_data(u.m->b, u.m->boff + (u.p - u.m->addr), r);
		} else {
			check_data(f->b, pos, u.p, r, opn);
		}
	}
}

static void op_rw(int is_write, int positional)
{
	struct ofd *f = pick_fd();

	if (f)
		do_rw(f, is_write, positional);
}

static void op_lseek(void)
{
	struct ofd *f = pick_fd();
	static const int whences[] = { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_SET, SEEK_CUR, SEEK_END, 3, 4, 7 };
	int whence;
	int64_t off, base, want;
	off_t r;

	if (!f)
		return;
	whence = whences[rn(9)];
	switch (rn(7)) {
	case 0: off = 0; break;
	case 1: off = f->size; break;
	case 2: off = -(int64_t)rn(f->size + 2); break;
	case 3: off = INT64_MIN; break;
	case 4: off = INT64_MAX; break;
	case 5: off = f->size + 1; break;
	default: off = rn(f->size + 1);
	}
	base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : (int64_t)f->size;
	if (whence > SEEK_END)
		want = -1;
	else if (__builtin_add_overflow(base, off, &want) || want < 0 || want > (int64_t)f->size)
		want = -1;
	trace("lseek %s %lld whence %d (pos %lld)", bname(f->b), (long long)off, whence, (long long)f->pos);
	r = lseek(f->fd, off, whence);
	if (want < 0) {
		expect(S("lseek(%lld, whence %d) of %s at %lld, size %llu", (long long)off, whence, bname(f->b),
			 (long long)f->pos, (unsigned long long)f->size), r, errno, "EINVAL");
		if (r >= 0)
			f->pos = r;
	} else if (r != want) {
		report(S("lseek(%lld, whence %d) of %s at %lld, size %llu", (long long)off, whence, bname(f->b),
			 (long long)f->pos, (unsigned long long)f->size), "expected %lld got %s", (long long)want,
		       res(r, errno));
		if (r >= 0)
			f->pos = r;
	} else {
		f->pos = r;
	}
	r = lseek(f->fd, 0, SEEK_CUR);
	if (r != f->pos) {
		report(S("lseek(0, SEEK_CUR) of %s", bname(f->b)), "expected %lld got %s", (long long)f->pos,
		       res(r, errno));
		if (r >= 0)
			f->pos = r;
	}
}

/* --- ioctls ---------------------------------------------------------------------- */

/* An ioctl argument: valid memory, or one of the bad kinds; *bad says which. */
static void *ioctl_ptr(int kernel_writes, int *bad)
{
	int k = rn(100);

	*bad = 0;
	if (k < 85)
		return arena + rn(1024) * 8;
	*bad = 1;
	if (k < 89)
		return NULL;
	if (k < 93)
		return none_page;
	if (k < 97) {
		*bad = kernel_writes;
		return ro_page;
	}
	return (void *)(uintptr_t)(sizeof(void *) == 8 ? 0xffff888000000000ull : 0xc0000000ul);
}

static void check_sync_state(struct ofd *f, const char *after)
{
	struct pbuf *p = &pb[f->b];
	u_dma_buf_ioctl_sync_args a;
	uint32_t owner = 9;

	if (!is_priv(f->b))
		return;
	if (ioctl(f->fd, U_DMA_BUF_IOCTL_GET_SYNC, &a)) {
		report(S("GET_SYNC of %s after %s", p->name, after), "expected 0 got %s", errname(errno));
		return;
	}
	if (a.offset != p->sync_off || a.size != p->sync_size ||
	    GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&a) != (uint64_t)p->sync_dir ||
	    GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&a) != (uint64_t)p->sync_mode ||
	    GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(&a) != (uint64_t)p->owner ||
	    GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&a))
		report(S("GET_SYNC of %s after %s", p->name, after),
		       "expected offset %llu size %llu dir %d mode %d owner %d got offset %llu size %llu flags 0x%llx",
		       (unsigned long long)p->sync_off, (unsigned long long)p->sync_size, p->sync_dir, p->sync_mode,
		       p->owner, (unsigned long long)a.offset, (unsigned long long)a.size,
		       (unsigned long long)a.flags);
	if (ioctl(f->fd, U_DMA_BUF_IOCTL_GET_SYNC_OWNER, &owner) || owner != (uint32_t)p->owner)
		report(S("GET_SYNC_OWNER of %s after %s", p->name, after), "expected %d got %s", p->owner,
		       res(owner, errno));
	/* Resync the model with what the module says, so one fault is one report. */
	p->sync_off = a.offset;
	p->sync_size = a.size;
	p->sync_dir = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&a);
	p->sync_mode = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&a);
	p->owner = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(&a);
}

static void op_ioctl_get(void)
{
	struct ofd *f = pick_fd();
	int k = rn(6), bad, r, e;
	void *arg;
	uint64_t *v;
	int priv;

	if (!f)
		return;
	priv = is_priv(f->b);
	arg = ioctl_ptr(1, &bad);
	v = arg;
	trace("ioctl get %d on %s (bad ptr %d)", k, bname(f->b), bad);
	switch (k) {
	case 0:
		r = ioctl(f->fd, U_DMA_BUF_IOCTL_GET_DRV_INFO, arg);
		e = errno;
		if (expect(S("GET_DRV_INFO on %s", bname(f->b)), r, e, bad ? "EFAULT" : "0") && !r) {
			u_dma_buf_ioctl_drv_info *d = arg;

			if (GET_U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION(d) != 2 ||
			    strncmp(d->version, drv_version, sizeof(d->version)))
				report("GET_DRV_INFO", "expected version 2 '%s' got %llu '%.16s'", drv_version,
				       (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION(d), d->version);
		}
		break;
	case 1:
		r = ioctl(f->fd, U_DMA_BUF_IOCTL_GET_SIZE, arg);
		e = errno;
		if (expect(S("GET_SIZE on %s", bname(f->b)), r, e, bad ? "EFAULT" : "0") && !r && *v != f->size)
			report(S("GET_SIZE on %s", bname(f->b)), "expected %llu got %llu",
			       (unsigned long long)f->size, (unsigned long long)*v);
		break;
	case 2:
		r = ioctl(f->fd, U_DMA_BUF_IOCTL_GET_DMA_ADDR, arg);
		e = errno;
		/* §13.19: after a parent went, ENODEV (before the pointer is used). */
		if (expect(S("GET_DMA_ADDR on %s", bname(f->b)), r, e,
			   bad ? (priv ? "EFAULT" : "EFAULT ENODEV") : priv ? "0" : "0 ENODEV") && !r && priv && *v != pb[f->b].dma_addr)
			report(S("GET_DMA_ADDR on %s", bname(f->b)), "expected sysfs phys_addr 0x%llx got 0x%llx",
			       (unsigned long long)pb[f->b].dma_addr, (unsigned long long)*v);
		break;
	case 3:
		r = ioctl(f->fd, U_DMA_BUF_IOCTL_GET_DEV_INFO, arg);
		e = errno;
		if (expect(S("GET_DEV_INFO on %s", bname(f->b)), r, e,
			   bad ? (priv ? "EFAULT" : "EFAULT ENODEV") : priv ? "0" : "0 ENODEV") && !r) {
			u_dma_buf_ioctl_dev_info *d = arg;
			uint64_t bits = GET_U_DMA_BUF_IOCTL_FLAGS_DMA_MASK(d);

			if (d->size != f->size || bits < 12 || bits > 64 ||
			    (priv && (d->addr != pb[f->b].dma_addr ||
				      GET_U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE(d) != (uint64_t)pb[f->b].mode)))
				report(S("GET_DEV_INFO on %s", bname(f->b)),
				       "expected size %llu addr 0x%llx mode %d got size %llu addr 0x%llx flags 0x%llx",
				       (unsigned long long)f->size,
				       (unsigned long long)(priv ? pb[f->b].dma_addr : 0), priv ? pb[f->b].mode : 0,
				       (unsigned long long)d->size, (unsigned long long)d->addr,
				       (unsigned long long)d->flags);
		}
		break;
	case 4:
		r = ioctl(f->fd, U_DMA_BUF_IOCTL_GET_SYNC, arg);
		e = errno;
		if (expect(S("GET_SYNC on %s", bname(f->b)), r, e, bad ? "EFAULT" : "0") && !r)
			check_sync_state(f, "GET_SYNC");
		break;
	default:
		r = ioctl(f->fd, U_DMA_BUF_IOCTL_GET_SYNC_OWNER, arg);
		e = errno;
		if (expect(S("GET_SYNC_OWNER on %s", bname(f->b)), r, e, bad ? "EFAULT" : "0") && !r &&
		    priv && *(uint32_t *)arg != (uint32_t)pb[f->b].owner)
			report(S("GET_SYNC_OWNER on %s", bname(f->b)), "expected %d got %u", pb[f->b].owner,
			       *(uint32_t *)arg);
	}
}

/* The outcome of an encoded sync command on a private buffer (the model applied on success). */
static int sync_cmd_model(struct pbuf *p, uint64_t cmd, int for_device, int apply)
{
	uint64_t off, size;

	if (cmd == 0)
		return 0;
	if (cmd == 1) {
		off = p->sync_off;
		size = p->sync_size;
	} else {
		off = cmd >> 32;
		size = cmd & 0xfffffff0ull;
	}
	if (off > p->size || size > p->size - off)
		return -EINVAL;
	if (apply)
		p->owner = for_device;
	return 0;
}

static uint64_t pick_cmd(uint64_t size)
{
	uint64_t off = rn(size + 1), len = rn(size - off + 1) & ~15ull;

	switch (rn(8)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return r64();
	case 3: return ((size + rn(3)) << 32) | (rn(4) << 2) | 1;
	case 4: return (off << 32) | (((size - off + 16) & 0xfffffff0ull)) | (rn(4) << 2) | 1;
	default: return (off << 32) | len | (rn(4) << 2) | 1;
	}
}

static void op_ioctl_sync(void)
{
	struct ofd *f = pick_fd();
	int for_device = pct(50), bad, r, e;
	uint64_t *arg, cmd;

	if (!f)
		return;
	arg = ioctl_ptr(0, &bad);
	cmd = pick_cmd(f->size);
	if (arg == (uint64_t *)ro_page)
		cmd = *arg;	/* read-only memory: a valid argument the kernel only reads */
	else if (!bad)
		*arg = cmd;
	trace("SET_SYNC_FOR_%s 0x%llx on %s (bad %d)", for_device ? "DEVICE" : "CPU", (unsigned long long)cmd,
	      bname(f->b), bad);
	r = ioctl(f->fd, for_device ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE : U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, arg);
	e = errno;
	if (bad) {
		expect(S("SET_SYNC_FOR_%s with a bad pointer on %s", for_device ? "DEVICE" : "CPU", bname(f->b)),
		       r, e, "EFAULT");
	} else if (is_priv(f->b)) {
		int want = sync_cmd_model(&pb[f->b], cmd, for_device, 0);

		if (expect(S("SET_SYNC_FOR_%s 0x%016llx on %s (size %llu, stored %llu+%llu)",
			     for_device ? "DEVICE" : "CPU", (unsigned long long)cmd, bname(f->b),
			     (unsigned long long)f->size, (unsigned long long)pb[f->b].sync_off,
			     (unsigned long long)pb[f->b].sync_size), r, e, want ? "EINVAL" : "0") && !r)
			sync_cmd_model(&pb[f->b], cmd, for_device, 1);
		check_sync_state(f, "an encoded sync command");
	} else {
		expect(S("SET_SYNC_FOR_%s on shared %s", for_device ? "DEVICE" : "CPU", bname(f->b)), r, e,
		       "0 EINVAL");
	}
}

static void op_set_sync(void)
{
	struct ofd *f = pick_fd();
	u_dma_buf_ioctl_sync_args *a;
	int bad, r, e, cmd, dir, mode;
	uint64_t size;
	const char *want;
	struct pbuf *p;

	if (!f)
		return;
	a = ioctl_ptr(0, &bad);
	if (!bad && a != (void *)ro_page) {
		memset(a, 0, sizeof(*a));
		cmd = rn(4);
		dir = rn(4);
		mode = pct(80) ? rn(8) : rn(256);
		SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(a, cmd);
		SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(a, dir);
		SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(a, mode);
		if (pct(20))
			a->flags |= r64() & ~0xffffull;	/* owner bit and unknown bits are ignored */
		switch (rn(5)) {
		case 0: a->size = 0; break;
		case 1: a->size = f->size; break;
		case 2: a->size = f->size + 1 + rn(4096); break;
		case 3: a->size = r64(); break;
		default: a->size = 1 + rn(f->size);
		}
		switch (rn(5)) {
		case 0: a->offset = 0; break;
		case 1: a->offset = f->size; break;
		case 2: a->offset = f->size + 1; break;
		case 3: a->offset = r64(); break;
		default: a->offset = rn(f->size + 1);
		}
	}
	trace("SET_SYNC on %s flags 0x%llx size %llu off %llu (bad %d, acc %d)", bname(f->b),
	      bad ? 0ULL : (unsigned long long)a->flags, bad ? 0ULL : (unsigned long long)a->size,
	      bad ? 0ULL : (unsigned long long)a->offset, bad, f->acc);
	r = ioctl(f->fd, U_DMA_BUF_IOCTL_SET_SYNC, a);
	e = errno;
	if (f->acc == O_RDONLY) {
		/* §13.15: SET_SYNC needs an fd opened for writing (before or after the argument is read). */
		expect(S("SET_SYNC on an O_RDONLY fd of %s", bname(f->b)), r, e, bad ? "EBADF EFAULT" : "EBADF");
		check_sync_state(f, "SET_SYNC on an O_RDONLY fd");
		return;
	}
	if (bad) {
		expect(S("SET_SYNC with a bad pointer on %s", bname(f->b)), r, e, "EFAULT");
		check_sync_state(f, "SET_SYNC with a bad pointer");
		return;
	}
	if (!is_priv(f->b)) {
		expect(S("SET_SYNC on shared %s", bname(f->b)), r, e, "0 EINVAL");
		return;
	}
	p = &pb[f->b];
	cmd = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(a);
	dir = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(a);
	mode = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(a);
	size = a->size ? a->size : p->sync_size;
	want = mode > 7 || a->offset > p->size || size > p->size - a->offset ? "EINVAL" : "0";
	if (expect(S("SET_SYNC cmd %d dir %d mode %d size %llu offset %llu on %s (size %llu, stored size %llu)",
		     cmd, dir, mode, (unsigned long long)a->size, (unsigned long long)a->offset, p->name,
		     (unsigned long long)p->size, (unsigned long long)p->sync_size), r, e, want) && !r) {
		if (dir != 3)
			p->sync_dir = dir;
		if (mode)
			p->sync_mode = mode;
		p->sync_off = a->offset;
		p->sync_size = size;
		if (cmd == 1 || cmd == 3)
			p->owner = cmd == 3;
	}
	check_sync_state(f, "SET_SYNC");
}

/* The lowest free fd number: what a new fd would get. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void op_export(void)
{
	static const uint64_t accs[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDWR };
	struct ofd *f = pick_fd();
	u_dma_buf_ioctl_export_args *a;
	int bad, r, e, slot = -1, low, fl;
	uint64_t flags = 0, off = 0, size = 0, pages;
	const char *want;
	int acc_bad, args_bad, ro;

	if (!f)
		return;
	pages = f->alloc / PG;
	a = ioctl_ptr(1, &bad);
	ro = a == (void *)ro_page;
	flags = accs[rn(4)] | (pct(40) ? O_CLOEXEC : 0) | (pct(20) ? O_SYNC : 0);
	if (pct(8))
		flags |= (uint64_t[]){ O_APPEND, O_NONBLOCK, O_DSYNC, 1ull << 40, O_ACCMODE, O_TRUNC }[rn(6)];
	switch (rn(6)) {
	case 0: off = 0; size = 0; break;
	case 1: off = rn(pages) * PG; size = 0; break;
	case 2: off = rn(pages) * PG; size = (1 + rn(pages - off / PG)) * PG; break;
	case 3: off = rn(f->alloc + 1); size = rn(f->alloc + 1); break;
	case 4: off = f->alloc; size = pct(50) ? 0 : PG; break;
	default: off = rn(pages) * PG; size = (pages - off / PG + 1 + rn(2)) * PG;
	}
	if (!bad) {
		memset(a, 0, sizeof(*a));
		a->flags = flags;
		a->offset = off;
		a->size = size;
		a->fd = -7;
	}
	args_bad = (flags & ~(uint64_t)(O_CLOEXEC | O_ACCMODE | O_SYNC)) || (flags & O_ACCMODE) == O_ACCMODE ||
		   ((flags & O_SYNC) && (flags & O_SYNC) != O_SYNC) || (off % PG) || (size % PG) ||
		   off >= f->alloc || (size ? size : f->alloc - off) > f->alloc - off;
	acc_bad = ((flags & O_ACCMODE) != O_WRONLY && f->acc == O_WRONLY) ||
		  ((flags & O_ACCMODE) != O_RDONLY && f->acc == O_RDONLY);
	if (ro)
		want = "EFAULT EINVAL EACCES";	/* whatever the page holds: never a new fd */
	else if (bad)
		want = is_priv(f->b) ? "EFAULT" : "EFAULT ENODEV";
	else if (args_bad)
		want = acc_bad ? "EINVAL EACCES" : "EINVAL";
	else if (acc_bad)
		want = "EACCES";
	else
		want = is_priv(f->b) ? "0" : "0 ENODEV";
	if (!is_priv(f->b) && !bad && !ro && (args_bad || acc_bad))
		want = "EINVAL EACCES ENODEV";
	low = lowest_free_fd();
	trace("EXPORT %s flags 0x%llx off %llu size %llu (bad %d, fd acc %d)", bname(f->b),
	      (unsigned long long)flags, (unsigned long long)off, (unsigned long long)size, bad, f->acc);
	r = ioctl(f->fd, U_DMA_BUF_IOCTL_EXPORT, a);
	e = errno;
	if (!expect(S("EXPORT of %s: flags 0%llo offset %llu size %llu%s, fd %s, alloc %llu", bname(f->b),
		      (unsigned long long)flags, (unsigned long long)off, (unsigned long long)size,
		      bad ? ", bad pointer" : "", f->acc == O_RDONLY ? "O_RDONLY" : f->acc == O_WRONLY ?
		      "O_WRONLY" : "O_RDWR", (unsigned long long)f->alloc), r, e, want)) {
		if (!r && a->fd >= 0)
			close(a->fd);
		return;
	}
	if (r) {
		if (low >= 0 && fcntl(low, F_GETFD) >= 0) {
			report(S("failed EXPORT (%s) of %s", errname(e), bname(f->b)),
			       "expected no new fd got fd %d open", low);
			close(low);
		}
		return;
	}
	fl = fcntl(a->fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != (int)(flags & O_ACCMODE) ||
	    !!(fcntl(a->fd, F_GETFD) & FD_CLOEXEC) != !!(flags & O_CLOEXEC))
		report(S("EXPORT of %s: the new fd", bname(f->b)), "expected access %d cloexec %d got fd %d F_GETFL %s",
		       (int)(flags & O_ACCMODE), !!(flags & O_CLOEXEC), a->fd, res(fl, errno));
	if (is_priv(f->b) && a->addr != pb[f->b].dma_addr + off)
		report(S("EXPORT of %s at %llu: addr", bname(f->b), (unsigned long long)off),
		       "expected 0x%llx got 0x%llx", (unsigned long long)(pb[f->b].dma_addr + off),
		       (unsigned long long)a->addr);
	for (int i = 0; i < NDB; i++)
		if (dbs[i].fd < 0)
			slot = i;
	if (slot < 0) {
		slot = rn(NDB);
		close(dbs[slot].fd);
	}
	dbs[slot].fd = a->fd;
	dbs[slot].b = f->b;
	dbs[slot].off = off;
	dbs[slot].size = size ? size : f->alloc - off;
	dbs[slot].acc = flags & O_ACCMODE;
	dbs[slot].osync = !!(flags & O_SYNC);
	if (lseek(a->fd, 0, SEEK_END) != (off_t)dbs[slot].size)
		report(S("lseek(SEEK_END) of a dma-buf of %s", bname(f->b)), "expected %llu got %s",
		       (unsigned long long)dbs[slot].size, res(lseek(a->fd, 0, SEEK_END), errno));
}

static void op_ioctl_bad(void)
{
	struct ofd *f = pick_fd();
	unsigned int nr, size, dir, cmd;
	int r;

	if (!f)
		return;
	do {
		nr = pct(50) ? rn(256) : rn(12);
		size = pct(50) ? rn(1 << 14) : (unsigned int[]){ 0, 4, 8, 24, 36, 40, 48 }[rn(7)];
		dir = rn(4);
		cmd = _IOC(dir, 'U', nr, size);
	} while ((cmd == U_DMA_BUF_IOCTL_GET_DRV_INFO || cmd == U_DMA_BUF_IOCTL_GET_SIZE ||
		  cmd == U_DMA_BUF_IOCTL_GET_DMA_ADDR || cmd == U_DMA_BUF_IOCTL_GET_SYNC_OWNER ||
		  cmd == U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU || cmd == U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE ||
		  cmd == U_DMA_BUF_IOCTL_GET_DEV_INFO || cmd == U_DMA_BUF_IOCTL_GET_SYNC ||
		  cmd == U_DMA_BUF_IOCTL_SET_SYNC || cmd == U_DMA_BUF_IOCTL_EXPORT ||
		  cmd == _IOC(_IOC_READ | _IOC_WRITE, 'U', 10, 36)));
	trace("ioctl 0x%08x on %s", cmd, bname(f->b));
	r = ioctl(f->fd, cmd, pct(50) ? (void *)arena : NULL);
	expect(S("unknown ioctl 0x%08x on %s", cmd, bname(f->b)), r, errno, "ENOTTY");
	if (is_priv(f->b))
		check_sync_state(f, "an unknown ioctl");
}

/* --- sysfs --------------------------------------------------------------------------- */

static const char *const rw_attrs[] = { "sync_mode", "sync_offset", "sync_size", "sync_direction",
					 "sync_for_cpu", "sync_for_device", "debug_vma" };
static const char *const ro_attrs[] = { "driver_version", "size", "phys_addr", "sync_owner", "dma_coherent",
					 "quirk_mmap_mode", "ioctl_version" };

static size_t pick_text(char *t, size_t cap, uint64_t max)
{
	uint64_t v = pct(70) ? rn(max + 2) : r64();
	const char *nl = pct(50) ? "\n" : "";

	switch (rn(16)) {
	case 0: return snprintf(t, cap, "%llu%s", (unsigned long long)v, nl);
	case 1: return snprintf(t, cap, "0x%llx%s", (unsigned long long)v, nl);
	case 2: return snprintf(t, cap, "0%llo%s", (unsigned long long)v, nl);
	case 3: return snprintf(t, cap, "+%llu%s", (unsigned long long)v, nl);
	case 4: return snprintf(t, cap, "%llu%s", (unsigned long long)max, nl);
	case 5: return snprintf(t, cap, "%llu%s", (unsigned long long)max + 1, nl);
	case 6: return snprintf(t, cap, "%s", (const char *[]){ "", "\n", "\n\n", " 1", "1 ", "-1", "0x", "0x\n",
						 "08", "abc", "18446744073709551615", "18446744073709551616",
						 "0xffffffffffffffffff", "1\n\n", "0X10", "1.5" }[rn(16)]);
	case 7: {
		size_t n = 1 + rn(cap - 1);

		for (size_t i = 0; i < n; i++)
			t[i] = (char)(1 + rn(255));
		return n;
	}
	case 8: {	/* NUL inside: sysfs parses up to it */
		int l = snprintf(t, cap, "%llu", (unsigned long long)(v % (max + 1)));

		t[l] = 0;
		memcpy(t + l + 1, "junk", 5);
		return l + 5;
	}
	case 9: {
		size_t n = PG + rn(PG);

		memset(t, '1' + rn(9), n < cap ? n : cap);
		return n < cap ? n : cap;
	}
	case 10: return snprintf(t, cap, "0x%08llX%08llX%s", (unsigned long long)rn(max + 2),
				 (unsigned long long)((rn(max + 1) & ~15ull) | (rn(4) << 2) | 1), nl);
	default: return snprintf(t, cap, "%llu%s", (unsigned long long)rn(max + 1), nl);
	}
}

static void op_sysfs_write(void)
{
	static char text[3 * 4096];
	int b = pick_buffer(), ai, fd, e, nullp = pct(3);
	const char *attr;
	struct pbuf *p = &pb[b];
	uint64_t max, val = 0;
	size_t len;
	long r;
	int parse, want_err = 0;
	int rdonly = pct(8);
	char str[4096 + 8], got[64], exp[64];

	attr = rdonly ? ro_attrs[rn(7)] : rw_attrs[ai = rn(7)];
	max = !strcmp(attr, "sync_mode") ? 7 : !strcmp(attr, "sync_direction") ? 2 :
	      !strcmp(attr, "debug_vma") ? 3 : !strcmp(attr, "sync_offset") || !strcmp(attr, "sync_size") ?
	      (is_priv(b) ? p->size : 1 << 20) : (is_priv(b) ? p->size : 1 << 20);
	len = pick_text(text, sizeof(text), max);
	/* debug_vma: mostly even values, so the log does not fill with VMA lines */
	if (!strcmp(attr, "debug_vma") && pct(90))
		len = snprintf(text, sizeof(text), "%d\n", (int)rn(2) * 2);
	trace("sysfs %s/%s <- '%.40s' (%zu bytes)", bname(b), attr, text, len);
	fd = open(attr_path(bname(b), attr), O_WRONLY);
	if (rdonly) {
		if (!expect(S("open of read-only %s/%s for writing", bname(b), attr), fd, errno,
			    is_priv(b) && p->exists ? "EACCES" : "EACCES ENOENT") && fd >= 0)
			close(fd);
		return;
	}
	if (is_priv(b)) {
		if (!expect(S("open %s/%s for writing (%s)", bname(b), attr, p->exists ? "exists" : "absent"), fd,
			    errno, p->exists ? "0" : "ENOENT") || fd < 0) {
			if (fd >= 0)
				close(fd);
			return;
		}
	} else if (!expect(S("open shared %s/%s", bname(b), attr), fd, errno, "0 ENOENT") || fd < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	r = write(fd, nullp ? NULL : text, len);
	e = errno;
	close(fd);
	if (nullp) {
		expect(S("write of %s/%s from NULL", bname(b), attr), r, e, len ? "EFAULT" : "0");
		return;
	}
	if (!is_priv(b)) {
		expect(S("write '%.40s' to shared %s/%s", text, bname(b), attr), r, e, "0 EINVAL ERANGE ENODEV E2BIG");
		return;
	}
	if (!len) {
		expect(S("an empty write to %s/%s", bname(b), attr), r, e, "0");
		return;
	}
	/* What the store sees: at most a page, up to the first NUL. */
	memcpy(str, text, len < PG - 1 ? len : PG - 1);
	str[len < PG - 1 ? len : PG - 1] = 0;
	parse = k_strtoull(str, &val);
	if (parse)
		want_err = -parse;
	else if (!strncmp(attr, "sync_for_", 9))
		want_err = -sync_cmd_model(p, val, attr[9] == 'd', 0);
	else if (val > max)
		want_err = EINVAL;
	if (want_err) {
		expect(S("write '%s' to %s/%s (max %llu)", str, p->name, attr, (unsigned long long)max), r, e,
		       want_err == ERANGE ? "ERANGE EINVAL" : "EINVAL");
	} else if (r != (long)(len > PG ? PG : len) && r != (long)len &&
		   !(len > PG && in_set(r, e, "E2BIG"))) {
		report(S("write '%s' to %s/%s", str, p->name, attr), "expected %zu got %s", len, res(r, e));
	} else {
		if (!strcmp(attr, "sync_mode"))
			p->sync_mode = val;
		else if (!strcmp(attr, "sync_offset"))
			p->sync_off = val;
		else if (!strcmp(attr, "sync_size"))
			p->sync_size = val;
		else if (!strcmp(attr, "sync_direction"))
			p->sync_dir = val;
		else if (!strcmp(attr, "debug_vma"))
			p->debug_vma = val;
		else
			sync_cmd_model(p, val, attr[9] == 'd', 1);
	}
	/* Read back. */
	if (!strcmp(attr, "sync_offset"))
		snprintf(exp, sizeof(exp), "0x%llx", (unsigned long long)p->sync_off);
	else if (!strcmp(attr, "sync_size"))
		snprintf(exp, sizeof(exp), "%llu", (unsigned long long)p->sync_size);
	else if (!strcmp(attr, "sync_mode"))
		snprintf(exp, sizeof(exp), "%d", p->sync_mode);
	else if (!strcmp(attr, "sync_direction"))
		snprintf(exp, sizeof(exp), "%d", p->sync_dir);
	else if (!strcmp(attr, "debug_vma"))
		snprintf(exp, sizeof(exp), "%d", p->debug_vma);
	else
		snprintf(exp, sizeof(exp), "0");
	if (text_read(attr_path(p->name, attr), got, sizeof(got)) || strcmp(got, exp)) {
		report(S("%s/%s after writing '%s'", p->name, attr, str), "expected '%s' got '%s'", exp, got);
		if (!strcmp(attr, "sync_mode"))
			p->sync_mode = atoi(got);
		else if (!strcmp(attr, "sync_offset"))
			p->sync_off = strtoull(got, NULL, 0);
		else if (!strcmp(attr, "sync_size"))
			p->sync_size = strtoull(got, NULL, 0);
		else if (!strcmp(attr, "sync_direction"))
			p->sync_dir = atoi(got);
	}
	snprintf(exp, sizeof(exp), "%d", p->owner);
	if (text_read(attr_path(p->name, "sync_owner"), got, sizeof(got)) || strcmp(got, exp)) {
		report(S("%s/sync_owner after writing '%s' to %s", p->name, str, attr), "expected '%s' got '%s'", exp,
		       got);
		p->owner = atoi(got);
	}
	(void)ai;
}

static void op_sysfs_read(void)
{
	int b = pick_buffer(), r;
	const char *attr = pct(50) ? ro_attrs[rn(7)] : rw_attrs[rn(7)];
	char got[128];

	trace("sysfs read %s/%s", bname(b), attr);
	r = text_read(attr_path(bname(b), attr), got, sizeof(got));
	expect(S("read of %s/%s", bname(b), attr), r, -r,
	       is_priv(b) ? (pb[b].exists ? "0" : "ENOENT") : "0 ENOENT ENODEV");
	if (r || !is_priv(b))
		return;
	if (!strcmp(attr, "size") && strtoull(got, NULL, 0) != pb[b].size)
		report(S("%s/size", bname(b)), "expected %llu got '%s'", (unsigned long long)pb[b].size, got);
	if (!strcmp(attr, "sync_owner") && atoi(got) != pb[b].owner)
		report(S("%s/sync_owner", bname(b)), "expected %d got '%s'", pb[b].owner, got);
	if (!strcmp(attr, "driver_version") && strcmp(got, drv_version))
		report(S("%s/driver_version", bname(b)), "expected '%s' got '%s'", drv_version, got);
}

/* --- dma-buf --------------------------------------------------------------------------- */

static void op_db_mmap(void)
{
	struct odb *d = pick_db();
	int checkable;

	if (!d)
		return;
	checkable = is_priv(d->b) && (ARCH_X86 || !d->osync || pb[d->b].mode == 1);
	do_mmap(d->fd, d->b, d->acc, d->size, d->off, checkable, "dma-buf");
}

static void op_db_sync(void)
{
	struct odb *d = pick_db();
	struct dma_buf_sync s;
	int r, bad = pct(5);
	const char *want;

	if (!d)
		return;
	s.flags = (pct(50) ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END) | (1 + rn(3));
	if (pct(10))
		s.flags = pct(50) ? r64() : (pct(50) ? DMA_BUF_SYNC_START : DMA_BUF_SYNC_END);
	want = bad ? "EFAULT" : (s.flags & ~(uint64_t)DMA_BUF_SYNC_VALID_FLAGS_MASK) ||
	       !(s.flags & DMA_BUF_SYNC_RW) ? "EINVAL" : "0";
	trace("DMA_BUF_IOCTL_SYNC 0x%llx on a dma-buf of %s", (unsigned long long)s.flags, bname(d->b));
	r = ioctl(d->fd, DMA_BUF_IOCTL_SYNC, bad ? NULL : &s);
	expect(S("DMA_BUF_IOCTL_SYNC 0x%llx on a dma-buf of %s", (unsigned long long)s.flags, bname(d->b)), r,
	       errno, want);
	for (int i = 0; i < NMAP; i++)
		if (maps[i].addr && maps[i].b == d->b && (maps[i].prot & PROT_READ) && pct(30))
			touch_map(&maps[i], 0, "after DMA_BUF_IOCTL_SYNC: ");
}

/* --- vmsplice / O_DIRECT ------------------------------------------------------------------ */

static void op_pipe_drain(void)
{
	static uint8_t got[65536];
	ssize_t n;

	if (pipe_b < 0)
		return;
	trace("drain the pipe (%zu bytes of %s at %llu)", pipe_len, bname(pipe_b), (unsigned long long)pipe_off);
	n = read(pipefd[0], got, pipe_len);
	if (n != (ssize_t)pipe_len)
		report(S("read of the pipe with %zu vmspliced bytes of %s", pipe_len, bname(pipe_b)),
		       "expected %zu got %s", pipe_len, res(n, errno));
	else if (is_priv(pipe_b) && pb[pipe_b].exists)
		check_data(pipe_b, pipe_off, got, n, "pipe (vmsplice)");
	drop_pipe();
}

static void op_vmsplice(void)
{
	struct omap *m = pick_map(PROT_READ);
	struct iovec iov;
	size_t off, len;
	long r;

	if (!m)
		return;
	op_pipe_drain();
	if (pipe2(pipefd, O_NONBLOCK)) {
		pipefd[0] = pipefd[1] = -1;
		return;
	}
	off = rn(m->len);
	len = 1 + rn(m->len - off);
	if (len > 65536)
		len = 65536;
	iov.iov_base = m->addr + off;
	iov.iov_len = len;
	trace("vmsplice %s +%zu %zu", bname(m->b), off, len);
	r = vmsplice(pipefd[1], &iov, 1, 0);
	/* Page-frame mappings (no refcounted pages, mode off) cannot be pinned: EFAULT. */
	if (!expect(S("vmsplice of %zu bytes of a mapping of %s", len, bname(m->b)), r, errno, "0 EFAULT") || r <= 0) {
		drop_pipe();
		return;
	}
	pipe_b = m->b;
	pipe_off = m->boff + off;
	pipe_len = r;
	if (!m->checkable)
		pipe_b = pipe_b < NPRIV ? pipe_b : pipe_b;	/* data not compared, the pin still counts */
	if (pct(30))
		op_pipe_drain();
}

/*
 * §13.17: pages still in a pipe keep the buffer in use after munmap and close:
 * delete -> EBUSY, then drain and delete works.
 */
static void op_pin_delete(void)
{
	int b = rn(NPRIV);
	struct omap *m = NULL;

	for (int i = 0; i < NMAP; i++)
		if (maps[i].addr && maps[i].b == b && (maps[i].prot & PROT_READ))
			m = &maps[i];
	if (!m || !pb[b].exists)
		return;
	op_pipe_drain();
	if (pipe2(pipefd, O_NONBLOCK)) {
		pipefd[0] = pipefd[1] = -1;
		return;
	}
	{
		struct iovec iov = { m->addr, m->len < 65536 ? m->len : 65536 };
		long r = vmsplice(pipefd[1], &iov, 1, 0);

		trace("pin-delete: vmsplice %s %zu -> %ld", pb[b].name, iov.iov_len, r);
		if (r <= 0) {
			drop_pipe();
			return;
		}
		pipe_b = b;
		pipe_off = m->boff;
		pipe_len = r;
	}
	/* Drop every other handle of b. */
	for (int i = 0; i < NFD; i++)
		if (fds[i].fd >= 0 && fds[i].b == b)
			close_fd(&fds[i]);
	for (int i = 0; i < NMAP; i++)
		if (maps[i].addr && maps[i].b == b) {
			munmap(maps[i].addr, maps[i].len);
			maps[i].addr = NULL;
		}
	for (int i = 0; i < NDB; i++)
		if (dbs[i].fd >= 0 && dbs[i].b == b) {
			close(dbs[i].fd);
			dbs[i].fd = -1;
		}
	delete_priv(b);		/* expects EBUSY: the pipe holds pages */
	if (pb[b].exists) {
		op_pipe_drain();
		delete_priv(b);
	}
}

static int disk_ok(void)
{
	return vfd >= 0;
}

static void op_odirect(int to_disk)
{
	struct omap *m = pick_map(to_disk ? PROT_READ : PROT_READ | PROT_WRITE);
	static uint8_t *al;
	size_t off, len;
	uint64_t doff;
	int misalign = pct(5), sig;
	long r;

	if (!m || !disk_ok())
		return;
	if (!al && posix_memalign((void **)&al, PG, 65536))
		return;
	off = rn(m->len / 512) * 512;
	len = (1 + rn((m->len - off) / 512 < 128 ? (m->len - off) / 512 : 128)) * 512;
	doff = rn((DISK_REGION - len) / 512) * 512;
	trace("O_DIRECT %s %s +%zu %zu disk %llu%s", to_disk ? "write from" : "read into", bname(m->b), off, len,
	      (unsigned long long)doff, misalign ? " misaligned" : "");
	if (to_disk && m->checkable) {
		sig = gcopy(tmpbuf, m->addr + off, len);
		if (sig) {
			report(S("reading a valid mapping of %s", bname(m->b)), "expected no fault got %s", signame(sig));
			return;
		}
		check_data(m->b, m->boff + off, tmpbuf, len, "mapping before O_DIRECT");
	}
	if (to_disk)
		r = pwrite(vfd, m->addr + off + misalign, len, disk_base + doff);
	else
		r = pread(vfd, m->addr + off + misalign, len, disk_base + doff);
	if (!expect(S("O_DIRECT %s of %zu bytes %s a mapping of %s%s", to_disk ? "pwrite" : "pread", len,
		      to_disk ? "from" : "into", bname(m->b), misalign ? " (misaligned)" : ""),
		    r == (long)len ? 0 : -1, r < 0 ? errno : EIO, misalign ? "EINVAL" : "0 EFAULT")) {
		forget_data(m->b, m->boff + off, len);
		memset(disk_known + doff, 0, len);
		return;
	}
	if (r != (long)len)
		return;
	if (to_disk) {
		if (m->checkable) {
			memcpy(disk_shadow + doff, tmpbuf, len);
			memset(disk_known + doff, 1, len);
		} else {
			memset(disk_known + doff, 0, len);
		}
		r = pread(vfd, al, len, disk_base + doff);
		if (r != (long)len) {
			report("O_DIRECT read back of the disk", "expected %zu got %s", len, res(r, errno));
			return;
		}
		for (size_t i = 0; i < len; i++)
			if (disk_known[doff + i] && disk_shadow[doff + i] != al[i]) {
				report(S("O_DIRECT write from a mapping of %s: the disk", bname(m->b)),
				       "expected byte %zu = 0x%02x got 0x%02x", i, disk_shadow[doff + i], al[i]);
				break;
			}
	} else {
		r = pread(vfd, al, len, disk_base + doff);
		if (r != (long)len) {
			report("O_DIRECT read of the disk", "expected %zu got %s", len, res(r, errno));
			return;
		}
		sig = gcopy(tmpbuf, m->addr + off, len);
		if (sig) {
			report(S("reading a valid mapping of %s after O_DIRECT", bname(m->b)), "expected no fault got %s",
			       signame(sig));
			return;
		}
		/* Other processes write shared buffers meanwhile: only our own are compared. */
		if (m->checkable && memcmp(tmpbuf, al, len))
			report(S("O_DIRECT read into a mapping of %s", bname(m->b)),
			       "expected the disk's %zu bytes in the mapping got others", len);
		if (m->checkable)
			set_data(m->b, m->boff + off, al, len);
		else
			forget_data(m->b, m->boff + off, len);
	}
}

/* --- module, parents ------------------------------------------------------------------------ */

static void op_rmmod(void)
{
	long r;

	trace("delete_module(u_dma_buf) while in use");
	r = syscall(SYS_delete_module, "u_dma_buf", pct(50) ? O_NONBLOCK : 0);
	if (!expect("rmmod while the module is in use (this process holds the manager open)", r, errno,
		    "EAGAIN EBUSY")) {
		report("rmmod", "the module went away under its users; stopping");
		_exit(5);
	}
}

static void op_fsync(void)
{
	struct ofd *f = pick_fd();
	struct omap *m = pick_map(0);
	int r;

	if (f && pct(50)) {
		trace("fsync %s", bname(f->b));
		r = pct(50) ? fsync(f->fd) : fdatasync(f->fd);
		expect(S("fsync of an fd of %s", bname(f->b)), r, errno, "0");
	} else if (m) {
		size_t first = rn(m->len / PG), count = 1 + rn(m->len / PG - first);
		int flags = (int[]){ MS_SYNC, MS_ASYNC, MS_INVALIDATE, MS_SYNC | MS_ASYNC, MS_SYNC | 0x100 }[rn(5)];
		int unaligned = pct(5);

		trace("msync %s flags %d", bname(m->b), flags);
		r = msync(m->addr + first * PG + unaligned, count * PG, flags);
		expect(S("msync(flags %d) of a mapping of %s%s", flags, bname(m->b), unaligned ? ", unaligned" : ""),
		       r, errno, unaligned || flags == (MS_SYNC | MS_ASYNC) || flags == (MS_SYNC | 0x100) ||
		       (flags == MS_SYNC && m->dmabuf) ? "EINVAL" : "0");
	}
}

/* The parent of fzedu goes away (PCI remove) or comes back (rescan). */
static void op_edu(void)
{
	int e;

	if (!edu)
		return;
	if (!access(S("/sys/bus/pci/devices/%s", edu), F_OK)) {
		trace("PCI remove %s", edu);
		e = text_write(S("/sys/bus/pci/devices/%s/remove", edu), "1");
		expect(S("PCI remove of %s (parent of fzedu)", edu), e ? -1 : 0, e, "0 ENOENT");
	} else {
		trace("PCI rescan");
		e = text_write("/sys/bus/pci/rescan", "1");
		expect("PCI rescan", e ? -1 : 0, e, "0");
	}
}

/* sysfs unbind + bind of a module-made platform device (parameter buffer). */
static void op_unbind(void)
{
	int e;

	if (!unbind_pdev)
		return;
	trace("unbind + bind %s", unbind_pdev);
	e = text_write("/sys/bus/platform/drivers/u-dma-buf/unbind", unbind_pdev);
	expect(S("unbind of %s from u-dma-buf", unbind_pdev), e ? -1 : 0, e, "0 ENODEV");
	e = text_write("/sys/bus/platform/drivers/u-dma-buf/bind", unbind_pdev);
	expect(S("bind of %s to u-dma-buf", unbind_pdev), e ? -1 : 0, e, "0 ENODEV EEXIST EBUSY ENOMEM");
}

/* --- worker ----------------------------------------------------------------------------------- */

struct opw {
	int op, weight;
};

static const struct opw weights[] = {
	{ OP_create, 6 }, { OP_delete, 4 }, { OP_mgr_bad, 4 }, { OP_mgr_split, 1 }, { OP_shared_mgr, 4 },
	{ OP_open, 8 }, { OP_close, 5 }, { OP_mmap, 8 }, { OP_munmap, 4 }, { OP_mremap, 2 },
	{ OP_madvise, 3 }, { OP_touch, 8 }, { OP_fork, 1 }, { OP_read, 5 }, { OP_write, 5 },
	{ OP_pread, 5 }, { OP_pwrite, 5 }, { OP_lseek, 3 }, { OP_ioctl_get, 4 }, { OP_ioctl_sync, 4 },
	{ OP_set_sync, 4 }, { OP_export, 4 }, { OP_ioctl_bad, 2 }, { OP_sysfs_write, 5 },
	{ OP_sysfs_read, 2 }, { OP_db_mmap, 3 }, { OP_db_sync, 2 }, { OP_db_close, 1 },
	{ OP_vmsplice, 2 }, { OP_pipe_drain, 1 }, { OP_pin_delete, 1 }, { OP_odirect_write, 2 },
	{ OP_odirect_read, 2 }, { OP_rmmod, 1 }, { OP_fsync, 2 }, { OP_edu, 0 }, { OP_unbind, 0 },
};

static int pick_op(void)
{
	static int total;
	int x;

	if (!total)
		for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++)
			total += weights[i].weight;
	x = rn(total);
	for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++) {
		if (x < weights[i].weight)
			return weights[i].op;
		x -= weights[i].weight;
	}
	return OP_open;
}

static void run_op(int op)
{
	cur_op = op;
	__atomic_fetch_add(&sh->per_op[op], 1, __ATOMIC_RELAXED);
	switch (op) {
	case OP_create: op_create(); break;
	case OP_delete: op_delete(); break;
	case OP_mgr_bad: op_mgr_bad(); break;
	case OP_mgr_split: op_mgr_split(); break;
	case OP_shared_mgr: op_shared_mgr(); break;
	case OP_open: op_open(); break;
	case OP_close: op_close(); break;
	case OP_mmap: op_mmap(); break;
	case OP_munmap: op_munmap(); break;
	case OP_mremap: op_mremap(); break;
	case OP_madvise: op_madvise(); break;
	case OP_touch: op_touch(); break;
	case OP_fork: op_fork(); break;
	case OP_read: op_rw(0, 0); break;
	case OP_write: op_rw(1, 0); break;
	case OP_pread: op_rw(0, 1); break;
	case OP_pwrite: op_rw(1, 1); break;
	case OP_lseek: op_lseek(); break;
	case OP_ioctl_get: op_ioctl_get(); break;
	case OP_ioctl_sync: op_ioctl_sync(); break;
	case OP_set_sync: op_set_sync(); break;
	case OP_export: op_export(); break;
	case OP_ioctl_bad: op_ioctl_bad(); break;
	case OP_sysfs_write: op_sysfs_write(); break;
	case OP_sysfs_read: op_sysfs_read(); break;
	case OP_db_mmap: op_db_mmap(); break;
	case OP_db_sync: op_db_sync(); break;
	case OP_db_close: op_close(); break;
	case OP_vmsplice: op_vmsplice(); break;
	case OP_pipe_drain: op_pipe_drain(); break;
	case OP_pin_delete: op_pin_delete(); break;
	case OP_odirect_write: op_odirect(1); break;
	case OP_odirect_read: op_odirect(0); break;
	case OP_rmmod: op_rmmod(); break;
	case OP_fsync: op_fsync(); break;
	case OP_edu: op_edu(); break;
	case OP_unbind: op_unbind(); break;
	}
}

static void worker_setup(void)
{
	struct sigaction sa;
	uint8_t *region;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	region = mmap(NULL, ARENA + 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	tmpbuf = malloc(ARENA);
	if (region == MAP_FAILED || !tmpbuf) {
		report("scratch memory", "expected memory got %s", errname(errno));
		_exit(3);
	}
	arena = region;
	none_page = region + ARENA;
	ro_page = region + ARENA + PG;
	fill_random(ro_page, PG);
	mprotect(none_page, PG, PROT_NONE);
	mprotect(ro_page, PG, PROT_READ);
	mprotect(ro_page + PG, PG, PROT_NONE);
	for (int i = 0; i < NFD; i++)
		fds[i].fd = -1;
	for (int i = 0; i < NDB; i++)
		dbs[i].fd = -1;
	for (int k = 0; k < NPRIV; k++) {
		snprintf(pb[k].name, sizeof(pb[k].name), "fzp%d_%d", W, k);
		mgr_cmd(S("delete %s\n", pb[k].name));	/* left from an earlier run */
	}
	mfd = open(MGR, O_WRONLY);
	if (mfd < 0) {
		report("open " MGR, "expected an fd got %s", errname(errno));
		_exit(3);
	}
	vfd = open("/dev/vda", O_RDWR | O_DIRECT);
	if (vfd >= 0) {
		disk_base = (uint64_t)(W + 1) * DISK_REGION;
		disk_shadow = calloc(DISK_REGION, 1);
		disk_known = calloc(DISK_REGION, 1);
		if (!disk_shadow || !disk_known) {
			close(vfd);
			vfd = -1;
		}
	}
}

/* At the end: every handle goes, and every private buffer can then be deleted. */
static void worker_teardown(void)
{
	cur_op = OP_worker;
	op_pipe_drain();
	for (int i = 0; i < NMAP; i++)
		if (maps[i].addr) {
			touch_map(&maps[i], 0, "at the end: ");
			if (munmap(maps[i].addr, maps[i].len))
				report("munmap at the end", "expected 0 got %s", errname(errno));
			maps[i].addr = NULL;
		}
	for (int i = 0; i < NFD; i++)
		if (fds[i].fd >= 0)
			close_fd(&fds[i]);
	for (int i = 0; i < NDB; i++)
		if (dbs[i].fd >= 0) {
			close(dbs[i].fd);
			dbs[i].fd = -1;
		}
	for (int k = 0; k < NPRIV; k++)
		if (pb[k].exists)
			delete_priv(k);
	close(mfd);
}

static void worker(int w, double deadline, int edu_ops, int unbind_ops)
{
	W = w;
	rng = seed + w;
	worker_setup();
	{
		if (text_read("/sys/module/u_dma_buf/version", drv_version, sizeof(drv_version)))
			drv_version[0] = 0;
	}
	while (!sh->stop && now() < deadline) {
		int op = pick_op();

		if (edu_ops && pct(1) && pct(20))
			op = OP_edu;
		if (unbind_ops && pct(1) && pct(20))
			op = OP_unbind;
		opno++;
		trace("(op %s)", op_names[op]);
		run_op(op);
		sh->ops[w] = opno;
	}
	worker_teardown();
	sh->ops[w] = opno;
	_exit(0);
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz [--seed S] [--seconds N] [--procs P] [--shared NAME]... [--edu PCIADDR] "
		"[--unbind PLATFORM-DEVICE BUFFER-NAME]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int seconds = 10, procs = 4, have_seed = 0;
	pid_t pids[MAXP];
	double deadline, t0;
	long total = 0;
	int fails = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			have_seed = 1;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--procs") && i + 1 < argc) {
			procs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--shared") && i + 1 < argc && nshared < NSHARED_MAX - 5) {
			shared_names[nshared++] = argv[++i];
		} else if (!strcmp(argv[i], "--max-reports") && i + 1 < argc) {
			max_printed = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--edu") && i + 1 < argc) {
			edu = argv[++i];
		} else if (!strcmp(argv[i], "--unbind") && i + 2 < argc) {
			unbind_pdev = argv[++i];
			detachable = argv[++i];
		} else {
			usage();
		}
	}
	if (procs < 1 || procs > MAXP || seconds < 0)
		usage();
	if (!have_seed) {
		int fd = open("/dev/urandom", O_RDONLY);

		if (fd < 0 || read(fd, &seed, sizeof(seed)) != sizeof(seed))
			seed = (unsigned long long)time(NULL) * 2654435761u;
		if (fd >= 0)
			close(fd);
		seed &= 0xffffffffull;
	}
	for (int i = 0; i < 4; i++)
		shared_names[nshared++] = (const char *[]){ "fzs0", "fzs1", "fzs2", "fzs3" }[i];
	if (edu)
		shared_names[nshared++] = "fzedu";
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	diag("fuzz seed %llu, %d s, %d processes, shared buffers:%s%s%s%s%s%s: replay with fuzz --seed %llu --seconds %d",
	     seed, seconds, procs, nshared > 0 ? " " : "", nshared > 0 ? shared_names[0] : "",
	     nshared > 1 ? " ..." : "", edu ? "; PCI parent " : "", edu ? edu : "",
	     unbind_pdev ? "; unbind/bind" : "", seed, seconds);
	t0 = now();
	deadline = t0 + seconds;
	fflush(stdout);
	for (int w = 0; w < procs; w++) {
		pids[w] = fork();
		if (pids[w] < 0) {
			printf("not ok - fuzz: fork of worker %d\n# expected a pid got %s\n", w, errname(errno));
			return 1;
		}
		if (pids[w] == 0)
			worker(w, deadline, w == 0 && edu, w == procs - 1 && unbind_pdev);
	}
	for (int w = 0; w < procs; w++) {
		int st;
		pid_t r;

		for (;;) {
			r = waitpid(pids[w], &st, WNOHANG);
			if (r == pids[w] || r < 0)
				break;
			if (now() > deadline + 60) {
				cur_op = OP_worker;
				W = w;
				opno = sh->ops[w];
				report("worker hangs", "expected it to end within 60 s of the deadline got it still running; killed (see the kernel log for its stack)");
				kill(pids[w], SIGKILL);
				waitpid(pids[w], &st, 0);
				r = pids[w];
				st = 0;
				break;
			}
			usleep(50000);
		}
		if (r == pids[w] && WIFSIGNALED(st)) {
			cur_op = OP_worker;
			W = w;
			opno = sh->ops[w];
			report("worker killed", "expected exit 0 got %s", signame(WTERMSIG(st)));
			diag("worker %d was killed by %s after %ld operations", w, signame(WTERMSIG(st)), sh->ops[w]);
		} else if (r == pids[w] && WEXITSTATUS(st)) {
			fails++;
			diag("worker %d exited with status %d", w, WEXITSTATUS(st));
		}
	}
	for (int w = 0; w < procs; w++)
		total += sh->ops[w];
	{
		char line[8192];
		int l = 0;

		line[0] = 0;
		for (int i = 0; i < NOPS; i++)
			if (sh->per_op[i] || sh->rep_op[i])
				l += snprintf(line + l, sizeof(line) - l, " %s %ld/%ld%s", op_names[i], sh->ok_op[i],
					      sh->per_op[i], sh->rep_op[i] ? S(" (%ld reports)", sh->rep_op[i]) : "");
		diag("operations (calls that succeeded/operations):%s", line);
		diag("%ld bytes compared with the model", sh->checked);
	}
	if (sh->reports > max_printed)
		diag("%d more reports not printed", sh->reports - max_printed);
	diag("%.1f s", now() - t0);
	if (sh->reports || fails)
		printf("not ok - fuzz: %ld ops, seed %llu, %d reports\n# replay: fuzz --seed %llu --seconds %d --procs %d\n",
		       total, seed, sh->reports + fails, seed, seconds, procs);
	else
		printf("ok - fuzz: %ld ops, seed %llu, 0 reports\n", total, seed);
	return 0;
}
