// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * threads_test DEV SECONDS: 8 threads mix SET_SYNC (valid and invalid),
 * GET_SYNC, the encoded sync ioctls, sync_for_cpu/sync_for_device through
 * sysfs, read()/write(), mmap and EXPORT on one buffer (INTERFACE.md §12.5).
 *
 * Every SET_SYNC stores one of a few complete combinations of offset, size,
 * direction and sync_mode, so GET_SYNC must always show one of them: a mix
 * would be a torn or half-validated update.  The sync ranges stay below
 * 3/4 of the buffer; the data threads use the last quarter, each a part of
 * its own, so cache maintenance by the others can never touch their bytes.
 * The buffer must be at least 128 KiB.  Prints TAP.
 */
#include "tap.h"
#include <pthread.h>
#include <sys/ioctl.h>
#include <linux/dma-buf.h>
#include "u-dma-buf-ioctl.h"

#define NCOMBO 6
#define NTHREADS 8

static const char *dev;
static uint64_t size, sync_area;
static size_t pg;
static volatile int stop;
static int can_export;

struct combo {
	uint64_t off, size;
	unsigned int dir, mode;
};
static struct combo combos[NCOMBO];

struct worker {
	const char *name;
	void *(*fn)(void *);
	unsigned long ops, fails;
	char first[256];
	unsigned int seed;
};

static void fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->fails++) {
		va_start(ap, fmt);
		vsnprintf(w->first, sizeof(w->first), fmt, ap);
		va_end(ap);
	}
}

static unsigned int rnd(struct worker *w)
{
	w->seed = w->seed * 1103515245u + 12345u;
	return w->seed >> 8;
}

/*
 * sysfs access for the threads: tap.h's attr_read()/attr_write() build the path in
 * S()'s shared buffers, which are not thread-safe.
 */
static int t_attr_read(const char *attr, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", dev, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int t_attr_write(const char *attr, const char *text)
{
	char path[256];
	ssize_t n;
	int fd, e = 0;

	snprintf(path, sizeof(path), SYSFS_CLASS "/%s/%s", dev, attr);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		e = errno;
	close(fd);
	return e;
}

static int open_node(int flags)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/%s", dev);
	return open(path, flags);
}

static int set_sync(int fd, unsigned int cmd, const struct combo *c)
{
	u_dma_buf_ioctl_sync_args a = { .offset = c->off, .size = c->size };

	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&a, cmd);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&a, c->dir);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&a, c->mode);
	return ioctl(fd, U_DMA_BUF_IOCTL_SET_SYNC, &a) < 0 ? errno : 0;
}

static int known(const struct combo *c)
{
	for (int i = 0; i < NCOMBO; i++)
		if (!memcmp(c, &combos[i], sizeof(*c)))
			return 1;
	return 0;
}

/* Threads 0, 1: SET_SYNC of a known combination with a random command, and invalid ones. */
static void *setter(void *arg)
{
	struct worker *w = arg;
	int fd = open_node(O_RDWR);

	while (!stop) {
		struct combo c = combos[rnd(w) % NCOMBO];
		unsigned int cmd = (unsigned int[]){ 0, 1, 3 }[rnd(w) % 3];
		int e, want = 0;

		switch (rnd(w) % 4) {
		case 0:		/* invalid sync_mode with a valid range */
			c.mode = 8 + rnd(w) % 248;
			want = EINVAL;
			break;
		case 1:		/* a valid mode and direction with a range past the end */
			c.off = size - c.size / 2 - 16;
			c.size += 32;
			want = EINVAL;
			break;
		}
		e = set_sync(fd, cmd, &c);
		if (e != want)
			fail(w, "SET_SYNC offset=%llu size=%llu dir=%u mode=%u cmd=%u: expected %s got %s",
			     (unsigned long long)c.off, (unsigned long long)c.size, c.dir, c.mode, cmd,
			     errname(want), errname(e));
		w->ops++;
	}
	close(fd);
	return NULL;
}

/* Threads 2, 3: GET_SYNC always shows a combination that was set; sysfs values are known ones. */
static void *getter(void *arg)
{
	struct worker *w = arg;
	int fd = open_node(O_RDONLY);
	char buf[64];

	while (!stop) {
		u_dma_buf_ioctl_sync_args a;
		struct combo c;
		uint32_t owner;

		if (ioctl(fd, U_DMA_BUF_IOCTL_GET_SYNC, &a) < 0) {
			fail(w, "GET_SYNC: %s", errname(errno));
			continue;
		}
		c = (struct combo){ a.offset, a.size, GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&a),
				    GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&a) };
		if (!known(&c) || GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&a))
			fail(w, "GET_SYNC showed offset=%llu size=%llu dir=%u mode=%u cmd=%llu, never set",
			     (unsigned long long)c.off, (unsigned long long)c.size, c.dir, c.mode,
			     (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&a));
		if (ioctl(fd, U_DMA_BUF_IOCTL_GET_SYNC_OWNER, &owner) < 0 || owner > 1)
			fail(w, "GET_SYNC_OWNER: %s %u", errname(errno), owner);
		if (rnd(w) % 4 == 0) {
			static const char *const attrs[] = { "sync_offset", "sync_size", "sync_direction",
							     "sync_mode" };
			int k = rnd(w) % 4, hit = 0;
			unsigned long long v;

			if (t_attr_read(attrs[k], buf, sizeof(buf)) < 0) {
				fail(w, "read %s failed", attrs[k]);
			} else {
				v = strtoull(buf, NULL, 0);
				for (int i = 0; i < NCOMBO; i++)
					hit |= v == (k == 0 ? combos[i].off : k == 1 ? combos[i].size :
						     k == 2 ? combos[i].dir : combos[i].mode);
				if (!hit) {
					buf[strcspn(buf, "\n")] = 0;
					fail(w, "sysfs %s showed %s, never set", attrs[k], buf);
				}
			}
		}
		w->ops++;
	}
	close(fd);
	return NULL;
}

/* Thread 4: sync_for_cpu / sync_for_device through sysfs, stored and one-off, valid and not. */
static void *sysfs_sync(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		const char *which = rnd(w) & 1 ? "sync_for_cpu" : "sync_for_device";
		char cmd[32];
		unsigned int off = (rnd(w) % (sync_area / 2)) & ~15u, len = 16 + (rnd(w) % 4096 & ~15u);
		int e, want = 0;

		switch (rnd(w) % 3) {
		case 0:
			snprintf(cmd, sizeof(cmd), "1");
			break;
		case 1:
			snprintf(cmd, sizeof(cmd), "0x%08X%08X", off, len | (rnd(w) % 4) << 2 | 1);
			break;
		default:
			snprintf(cmd, sizeof(cmd), "0x%08X%08X", (unsigned int)size, 16u | 1);
			want = EINVAL;
		}
		e = t_attr_write(which, cmd);
		if (e != want)
			fail(w, "%s %s: expected %s got %s", which, cmd, errname(want), errname(e));
		w->ops++;
	}
	return NULL;
}

/* Thread 5: write()/read() of its own part, with and without O_SYNC, and the encoded ioctls. */
static void *readwrite(void *arg)
{
	struct worker *w = arg;
	size_t off = sync_area, len = (size - sync_area) / 4;
	uint8_t *src = xmalloc(len), *got = xmalloc(len);
	int fds[2] = { open_node(O_RDWR), open_node(O_RDWR | O_SYNC) };

	while (!stop) {
		unsigned int seed = rnd(w);
		int fd = fds[rnd(w) & 1];
		uint64_t cmd = (uint64_t)(rnd(w) % (sync_area / 2) & ~15u) << 32 | 4096 | 1;
		long bad;

		pat_fill(src, off, len, seed);
		if (pwrite_all(fd, src, len, off) != (ssize_t)len || pread_all(fd, got, len, off) != (ssize_t)len) {
			fail(w, "write/read: %s", errname(errno));
		} else if ((bad = pat_find_bad(got, off, len, seed)) >= 0) {
			fail(w, "read() after write() differs at %zu", off + bad);
		}
		if (ioctl(fd, rnd(w) & 1 ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU : U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE, &cmd) < 0)
			fail(w, "encoded sync 0x%016llx: %s", (unsigned long long)cmd, errname(errno));
		w->ops++;
	}
	close(fds[0]);
	close(fds[1]);
	free(src);
	free(got);
	return NULL;
}

/* Thread 6: mmap of the whole buffer (with and without O_SYNC), its own part written and read. */
static void *mapper(void *arg)
{
	struct worker *w = arg;
	size_t len = (size - sync_area) / 4, off = sync_area + len;
	int fds[2] = { open_node(O_RDWR), open_node(O_RDWR | O_SYNC) };

	while (!stop) {
		unsigned int seed = rnd(w);
		uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[rnd(w) & 1], 0);
		long bad;

		if (m == MAP_FAILED) {
			fail(w, "mmap: %s", errname(errno));
			continue;
		}
		pat_fill(m + off, off, len, seed);
		if ((bad = pat_find_bad(m + off, off, len, seed)) >= 0)
			fail(w, "mapping differs at %zu after writing it", off + bad);
		munmap(m, size);
		w->ops++;
	}
	close(fds[0]);
	close(fds[1]);
	return NULL;
}

/* Thread 7: EXPORT of its own part, mmap of the dma-buf with DMA_BUF_IOCTL_SYNC, close. */
static void *exporter(void *arg)
{
	struct worker *w = arg;
	size_t len = (size - sync_area) / 2, off = sync_area + len;
	int fd = open_node(O_RDWR);

	while (!stop) {
		u_dma_buf_ioctl_export_args a = { .flags = O_RDWR | O_CLOEXEC | (rnd(w) & 1 ? O_SYNC : 0),
						  .offset = off, .size = len };
		struct dma_buf_sync s = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
		unsigned int seed = rnd(w);
		uint8_t *m;
		long bad;

		if (!can_export) {
			u_dma_buf_ioctl_dev_info d;

			if (ioctl(fd, U_DMA_BUF_IOCTL_GET_DEV_INFO, &d) < 0 || d.size != size)
				fail(w, "GET_DEV_INFO: %s", errname(errno));
			w->ops++;
			continue;
		}
		if (ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a) < 0) {
			fail(w, "EXPORT: %s", errname(errno));
			continue;
		}
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
		if (m == MAP_FAILED) {
			fail(w, "mmap of the dma-buf: %s", errname(errno));
		} else {
			ioctl(a.fd, DMA_BUF_IOCTL_SYNC, &s);
			pat_fill(m, off, len, seed);
			if ((bad = pat_find_bad(m, off, len, seed)) >= 0)
				fail(w, "dma-buf mapping differs at %zu after writing it", off + bad);
			s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
			ioctl(a.fd, DMA_BUF_IOCTL_SYNC, &s);
			munmap(m, len);
		}
		close(a.fd);
		w->ops++;
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void *(*fn)(void *); } roles[NTHREADS] = {
		{ "SET_SYNC", setter }, { "SET_SYNC", setter }, { "GET_SYNC", getter }, { "GET_SYNC", getter },
		{ "sysfs sync_for_cpu/device", sysfs_sync }, { "read/write", readwrite }, { "mmap", mapper },
		{ "EXPORT", exporter },
	};
	struct worker ws[NTHREADS];
	pthread_t th[NTHREADS];
	double secs, t0;
	u_dma_buf_ioctl_sync_args a;
	struct combo end;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: threads_test DEV SECONDS\n");
		return 2;
	}
	dev = argv[1];
	secs = strtod(argv[2], NULL);
	pg = sysconf(_SC_PAGESIZE);
	size = attr_u64(dev, "size");
	can_export = attr_u64(dev, "quirk_mmap_mode") != 1;
	if (size < 128 * 1024 || size % (64 * 1024)) {
		printf("not ok - %s: threads_test needs a multiple of 64 KiB, at least 128 KiB\n", dev);
		return 1;
	}
	sync_area = size / 4 * 3;
	combos[0] = (struct combo){ 0, sync_area, 0, 1 };
	combos[1] = (struct combo){ 4096, 8192, 1, 5 };
	combos[2] = (struct combo){ 16, 4096, 2, 3 };
	combos[3] = (struct combo){ sync_area / 2, sync_area / 2, 0, 7 };
	combos[4] = (struct combo){ sync_area - 4096, 4096, 1, 2 };
	combos[5] = (struct combo){ 8192, 16384, 2, 6 };
	fd = open_node(O_RDWR);
	if (fd < 0 || set_sync(fd, 0, &combos[0])) {
		printf("not ok - %s: open and the first SET_SYNC\n# got %s\n", dev, errname(errno));
		return 1;
	}
	t0 = now();
	memset(ws, 0, sizeof(ws));
	for (int i = 0; i < NTHREADS; i++) {
		ws[i].name = roles[i].name;
		ws[i].fn = roles[i].fn;
		ws[i].seed = 1000 + i;
		pthread_create(&th[i], NULL, ws[i].fn, &ws[i]);
	}
	while (now() - t0 < secs)
		usleep(100000);
	stop = 1;
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	diag("%s: %.1f s; operations per thread:", dev, now() - t0);
	for (int i = 0; i < NTHREADS; i++) {
		diag("  thread %d (%s): %lu, %lu failed", i, ws[i].name, ws[i].ops, ws[i].fails);
	}
	for (int i = 0; i < NTHREADS; i++) {
		const char *what = S("%s: %d threads for %.0f s: thread %d (%s) ran (%lu operations) and every result was as expected%s",
				     dev, NTHREADS, secs, i, ws[i].name, ws[i].ops,
				     i == 2 || i == 3 ? ": GET_SYNC always showed a combination that was set" : "");

		tap(ws[i].ops > 0 && !ws[i].fails, what, "expected no failure got %lu, the first: %s", ws[i].fails,
		    ws[i].first);
	}
	if (ioctl(fd, U_DMA_BUF_IOCTL_GET_SYNC, &a) < 0) {
		tap(0, S("%s: GET_SYNC after the threads", dev), "got %s", errname(errno));
		return 1;
	}
	end = (struct combo){ a.offset, a.size, GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&a),
			      GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&a) };
	tap(known(&end) && attr_u64(dev, "sync_offset") == end.off && attr_u64(dev, "sync_size") == end.size &&
	    attr_u64(dev, "sync_direction") == end.dir && attr_u64(dev, "sync_mode") == end.mode &&
	    attr_u64(dev, "sync_owner") == GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(&a),
	    S("%s: after the threads, GET_SYNC shows a combination that was set and sysfs shows the same", dev),
	    "GET_SYNC offset=%llu size=%llu dir=%u mode=%u owner=%llu; sysfs offset=%llu size=%llu dir=%llu mode=%llu owner=%llu",
	    (unsigned long long)end.off, (unsigned long long)end.size, end.dir, end.mode,
	    (unsigned long long)GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(&a), attr_u64(dev, "sync_offset"),
	    attr_u64(dev, "sync_size"), attr_u64(dev, "sync_direction"), attr_u64(dev, "sync_mode"),
	    attr_u64(dev, "sync_owner"));
	close(fd);
	return 0;
}
