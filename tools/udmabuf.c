// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * udmabuf: command-line tool for u-dma-buf buffers, for shells and images
 * without Python.
 *
 *   udmabuf [--json] list
 *   udmabuf [--json] show <name>
 *   udmabuf [--json] create <name> <size>[K|M|G] [bus=..] [device=..] [dma-mask=N]
 *                           [quirk-mmap-on|-off|-auto|-page]
 *   udmabuf [--json] delete <name>
 *   udmabuf [--json] sync-cpu|sync-device <name> [--offset N] [--size N]
 *                           [--dir both|to|from] [--sysfs]
 *   udmabuf [--json] bench <name> [--quick] [--direct <file|blockdev>] [--kprobe <symbol>]
 *                           [--progress|--no-progress] [--force]
 *
 * sync-* are one-off syncs: the encoded command (INTERFACE 5.2) through the
 * SET_SYNC_FOR_CPU/DEVICE ioctls, or with --sysfs written to sync_for_cpu/
 * sync_for_device; the buffer's stored sync range is never changed. The encoded
 * command carries sizes in multiples of 16: other sizes are widened by less
 * than 16 bytes inside the buffer (with --sysfs they are refused).
 * bench measures the buffer on this machine against memory measured in the same run
 * (malloc'd, anonymous with THP off and on, mainline /dev/udmabuf over a memfd, the
 * dma-heap system heap): CPU access through the cached mapping and each uncached flavour
 * (O_SYNC x sync_mode 1..3), read()/write() of the node against memcpy, one-off syncs by
 * ioctl and by sysfs against a null syscall, mmap + first pass + munmap, and with
 * --direct O_DIRECT reads into the mapping against malloc'd memory (read only: the file
 * is never written).  It writes the buffer, so it needs the node open for writing, and it
 * refuses a buffer that another process has open or mapped (/proc/<pid>/fd and maps;
 * when some processes cannot be looked into, it refuses unless --force); in-kernel users
 * and exported dma-bufs are not visible from there.  The contents, sync_mode and
 * sync_owner are restored at the end.  --kprobe <symbol> counts the calls of the
 * driver's fault handler (such as u_dma_buf:udmabuf_vm_fault) through a kprobe event.
 * Exit status: 0 done, 1 the kernel or the buffer said no, 2 usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "../u-dma-buf-ioctl.h"

#define CLASS	"/sys/class/u-dma-buf"
#define MGR	"/dev/u-dma-buf-mgr"

static int json;

static void usage_to(FILE *out, int status)
{
	fprintf(out,
		"usage: udmabuf [--json] list\n"
		"       udmabuf [--json] show <name>\n"
		"       udmabuf [--json] create <name> <size>[K|M|G] [bus=<pci|amba|platform>] [device=<dev>]\n"
		"                        [dma-mask=<12..64>] [quirk-mmap-on|quirk-mmap-off|quirk-mmap-auto|quirk-mmap-page]\n"
		"       udmabuf [--json] delete <name>\n"
		"       udmabuf [--json] sync-cpu|sync-device <name> [--offset N] [--size N] [--dir both|to|from] [--sysfs]\n"
		"       udmabuf [--json] bench <name> [--quick] [--direct <file|blockdev>] [--kprobe <symbol>]\n"
		"                        [--progress|--no-progress] [--force]\n"
		"       udmabuf --help\n");
	if (json && status)
		printf("{\"error\": \"usage\", \"errno\": \"EINVAL\", \"message\": \"bad command line; see udmabuf --help\"}\n");
	exit(status);
}

static void usage(void)
{
	usage_to(stderr, 2);
}

/* Prints @s as a JSON string: quotes, backslashes and control characters
 * escaped, valid UTF-8 as it is, any other byte as U+FFFD. */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		unsigned char c = *p;
		int n = 0, i;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
			p++;
			continue;
		}
		if (c < 0x80) {
			putchar(c);
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				break;
		/* overlong 3/4-byte forms, surrogates and > U+10FFFF are not UTF-8 */
		if (n && i > n && !((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
				    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))) {
			fwrite(p, 1, n + 1, stdout);
			p += n + 1;
		} else {
			printf("\\ufffd");
			p++;
		}
	}
	putchar('"');
}

static const char *errno_name(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case ENODEV: return "ENODEV";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EEXIST: return "EEXIST";
	case EBUSY: return "EBUSY";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOTTY: return "ENOTTY";
	}
	return "EOTHER";
}

/* Prints why and exits 1; with --json also {"error":...} on stdout. */
static const char *safe(const char *s);

static void fail(int e, const char *hint, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "udmabuf: %s: %s%s%s\n", safe(what), strerror(e), hint ? "; " : "", hint ? hint : "");
	if (json) {
		printf("{\"error\": ");
		json_str(what);
		printf(", \"errno\": \"%s\", \"message\": ", errno_name(e));
		json_str(strerror(e));
		printf("}\n");
	}
	exit(1);
}

/* @s for a terminal: control characters as \xNN (a name may hold any byte but '/'). */
static const char *safe(const char *s)
{
	static char out[4][600];
	static int k;
	char *o = out[k++ & 3], *p = o;

	for (; *s && p < o + sizeof(out[0]) - 5; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			p += sprintf(p, "\\x%02x", (unsigned char)*s);
		else
			*p++ = *s;
	}
	*p = 0;
	return o;
}

/* A name must be a plain file name (it is used in paths). */
static const char *check_name(const char *name)
{
	if (!*name || strlen(name) > 63 || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..")) {
		fprintf(stderr, "udmabuf: bad buffer name '%s'\n", safe(name));
		if (json)
			printf("{\"error\": \"bad buffer name\", \"errno\": \"EINVAL\", \"message\": \"bad buffer name\"}\n");
		exit(2);
	}
	return name;
}

/* ... and one that the manager is given is one token of one command. */
static const char *check_new_name(const char *name)
{
	const char *p;

	check_name(name);
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr(" ;!", *p) ||
		    !strcmp(name, "u-dma-buf-mgr")) {
			fprintf(stderr, "udmabuf: bad buffer name '%s' (no spaces, control characters, ';' or '!'; not u-dma-buf-mgr)\n",
				safe(name));
			if (json)
				printf("{\"error\": \"bad buffer name\", \"errno\": \"EINVAL\", \"message\": \"bad buffer name\"}\n");
			exit(2);
		}
	return name;
}

/* Reads attribute @attr of buffer @name into @out (newline removed); 0 or -errno. */
static int attr(const char *name, const char *attr, char *out, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), CLASS "/%s/%s", name, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static int exists(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), CLASS "/%s/phys_addr", name);
	return access(p, F_OK) == 0;
}

static void need_buffer(const char *name)
{
	if (!exists(name))
		fail(ENOENT, "see 'udmabuf list'", "no buffer '%s'", name);
}

/* Numbers: decimal, 0x hex or 0 octal, with an optional K/M/G suffix. */
static uint64_t number(const char *s, const char *what)
{
	uint64_t v, mul = 1;
	char *end;

	/* strtoull() would skip blanks and take a sign: " -1" is 2^64 - 1 */
	if (!isdigit((unsigned char)s[0])) {
		fprintf(stderr, "udmabuf: bad %s '%s'\n", what, s);
		exit(2);
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end == 'K' || *end == 'k')
		mul = 1ULL << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1ULL << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ULL << 30, end++;
	if (errno || end == s || *end || (v && mul > UINT64_MAX / v)) {
		fprintf(stderr, "udmabuf: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v * mul;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(void)
{
	char **names = NULL, size[32], addr[32];
	struct dirent *d;
	int n = 0, cap = 0, i, shown = 0;
	DIR *dir = opendir(CLASS);

	while (dir && (d = readdir(dir)))
		if (d->d_name[0] != '.' && exists(d->d_name)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				names = realloc(names, cap * sizeof(names[0]));
				if (!names)
					fail(ENOMEM, NULL, "list " CLASS);
			}
			names[n] = strdup(d->d_name);
			if (!names[n])
				fail(ENOMEM, NULL, "list " CLASS);
			n++;
		}
	if (dir)
		closedir(dir);
	if (n)
		qsort(names, n, sizeof(names[0]), cmp_str);
	if (json)
		printf("[");
	else
		printf("%-24s %12s  %s\n", "NAME", "SIZE", "DMA ADDRESS");
	for (i = 0; i < n; i++) {
		if (attr(names[i], "size", size, sizeof(size)) ||
		    attr(names[i], "phys_addr", addr, sizeof(addr))) {
			free(names[i]);
			continue;	/* went away meanwhile */
		}
		if (json) {
			printf("%s{\"name\": ", shown++ ? ", " : "");
			json_str(names[i]);
			printf(", \"size\": %s, \"dma_addr\": ", size);
			json_str(addr);
			printf("}");
		} else
			printf("%-24s %12s  %s\n", safe(names[i]), size, addr);
		free(names[i]);
	}
	free(names);
	if (json)
		printf("]\n");
	return 0;
}

static int cmd_show(const char *name)
{
	static const char *const attrs[] = {
		"size", "phys_addr", "dma_coherent", "quirk_mmap_mode", "sync_mode",
		"sync_offset", "sync_size", "sync_direction", "sync_owner", "driver_version",
	};
	/* Printed as JSON numbers (the rest as strings). */
	static const char *const numeric = " size dma_coherent quirk_mmap_mode sync_mode sync_size sync_direction sync_owner ";
	char vals[sizeof(attrs) / sizeof(attrs[0])][64], *v, key[40], path[256];
	unsigned int i;
	int e, fd, dma_bits = -1;

	need_buffer(name);
	/* Every attribute is read before anything is printed: a failure prints one error. */
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		e = attr(name, attrs[i], vals[i], sizeof(vals[i]));
		if (e)
			fail(-e, NULL, "read %s/%s/%s", CLASS, name, attrs[i]);
	}
	/* The DMA mask width is only in GET_DEV_INFO (needs access to the node). */
	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		u_dma_buf_ioctl_dev_info info;

		if (!ioctl(fd, U_DMA_BUF_IOCTL_GET_DEV_INFO, &info))
			dma_bits = GET_U_DMA_BUF_IOCTL_FLAGS_DMA_MASK(&info);
		close(fd);
	}
	if (json) {
		printf("{\"name\": ");
		json_str(name);
	} else {
		printf("name:            %s\n", safe(name));
	}
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		v = vals[i];
		snprintf(key, sizeof(key), " %s ", attrs[i]);
		if (json && strstr(numeric, key) && v[0] && strspn(v, "0123456789") == strlen(v)) {
			printf(", \"%s\": %s", attrs[i], v);
		} else if (json) {
			printf(", \"%s\": ", attrs[i]);
			json_str(v);
		} else
			printf("%s:%*s%s\n", attrs[i], (int)(16 - strlen(attrs[i])), "", v);
	}
	if (json)
		printf(", \"dma_mask_bits\": %d}\n", dma_bits);
	else if (dma_bits >= 0)
		printf("dma_mask_bits:   %d\n", dma_bits);
	return 0;
}

static void manager(const char *cmd, const char *what)
{
	const char *hint = NULL;
	int fd = open(MGR, O_WRONLY);
	ssize_t n;

	if (fd < 0) {
		int e = errno;

		fail(e, e == ENOENT ? "is the u-dma-buf module loaded?" :
		     (e == EACCES || e == EPERM) ? "the manager is root only" : NULL,
		     "%s: open " MGR, what);
	}
	n = write(fd, cmd, strlen(cmd));
	if (n < 0) {
		int e = errno;

		close(fd);
		switch (e) {
		case EEXIST: hint = "the name is taken"; break;
		case ENODEV: hint = "no such buffer or parent device"; break;
		case EBUSY: hint = "the buffer is open or mapped"; break;
		case ENOMEM: hint = "not enough contiguous memory (CMA?)"; break;
		case EINVAL: hint = "the kernel log says why"; break;
		case EPERM: case EACCES: hint = "the manager is root only"; break;
		}
		fail(e, hint, "%s", what);
	}
	close(fd);
}

static int cmd_create(int argc, char **argv)
{
	char cmd[1024], what[128];
	uint64_t size;
	int i, len;

	if (argc < 2)
		usage();
	check_new_name(argv[0]);
	size = number(argv[1], "size");
	if (!size) {
		fprintf(stderr, "udmabuf: size must be > 0\n");
		exit(2);
	}
	len = snprintf(cmd, sizeof(cmd), "create %s %" PRIu64, argv[0], size);
	for (i = 2; i < argc; i++) {
		if ((strncmp(argv[i], "bus=", 4) && strncmp(argv[i], "device=", 7) &&
		     strncmp(argv[i], "dma-mask=", 9) && strncmp(argv[i], "quirk-mmap-", 11)) ||
		    strpbrk(argv[i], " \t\n\r;")) {
			fprintf(stderr, "udmabuf: unknown create option '%s'\n", argv[i]);
			exit(2);
		}
		len += snprintf(cmd + len, sizeof(cmd) - len, " %s", argv[i]);
		if (len >= (int)sizeof(cmd) - 2)
			usage();
	}
	strcat(cmd, "\n");
	snprintf(what, sizeof(what), "create %s", argv[0]);
	manager(cmd, what);
	if (json) {
		printf("{\"created\": ");
		json_str(argv[0]);
		printf(", \"size\": %" PRIu64 "}\n", size);
	}
	return 0;
}

static int cmd_delete(const char *name)
{
	char cmd[128], what[96];

	check_new_name(name);
	snprintf(cmd, sizeof(cmd), "delete %s\n", name);
	snprintf(what, sizeof(what), "delete %s", name);
	manager(cmd, what);
	if (json) {
		printf("{\"deleted\": ");
		json_str(name);
		printf("}\n");
	}
	return 0;
}

static int cmd_sync(int for_device, int argc, char **argv)
{
	uint64_t size, offset = 0, len = 0;
	int i, dir = 0, use_sysfs = 0, have_len = 0, fd;
	const char *name;
	char v[64], path[256];

	if (argc < 1)
		usage();
	name = check_name(argv[0]);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sysfs"))
			use_sysfs = 1;
		else if (!strcmp(argv[i], "--offset") && i + 1 < argc)
			offset = number(argv[++i], "offset");
		else if (!strcmp(argv[i], "--size") && i + 1 < argc)
			len = number(argv[++i], "size"), have_len = 1;
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			const char *d = argv[++i];

			if (!strcmp(d, "both") || !strcmp(d, "0"))
				dir = 0;
			else if (!strcmp(d, "to") || !strcmp(d, "1"))
				dir = 1;
			else if (!strcmp(d, "from") || !strcmp(d, "2"))
				dir = 2;
			else
				usage();
		} else
			usage();
	}
	need_buffer(name);
	i = attr(name, "size", v, sizeof(v));
	if (i)
		fail(-i, NULL, "read size of %s", name);
	size = strtoull(v, NULL, 0);
	if (!have_len)
		len = offset <= size ? size - offset : 0;
	if (offset > size || len > size - offset)
		fail(EINVAL, NULL, "sync range offset=%" PRIu64 " size=%" PRIu64
		     " is outside %s (%" PRIu64 " bytes)", offset, len, name, size);
	if (use_sysfs) {
		char text[32];

		if (len % 16 || !len)
			fail(EINVAL, "the encoded sync command needs a size that is a non-zero multiple of 16; drop --sysfs for exact ranges",
			     "sync range size=%" PRIu64, len);
		if (offset >> 32 || len >> 32)
			fail(ERANGE, "the encoded one-off sync command has 32-bit fields: no offset or size of 4 GiB or more",
			     "sync offset=0x%" PRIx64 " size=0x%" PRIx64, offset, len);
		snprintf(path, sizeof(path), CLASS "/%s/%s", name,
			 for_device ? "sync_for_device" : "sync_for_cpu");
		snprintf(text, sizeof(text), "0x%08X%08X", (unsigned int)offset,
			 (unsigned int)(len | dir << 2 | 1));
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, text, strlen(text)) < 0)
			fail(errno, NULL, "write %s to %s", text, path);
		close(fd);
	} else if (len) {
		/*
		 * One-off: the encoded command, widened to a multiple of 16 inside the buffer;
		 * the whole of a buffer whose size is not a multiple of 16 is its 16-byte
		 * multiples from @offset and then its last 16 bytes (two commands).
		 */
		uint64_t n = (len + 15) & ~15ULL, start = offset, cmd, r[2][2];
		int k = 0, j;

		if (n <= size) {
			if (start + n > size)
				start = size - n;
			r[k][0] = start, r[k++][1] = n;
		} else if (size >= 16) {
			if (len >= 16)
				r[k][0] = offset, r[k++][1] = len & ~15ULL;
			r[k][0] = offset + len - 16, r[k++][1] = 16;
		} else {
			fail(EINVAL, "the encoded sync command needs a buffer of 16 bytes at least",
			     "sync range size=%" PRIu64 " of %s (%" PRIu64 " bytes)", len, name, size);
		}
		for (j = 0; j < k; j++)
			if (r[j][0] >> 32 || r[j][1] >> 32)
				fail(ERANGE, "the encoded one-off sync command has 32-bit fields: no offset or size of 4 GiB or more",
				     "sync offset=0x%" PRIx64 " size=0x%" PRIx64, r[j][0], r[j][1]);
		snprintf(path, sizeof(path), "/dev/%s", name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			fail(errno, errno == EACCES ? "no access to the device node" : NULL, "open %s", path);
		for (j = 0; j < k; j++) {
			cmd = r[j][0] << 32 | r[j][1] | (uint64_t)dir << 2 | 1;
			if (ioctl(fd, for_device ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE :
				  U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd))
				fail(errno, NULL, "%s on %s", for_device ? "SET_SYNC_FOR_DEVICE" :
				     "SET_SYNC_FOR_CPU", name);
		}
		close(fd);
	}
	if (json) {
		printf("{\"synced\": ");
		json_str(name);
		printf(", \"for\": \"%s\", \"offset\": %" PRIu64
		       ", \"size\": %" PRIu64 ", \"direction\": %d, \"via\": \"%s\"}\n",
		       for_device ? "device" : "cpu", offset, len, dir,
		       use_sysfs ? "sysfs" : "ioctl");
	}
	return 0;
}

/* ------------------------------------------------------------------------------------
 * bench: what this buffer costs on this machine, against the memory the kernel offers
 * in the same run (malloc'd and anonymous memory, mainline /dev/udmabuf over a memfd,
 * the dma-heap system heap).  Every figure is measured here and now: absolute numbers
 * are this machine's, ratios are what carries over.
 * ------------------------------------------------------------------------------------ */

/* Mainline udmabuf and dma-heap UAPI (linux/udmabuf.h, linux/dma-heap.h), here so that
 * the tool builds against any libc's kernel headers. */
struct bench_udmabuf_create {
	uint32_t memfd;
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
};
#define BENCH_UDMABUF_CREATE	_IOW('u', 0x42, struct bench_udmabuf_create)
struct bench_heap_alloc {
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
	uint64_t heap_flags;
};
#define BENCH_HEAP_ALLOC	_IOWR('H', 0x0, struct bench_heap_alloc)
#ifndef F_ADD_SEALS
#define F_ADD_SEALS	(1024 + 9)
#define F_SEAL_SHRINK	0x0002
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING	2U
#endif
#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE	14
#define MADV_NOHUGEPAGE	15
#endif

#define MB(bytes, s)	((s) > 0 ? (double)(bytes) / (s) / 1e6 : 0.0)
#define UNCACHED_CAP	(8ULL << 20)	/* uncached passes look at no more than this */

struct bench {
	const char *name;
	char dev[256];
	uint64_t size;		/* the buffer's size (bytes) */
	uint64_t len;		/* the mapped length: size rounded up to pages */
	int fd;			/* O_RDWR, cached */
	int quick, progress, step, steps;
	double min_trial;	/* seconds a timed trial lasts at least */
	int trials;
	long page;
	char *m1, *m2;		/* malloc'd, len bytes each, faulted in */
	const char *direct;	/* file or block device for O_DIRECT, or NULL */
	const char *kprobe;	/* symbol of the driver's fault handler, or NULL */
	char tracefs[64];
	int kprobe_on;
	/* saved state, restored at the end */
	char *saved;
	u_dma_buf_ioctl_sync_args sync0;
	int owner0;
	FILE *out;		/* the JSON, or NULL */
	int first;		/* the next JSON member is the first of its object */
};

static volatile uint64_t bench_sink;

static void kprobe_stop(struct bench *b);
static void bench_restore(struct bench *b);

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static void progress(struct bench *b, const char *what)
{
	b->step++;
	if (!b->progress)
		return;
	fprintf(stderr, "\rudmabuf bench: [%2d/%d] %-52.52s", b->step, b->steps, what);
	if (b->step >= b->steps)
		fprintf(stderr, "\r%80s\r", "");
	fflush(stderr);
}

static void bench_fail(struct bench *b, int e, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (b && b->progress)
		fprintf(stderr, "\n");
	if (b) {
		kprobe_stop(b);
		bench_restore(b);
	}
	fail(e, NULL, "bench %s: %s", b ? b->name : "", what);
}

/* --- the CPU passes ------------------------------------------------------------------ */

static void pass_write(char *p, uint64_t n)
{
	memset(p, 0x5a, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

static void pass_read(char *p, uint64_t n)
{
	const volatile uint64_t *q = (const volatile uint64_t *)p;
	uint64_t s = 0, i;

	for (i = 0; i < n / 8; i += 4)
		s += q[i] + q[i + 1] + q[i + 2] + q[i + 3];
	bench_sink += s;
}

/* One word per page: what makes a mapping present, without the cost of the data. */
static void pass_touch(char *p, uint64_t n, long page)
{
	uint64_t i, s = 0;

	for (i = 0; i < n; i += page)
		s += *(volatile uint64_t *)(p + i);
	bench_sink += s;
}

static void pass_touch_write(char *p, uint64_t n, long page)
{
	uint64_t i;

	for (i = 0; i < n; i += page)
		*(volatile uint64_t *)(p + i) = i;
}

enum { OP_WRITE, OP_READ, OP_COPY_TO, OP_COPY_FROM };

/*
 * Best time (s) of one whole op over n bytes, over trials each at least min_trial long.
 * The minimum, not the mean: a machine shared with other work (or a virtual CPU) only
 * ever adds time to a pass.
 */
static double time_op(struct bench *b, int op, char *p, char *other, uint64_t n)
{
	double best = 1e30;
	int t;

	for (t = 0; t < b->trials; t++) {
		double t0 = now_s(), ta, t1;

		do {
			ta = now_s();
			switch (op) {
			case OP_WRITE: pass_write(p, n); break;
			case OP_READ: pass_read(p, n); break;
			case OP_COPY_TO: memcpy(p, other, n); break;
			case OP_COPY_FROM: memcpy(other, p, n); break;
			}
			t1 = now_s();
			if (t1 - ta < best)
				best = t1 - ta;
		} while (t1 - t0 < b->min_trial);
	}
	return best;
}

/* --- output ---------------------------------------------------------------------------- */

/* A figure with 3 or 4 significant digits, never in e-notation. */
static void fig(char *out, size_t len, double v, const char *unit)
{
	if (v < 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, unit);
}

static void row(struct bench *b, const char *what, double v, const char *unit, double ref,
		const char *refname)
{
	char vs[32], rs[32], ratio[16];

	if (b->out)
		return;
	fig(vs, sizeof(vs), v, unit);
	fig(rs, sizeof(rs), ref, unit);
	if (ref <= 0 || v < 0)
		snprintf(ratio, sizeof(ratio), "-");
	else
		snprintf(ratio, sizeof(ratio), "%.2f", v / ref);
	printf("%-52s %14s %14s %7s  %s\n", what, vs, rs, ratio, ref > 0 ? refname : "");
}

static void section(struct bench *b, const char *title)
{
	if (!b->out)
		printf("\n%s\n", title);
}

static void jkey(struct bench *b, const char *key)
{
	fprintf(b->out, "%s\"%s\": ", b->first ? "" : ", ", key);
	b->first = 0;
}

static void jnum(struct bench *b, const char *key, double v)
{
	if (!b->out)
		return;
	jkey(b, key);
	if (v != v || v < 0)
		fprintf(b->out, "null");
	else if (v == (double)(int64_t)v && v < 9e15)
		fprintf(b->out, "%" PRId64, (int64_t)v);
	else
		fprintf(b->out, "%.6g", v);
}

/* (b->out is stdout, where json_str() writes) */
static void jstr(struct bench *b, const char *key, const char *v)
{
	if (!b->out)
		return;
	jkey(b, key);
	if (!v)
		fprintf(b->out, "null");
	else
		json_str(v);
}

static void jopen(struct bench *b, const char *key, char c)
{
	if (!b->out)
		return;
	if (key)
		jkey(b, key);
	else if (!b->first)
		fprintf(b->out, ", ");
	fprintf(b->out, "%c", c);
	b->first = 1;
}

static void jclose(struct bench *b, char c)
{
	if (!b->out)
		return;
	fprintf(b->out, "%c", c);
	b->first = 0;
}

/* --- the buffer's state ---------------------------------------------------------------- */

static int set_sync_mode(struct bench *b, int mode)
{
	u_dma_buf_ioctl_sync_args a = { 0 };

	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&a, 0);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&a, U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_UNCHANGED);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&a, mode);
	a.size = 0;
	a.offset = b->sync0.offset;
	return ioctl(b->fd, U_DMA_BUF_IOCTL_SET_SYNC, &a);
}

static void bench_restore(struct bench *b)
{
	uint64_t cmd = 1;	/* stored range: owner as it was */

	if (b->saved) {
		ssize_t n = pwrite(b->fd, b->saved, b->size, 0);

		if (n != (ssize_t)b->size)
			fprintf(stderr, "udmabuf: bench: could not restore the contents of %s\n", b->name);
	}
	if (set_sync_mode(b, GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&b->sync0)))
		fprintf(stderr, "udmabuf: bench: could not restore sync_mode of %s\n", b->name);
	if (ioctl(b->fd, b->owner0 ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE : U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU,
		  &cmd))
		fprintf(stderr, "udmabuf: bench: could not restore sync_owner of %s\n", b->name);
}

/*
 * Is the buffer in use by another process?  Every open file of /proc/<pid>/fd and every
 * line of /proc/<pid>/maps we may read is checked for the node (its device number) and the node's inode.  Prints
 * who uses it; returns the number of processes we could not look into in *hidden.
 */
static int others_use(struct bench *b, const struct stat *st, int *hidden)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	int users = 0;
	pid_t me = getpid();

	*hidden = 0;
	if (!proc)
		return 0;
	while ((d = readdir(proc))) {
		char path[300], line[512];
		struct dirent *f;
		DIR *fds;
		FILE *maps;
		int found = 0;
		pid_t pid = atoi(d->d_name);

		if (pid <= 0 || pid == me)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds) {
			if (errno == EACCES || errno == EPERM)
				(*hidden)++;
			continue;
		}
		while (!found && (f = readdir(fds))) {
			struct stat fst;
			char fp[600];

			if (f->d_name[0] == '.')
				continue;
			snprintf(fp, sizeof(fp), "%s/%s", path, f->d_name);
			if (!stat(fp, &fst) && S_ISCHR(fst.st_mode) && fst.st_rdev == st->st_rdev)
				found = 1;
		}
		closedir(fds);
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
		maps = found ? NULL : fopen(path, "r");
		while (maps && !found && fgets(line, sizeof(line), maps)) {
			unsigned int maj, mnr;
			unsigned long long ino;

			if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &mnr, &ino) == 3 &&
			    ino == (unsigned long long)st->st_ino &&
			    makedev(maj, mnr) == st->st_dev)
				found = 1;
		}
		if (maps)
			fclose(maps);
		if (found) {
			char comm[64] = "?";
			FILE *c;

			snprintf(path, sizeof(path), "/proc/%d/comm", pid);
			c = fopen(path, "r");
			if (c) {
				if (fgets(comm, sizeof(comm), c))
					comm[strcspn(comm, "\n")] = 0;
				fclose(c);
			}
			fprintf(stderr, "udmabuf: bench: %s is in use by process %d (%s)\n", b->name, pid, comm);
			users++;
		}
	}
	closedir(proc);
	(void)b;
	return users;
}

/* --- driver faults, through a kprobe (optional) --------------------------------------- */

static int tracefs_write(struct bench *b, const char *file, const char *text, int append)
{
	char path[160];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", b->tracefs, file);
	fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

static void kprobe_start(struct bench *b)
{
	char text[200];
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	unsigned int i;

	if (!b->kprobe)
		return;
	for (i = 0; i < 2; i++) {
		snprintf(b->tracefs, sizeof(b->tracefs), "%s", dirs[i]);
		snprintf(text, sizeof(text), "%s/kprobe_events", dirs[i]);
		if (!access(text, W_OK))
			break;
	}
	if (i == 2) {
		fprintf(stderr, "udmabuf: bench: no kprobe events here (tracefs, CONFIG_KPROBE_EVENTS): driver faults are not counted\n");
		b->kprobe = NULL;
		return;
	}
	snprintf(text, sizeof(text), "p:udmabuf_bench/drvfault %s\n", b->kprobe);
	if (tracefs_write(b, "kprobe_events", text, 1) ||
	    tracefs_write(b, "events/udmabuf_bench/drvfault/enable", "1", 0)) {
		fprintf(stderr, "udmabuf: bench: cannot place a kprobe on %s: driver faults are not counted\n",
			b->kprobe);
		tracefs_write(b, "kprobe_events", "-:udmabuf_bench/drvfault\n", 1);
		b->kprobe = NULL;
		return;
	}
	b->kprobe_on = 1;
}

static long kprobe_hits(struct bench *b)
{
	char path[160], line[256], name[128];
	unsigned long hits;
	long n = -1;
	FILE *f;

	if (!b->kprobe_on)
		return -1;
	snprintf(path, sizeof(path), "%s/kprobe_profile", b->tracefs);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %lu", name, &hits) == 2 && !strcmp(name, "drvfault"))
			n = hits;
	if (f)
		fclose(f);
	return n;
}

static void kprobe_stop(struct bench *b)
{
	if (!b->kprobe_on)
		return;
	tracefs_write(b, "events/udmabuf_bench/drvfault/enable", "0", 0);
	tracefs_write(b, "kprobe_events", "-:udmabuf_bench/drvfault\n", 1);
	b->kprobe_on = 0;
}

/* --- CPU access through the mappings --------------------------------------------------- */

struct cpu_res {
	double w, r, to, from;	/* seconds per pass */
	uint64_t n;
};

static void cpu_passes(struct bench *b, char *p, uint64_t n, struct cpu_res *res)
{
	res->n = n;
	res->w = time_op(b, OP_WRITE, p, NULL, n);
	res->r = time_op(b, OP_READ, p, NULL, n);
	res->to = time_op(b, OP_COPY_TO, p, b->m2, n);
	res->from = time_op(b, OP_COPY_FROM, p, b->m2, n);
}

static void cpu_rows(struct bench *b, const char *label, const struct cpu_res *r,
		     const struct cpu_res *m)
{
	char what[96];

	snprintf(what, sizeof(what), "%s: write (memset)", label);
	row(b, what, MB(r->n, r->w), "MB/s", MB(m->n, m->w), "malloc");
	snprintf(what, sizeof(what), "%s: read", label);
	row(b, what, MB(r->n, r->r), "MB/s", MB(m->n, m->r), "malloc");
	snprintf(what, sizeof(what), "%s: memcpy into it", label);
	row(b, what, MB(r->n, r->to), "MB/s", MB(m->n, m->to), "malloc");
	snprintf(what, sizeof(what), "%s: memcpy out of it", label);
	row(b, what, MB(r->n, r->from), "MB/s", MB(m->n, m->from), "malloc");
	if (b->out) {
		jopen(b, NULL, '{');
		jstr(b, "mapping", label);
		jnum(b, "bytes", r->n);
		jnum(b, "write_MBps", MB(r->n, r->w));
		jnum(b, "read_MBps", MB(r->n, r->r));
		jnum(b, "memcpy_to_MBps", MB(r->n, r->to));
		jnum(b, "memcpy_from_MBps", MB(r->n, r->from));
		jnum(b, "write_ratio", m->w / r->w * r->n / m->n);
		jnum(b, "read_ratio", m->r / r->r * r->n / m->n);
		jnum(b, "memcpy_to_ratio", m->to / r->to * r->n / m->n);
		jnum(b, "memcpy_from_ratio", m->from / r->from * r->n / m->n);
		jclose(b, '}');
	}
}

#if defined(__x86_64__) || defined(__i386__)
#define ON_X86 1
#else
#define ON_X86 0
#endif

static void cpu_refused(struct bench *b, const char *label, int e)
{
	char why[128];

	snprintf(why, sizeof(why), "mmap refused: %s (the kernel log says why)", strerror(e));
	if (!b->out) {
		printf("%-52s %s\n", label, why);
		return;
	}
	jopen(b, NULL, '{');
	jstr(b, "mapping", label);
	jstr(b, "unavailable", why);
	jclose(b, '}');
}

static const char *const flavour_name[] = { "cached", "non-cached", "write-combine", "dma-coherent" };

static void bench_cpu(struct bench *b)
{
	struct cpu_res mal, mal_small, r;
	uint64_t small = b->len < UNCACHED_CAP ? b->len : UNCACHED_CAP;
	char label[64];
	char *p;
	int mode;

	progress(b, "CPU: malloc'd memory");
	cpu_passes(b, b->m1, b->len, &mal);
	mal_small = mal;
	if (small != b->len)
		cpu_passes(b, b->m1, small, &mal_small);
	section(b, "CPU access (throughput; reference: malloc'd memory of the same size)");
	if (!b->out)
		printf("%-52s %14s %14s %7s  %s\n", "", "this buffer", "reference", "ratio", "reference is");
	jopen(b, "cpu", '[');
	jopen(b, NULL, '{');
	jstr(b, "mapping", "malloc");
	jnum(b, "bytes", mal.n);
	jnum(b, "write_MBps", MB(mal.n, mal.w));
	jnum(b, "read_MBps", MB(mal.n, mal.r));
	jnum(b, "memcpy_MBps", MB(mal.n, mal.to));
	jclose(b, '}');

	progress(b, "CPU: cached mapping");
	p = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (p == MAP_FAILED)
		bench_fail(b, errno, "mmap %s", b->dev);
	cpu_passes(b, p, b->len, &r);
	cpu_rows(b, "cached mapping", &r, &mal);
	munmap(p, b->len);

	for (mode = 1; mode <= 3; mode++) {
		int fd;

		snprintf(label, sizeof(label), "O_SYNC, sync_mode %d (%s)", mode, flavour_name[mode]);
		progress(b, label);
		if (set_sync_mode(b, mode))
			bench_fail(b, errno, "SET_SYNC sync_mode=%d", mode);
		fd = open(b->dev, O_RDWR | O_SYNC);
		if (fd < 0)
			bench_fail(b, errno, "open %s O_SYNC", b->dev);
		p = mmap(NULL, small, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		/* Memory outside RAM on x86 has no uncached mapping: refused. */
		if (p == MAP_FAILED && errno == EINVAL && ON_X86) {
			cpu_refused(b, label, errno);
			close(fd);
			continue;
		}
		if (p == MAP_FAILED)
			bench_fail(b, errno, "mmap %s O_SYNC", b->dev);
		cpu_passes(b, p, small, &r);
		cpu_rows(b, label, &r, &mal_small);
		munmap(p, small);
		close(fd);
	}
	set_sync_mode(b, GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&b->sync0));
	jclose(b, ']');
}

/* --- read()/write() of the node ---------------------------------------------------------- */

static double time_rw(struct bench *b, int fd, int wr)
{
	double best = 1e30;
	int t;

	for (t = 0; t < b->trials; t++) {
		double t0 = now_s(), ta, t1;

		do {
			uint64_t done = 0;

			ta = now_s();

			while (done < b->size) {
				ssize_t n = wr ? pwrite(fd, b->m1 + done, b->size - done, done) :
					pread(fd, b->m1 + done, b->size - done, done);

				if (n <= 0)
					bench_fail(b, n ? errno : EIO, "%s %s", wr ? "write" : "read", b->dev);
				done += n;
			}
			t1 = now_s();
			if (t1 - ta < best)
				best = t1 - ta;
		} while (t1 - t0 < b->min_trial);
	}
	return best;
}

static void bench_rw(struct bench *b)
{
	double cp, rd, wr, rds, wrs;
	int fds;

	progress(b, "read()/write() of the node");
	cp = time_op(b, OP_COPY_TO, b->m2, b->m1, b->size);
	rd = time_rw(b, b->fd, 0);
	wr = time_rw(b, b->fd, 1);
	fds = open(b->dev, O_RDWR | O_SYNC);
	if (fds < 0)
		bench_fail(b, errno, "open %s O_SYNC", b->dev);
	rds = time_rw(b, fds, 0);
	wrs = time_rw(b, fds, 1);
	close(fds);
	section(b, "read()/write() of the node (whole buffer; reference: memcpy between malloc'd buffers)");
	row(b, "read() into malloc'd memory", MB(b->size, rd), "MB/s", MB(b->size, cp), "memcpy");
	row(b, "write() from malloc'd memory", MB(b->size, wr), "MB/s", MB(b->size, cp), "memcpy");
	row(b, "read(), O_SYNC (syncs around the copy)", MB(b->size, rds), "MB/s", MB(b->size, cp), "memcpy");
	row(b, "write(), O_SYNC (syncs around the copy)", MB(b->size, wrs), "MB/s", MB(b->size, cp), "memcpy");
	jopen(b, "rw", '{');
	jnum(b, "bytes", b->size);
	jnum(b, "memcpy_MBps", MB(b->size, cp));
	jnum(b, "read_MBps", MB(b->size, rd));
	jnum(b, "write_MBps", MB(b->size, wr));
	jnum(b, "read_osync_MBps", MB(b->size, rds));
	jnum(b, "write_osync_MBps", MB(b->size, wrs));
	jnum(b, "read_ratio", cp / rd);
	jnum(b, "write_ratio", cp / wr);
	jclose(b, '}');
}

/* --- syncs ------------------------------------------------------------------------------- */

enum { SY_NULL, SY_NULL_IOCTL, SY_IOCTL_DEV, SY_IOCTL_CPU, SY_SYSFS_DEV, SY_SYSFS_CPU };

static int one_call(struct bench *b, int what, uint64_t cmd, int sysfd, const char *text)
{
	uint32_t owner;

	switch (what) {
	case SY_NULL: return syscall(SYS_getppid) < 0;
	case SY_NULL_IOCTL: return ioctl(b->fd, U_DMA_BUF_IOCTL_GET_SYNC_OWNER, &owner);
	case SY_IOCTL_DEV: return ioctl(b->fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE, &cmd);
	case SY_IOCTL_CPU: return ioctl(b->fd, U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd);
	default: return pwrite(sysfd, text, strlen(text), 0) != (ssize_t)strlen(text);
	}
}

/*
 * Best time (s) of one call: the fastest batch of 8.  Batches of null syscalls alternate
 * with them, and *null gets the fastest of those: the reference is measured side by side
 * (a one-CPU machine's background work slows both alike).
 */
static double time_call(struct bench *b, int what, uint64_t cmd, int sysfd, const char *text, double *null)
{
	double best = 1e30, nbest = 1e30;
	int t;

	for (t = 0; t < b->trials; t++) {
		double t0 = now_s(), ta, t1;
		long i, batch = 8;

		do {
			ta = now_s();
			for (i = 0; i < batch; i++)
				if (one_call(b, what, cmd, sysfd, text))
					bench_fail(b, errno, "sync call %d", what);
			t1 = now_s();
			if ((t1 - ta) / batch < best)
				best = (t1 - ta) / batch;
			ta = now_s();
			for (i = 0; i < batch; i++)
				one_call(b, SY_NULL, 0, -1, NULL);
			t1 = now_s();
			if ((t1 - ta) / batch < nbest)
				nbest = (t1 - ta) / batch;
		} while (t1 - t0 < b->min_trial);
	}
	if (null)
		*null = nbest;
	return best;
}

static void bench_sync(struct bench *b)
{
	static const uint64_t sizes[] = { 4096, 65536, 1 << 20, 4 << 20, 16 << 20, 64 << 20 };
	double nul, nio, nn;
	uint64_t n;
	unsigned int i;
	int sdev, scpu;
	char path[300];

	progress(b, "syncs");
	snprintf(path, sizeof(path), CLASS "/%s/sync_for_device", b->name);
	sdev = open(path, O_WRONLY);
	snprintf(path, sizeof(path), CLASS "/%s/sync_for_cpu", b->name);
	scpu = open(path, O_WRONLY);
	nul = time_call(b, SY_NULL, 0, -1, NULL, NULL);
	nio = time_call(b, SY_NULL_IOCTL, 0, -1, NULL, &nn);
	section(b, "Cache maintenance, one-off encoded command (time per call; reference: a null syscall,\n"
		"getppid, timed in batches alternating with those of the call)");
	row(b, "null syscall (getppid)", nul * 1e9, "ns", -1, "");
	row(b, "null ioctl (GET_SYNC_OWNER)", nio * 1e9, "ns", nn * 1e9, "null syscall");
	jopen(b, "sync", '{');
	jnum(b, "null_syscall_ns", nul * 1e9);
	jnum(b, "null_ioctl_ns", nio * 1e9);
	jnum(b, "sysfs_writable", sdev >= 0 && scpu >= 0);
	jopen(b, "ranges", '[');
	for (i = 0; i <= sizeof(sizes) / sizeof(sizes[0]); i++) {
		double idev, icpu, fdev = -1, fcpu = -1, ndev, ncpu, nfdev = -1, nfcpu = -1;
		char text[40], what[80], hs[24];
		uint64_t cmd;

		n = i < sizeof(sizes) / sizeof(sizes[0]) ? sizes[i] : b->size & ~15ULL;
		if (n > b->size || (i < sizeof(sizes) / sizeof(sizes[0]) && n == (b->size & ~15ULL)))
			continue;
		if (!n || n >> 32)
			continue;
		cmd = n | 1;	/* offset 0, direction 0 (both), one-off */
		snprintf(text, sizeof(text), "0x%08X%08X", 0u, (unsigned int)(n | 1));
		idev = time_call(b, SY_IOCTL_DEV, cmd, -1, NULL, &ndev);
		icpu = time_call(b, SY_IOCTL_CPU, cmd, -1, NULL, &ncpu);
		if (sdev >= 0 && scpu >= 0) {
			fdev = time_call(b, SY_SYSFS_DEV, 0, sdev, text, &nfdev);
			fcpu = time_call(b, SY_SYSFS_CPU, 0, scpu, text, &nfcpu);
		}
		if (n >= 1 << 20)
			snprintf(hs, sizeof(hs), "%" PRIu64 " MiB%s", n >> 20, n % (1 << 20) ? "+" : "");
		else
			snprintf(hs, sizeof(hs), "%" PRIu64 " KiB%s", n >> 10, n % 1024 ? "+" : "");
		snprintf(what, sizeof(what), "sync_for_device %s, ioctl", hs);
		row(b, what, idev * 1e9, "ns", ndev * 1e9, "null syscall");
		snprintf(what, sizeof(what), "sync_for_cpu %s, ioctl", hs);
		row(b, what, icpu * 1e9, "ns", ncpu * 1e9, "null syscall");
		snprintf(what, sizeof(what), "sync_for_device %s, sysfs", hs);
		row(b, what, fdev * 1e9, "ns", nfdev * 1e9, "null syscall");
		snprintf(what, sizeof(what), "sync_for_cpu %s, sysfs", hs);
		row(b, what, fcpu * 1e9, "ns", nfcpu * 1e9, "null syscall");
		jopen(b, NULL, '{');
		jnum(b, "bytes", n);
		jnum(b, "ioctl_for_device_ns", idev * 1e9);
		jnum(b, "ioctl_for_cpu_ns", icpu * 1e9);
		jnum(b, "sysfs_for_device_ns", fdev < 0 ? -1 : fdev * 1e9);
		jnum(b, "sysfs_for_cpu_ns", fcpu < 0 ? -1 : fcpu * 1e9);
		jnum(b, "ioctl_for_device_vs_null", idev / ndev);
		jnum(b, "ioctl_for_cpu_vs_null", icpu / ncpu);
		jnum(b, "null_syscall_paired_ns", ndev * 1e9);
		jclose(b, '}');
	}
	jclose(b, ']');
	jclose(b, '}');
	if (sdev >= 0)
		close(sdev);
	if (scpu >= 0)
		close(scpu);
}

/* --- mmap + first pass + munmap, against what the kernel offers ------------------------- */

enum { K_UDMABUF, K_UDMABUF_OSYNC, K_ANON, K_ANON_THP, K_MAINLINE, K_HEAP, K_COUNT };
static const char *const kind_name[K_COUNT] = {
	"u-dma-buf", "u-dma-buf O_SYNC", "anonymous, THP off", "anonymous, THP on",
	"mainline /dev/udmabuf (memfd)", "dma-heap system",
};
static const char *const kind_key[K_COUNT] = {
	"u-dma-buf", "u-dma-buf-osync", "anon", "anon-thp", "mainline-udmabuf", "dma-heap-system",
};

struct map_src {
	int kind, fd;		/* fd to map, -1 for anonymous memory */
	const char *why;	/* not available: why */
};

struct map_res {
	double mmap_s, munmap_s, cycle_s;	/* untouched: per call */
	double touch_s, read_s, write_s;	/* first pass over a fresh mapping */
	double touch_mmap_s, touch_munmap_s;	/* the mmap/munmap around the touch pass */
	long touch_flt, write_flt;		/* page faults of the passes */
	long touch_drv, write_drv;		/* driver faults (kprobe), -1 unknown */
};

static char *map_one(struct bench *b, const struct map_src *s, char **base)
{
	char *p;

	if (s->fd >= 0) {
		p = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
		*base = p;
		return p == MAP_FAILED ? NULL : p;
	}
	if (s->kind == K_ANON_THP) {
		/* 2 MiB aligned, so that THP can back it */
		uintptr_t a = 2UL << 20;

		p = mmap(NULL, b->len + a, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		*base = p;
		if (p == MAP_FAILED)
			return NULL;
		p = (char *)(((uintptr_t)p + a - 1) & ~(uintptr_t)(a - 1));
		madvise(p, b->len, MADV_HUGEPAGE);
		return p;
	}
	p = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*base = p;
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, b->len, MADV_NOHUGEPAGE);
	return p;
}

static void unmap_one(struct bench *b, const struct map_src *s, char *base)
{
	munmap(base, b->len + (s->kind == K_ANON_THP ? 2ULL << 20 : 0));
}

static void map_measure(struct bench *b, const struct map_src *s, struct map_res *r)
{
	/* big mappings: fewer fresh-mapping trials (each is one pass) */
	int t, pass, trials = b->len > (8ULL << 20) && b->trials > 3 ? 3 : b->trials;
	long i, iters;
	char *p, *base;

	memset(r, 0, sizeof(*r));
	r->touch_s = r->read_s = r->write_s = r->touch_mmap_s = r->touch_munmap_s = 1e30;
	r->touch_drv = r->write_drv = -1;
	/* first passes over fresh mappings: touch (read a word a page), read all, write a word a page */
	for (t = 0; t < trials; t++)
		for (pass = 0; pass < 3; pass++) {
			double t0, t1, t2, t3;
			long f0, d0;

			t0 = now_s();
			p = map_one(b, s, &base);
			t1 = now_s();
			if (!p)
				bench_fail(b, errno, "mmap %s", kind_name[s->kind]);
			f0 = minflt();
			d0 = s->kind <= K_UDMABUF_OSYNC ? kprobe_hits(b) : -1;
			if (pass == 0)
				pass_touch(p, b->len, b->page);
			else if (pass == 1)
				pass_read(p, b->len);
			else
				pass_touch_write(p, b->len, b->page);
			t2 = now_s();
			if (pass == 0) {
				r->touch_flt = minflt() - f0;
				if (d0 >= 0)
					r->touch_drv = kprobe_hits(b) - d0;
			} else if (pass == 2) {
				r->write_flt = minflt() - f0;
				if (d0 >= 0)
					r->write_drv = kprobe_hits(b) - d0;
			}
			unmap_one(b, s, base);
			t3 = now_s();
			if (pass == 0) {
				if (t2 - t1 < r->touch_s)
					r->touch_s = t2 - t1;
				if (t1 - t0 < r->touch_mmap_s)
					r->touch_mmap_s = t1 - t0;
				if (t3 - t2 < r->touch_munmap_s)
					r->touch_munmap_s = t3 - t2;
			} else if (pass == 1 && t2 - t1 < r->read_s) {
				r->read_s = t2 - t1;
			} else if (pass == 2 && t2 - t1 < r->write_s) {
				r->write_s = t2 - t1;
			}
		}
	/* untouched mmap + munmap: the fastest call of each */
	r->cycle_s = r->mmap_s = r->munmap_s = 1e30;
	for (t = 0; t < b->trials; t++) {
		double t0 = now_s(), ta, tb, tc;

		iters = 0;
		do {
			for (i = 0; i < 8; i++) {
				ta = now_s();
				p = map_one(b, s, &base);
				tb = now_s();
				if (!p)
					bench_fail(b, errno, "mmap %s", kind_name[s->kind]);
				unmap_one(b, s, base);
				tc = now_s();
				if (tb - ta < r->mmap_s)
					r->mmap_s = tb - ta;
				if (tc - tb < r->munmap_s)
					r->munmap_s = tc - tb;
				if (tc - ta < r->cycle_s)
					r->cycle_s = tc - ta;
			}
			iters += 8;
		} while (now_s() - t0 < b->min_trial);
	}
}

static void map_sources(struct bench *b, struct map_src *src)
{
	int k;

	for (k = 0; k < K_COUNT; k++) {
		src[k].kind = k;
		src[k].fd = -1;
		src[k].why = NULL;
	}
	src[K_UDMABUF].fd = b->fd;
	src[K_UDMABUF_OSYNC].fd = open(b->dev, O_RDWR | O_SYNC);
	if (src[K_UDMABUF_OSYNC].fd < 0) {
		src[K_UDMABUF_OSYNC].why = "cannot open the node O_SYNC";
	} else {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			       src[K_UDMABUF_OSYNC].fd, 0);

		if (p == MAP_FAILED && errno == EINVAL && ON_X86)
			src[K_UDMABUF_OSYNC].why = "the node refuses an O_SYNC mapping (the kernel log says why)";
		else if (p == MAP_FAILED)
			bench_fail(b, errno, "mmap %s O_SYNC", b->dev);
		else
			munmap(p, 4096);
	}
	{
		FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
		char line[128] = "";

		if (!f || !fgets(line, sizeof(line), f) || strstr(line, "[never]"))
			src[K_ANON_THP].why = "THP is off in this kernel (transparent_hugepage/enabled)";
		if (f)
			fclose(f);
	}
	/* mainline udmabuf: a sealed memfd of the same size, made into a dma-buf */
	{
		int dev = open("/dev/udmabuf", O_RDWR), mfd = -1;
		struct bench_udmabuf_create c = { 0 };

		if (dev < 0) {
			src[K_MAINLINE].why = "no /dev/udmabuf (CONFIG_UDMABUF)";
		} else {
			mfd = syscall(SYS_memfd_create, "udmabuf-bench", MFD_ALLOW_SEALING);
			if (mfd < 0 || ftruncate(mfd, b->len) || fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
				src[K_MAINLINE].why = "memfd_create/ftruncate/F_SEAL_SHRINK failed";
			} else {
				c.memfd = mfd;
				c.flags = 1;	/* UDMABUF_FLAGS_CLOEXEC */
				c.size = b->len;
				src[K_MAINLINE].fd = ioctl(dev, BENCH_UDMABUF_CREATE, &c);
				if (src[K_MAINLINE].fd < 0)
					src[K_MAINLINE].why = errno == EINVAL ?
						"UDMABUF_CREATE refused (size_limit_mb?)" : "UDMABUF_CREATE failed";
			}
			if (mfd >= 0)
				close(mfd);
			close(dev);
		}
	}
	{
		int heap = open("/dev/dma_heap/system", O_RDWR);
		struct bench_heap_alloc a = { 0 };

		if (heap < 0) {
			src[K_HEAP].why = "no /dev/dma_heap/system in this kernel";
		} else {
			a.len = b->len;
			a.fd_flags = O_RDWR | O_CLOEXEC;
			if (ioctl(heap, BENCH_HEAP_ALLOC, &a))
				src[K_HEAP].why = "DMA_HEAP_IOCTL_ALLOC failed";
			else
				src[K_HEAP].fd = a.fd;
			close(heap);
		}
	}
}

static void bench_map(struct bench *b)
{
	struct map_src src[K_COUNT];
	struct map_res r[K_COUNT];
	int k, have_drv;

	map_sources(b, src);
	for (k = 0; k < K_COUNT; k++) {
		char what[96];

		snprintf(what, sizeof(what), "mmap + first pass + munmap: %s", kind_name[k]);
		progress(b, what);
		if (!src[k].why)
			map_measure(b, &src[k], &r[k]);
	}
	section(b, "mmap, first pass over a fresh mapping, munmap (time per call or pass; reference: anonymous memory, THP off)");
	if (!b->out)
		printf("%-52s %14s %14s %7s  %s\n", "", "this buffer", "reference", "ratio", "reference is");
#define REF(f)	(src[K_ANON].why ? -1 : r[K_ANON].f * 1e6)
	row(b, "untouched mmap()", r[0].mmap_s * 1e6, "us", REF(mmap_s), "anon");
	row(b, "untouched munmap()", r[0].munmap_s * 1e6, "us", REF(munmap_s), "anon");
	row(b, "untouched mmap() + munmap()", r[0].cycle_s * 1e6, "us", REF(cycle_s), "anon");
	row(b, "first touch pass (a word a page)", r[0].touch_s * 1e6, "us", REF(touch_s), "anon");
	row(b, "first read pass (every word)", r[0].read_s * 1e6, "us", REF(read_s), "anon");
	row(b, "first write pass (a word a page)", r[0].write_s * 1e6, "us", REF(write_s), "anon");
	row(b, "munmap() after the touch pass", r[0].touch_munmap_s * 1e6, "us", REF(touch_munmap_s), "anon");
	if (!src[K_MAINLINE].why) {
		row(b, "untouched mmap() + munmap() vs mainline", r[0].cycle_s * 1e6, "us",
		    r[K_MAINLINE].cycle_s * 1e6, "mainline");
		row(b, "first touch pass vs mainline", r[0].touch_s * 1e6, "us", r[K_MAINLINE].touch_s * 1e6,
		    "mainline");
	}
	have_drv = r[0].touch_drv >= 0;
	if (!b->out) {
		printf("\n%-32s %9s %9s %9s %9s %9s %9s %9s %7s %7s%s\n", "per kind (us; faults)", "mmap", "munmap",
		       "cycle", "touch", "read", "write", "unmap*", "t.flt", "w.flt", have_drv ? "  t.drv w.drv" : "");
		for (k = 0; k < K_COUNT; k++) {
			if (src[k].why) {
				printf("%-32s %s\n", kind_name[k], src[k].why);
				continue;
			}
			printf("%-32s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %7ld %7ld", kind_name[k],
			       r[k].mmap_s * 1e6, r[k].munmap_s * 1e6, r[k].cycle_s * 1e6, r[k].touch_s * 1e6,
			       r[k].read_s * 1e6, r[k].write_s * 1e6, r[k].touch_munmap_s * 1e6,
			       r[k].touch_flt, r[k].write_flt);
			if (have_drv && r[k].touch_drv >= 0)
				printf("  %5ld %5ld", r[k].touch_drv, r[k].write_drv);
			printf("\n");
		}
		printf("(unmap*: munmap() after the touch pass; t.flt/w.flt: page faults of the touch/write pass%s)\n",
		       have_drv ? "; t.drv/w.drv: of them, calls of the driver's fault handler" : "");
	}
	jopen(b, "map", '[');
	for (k = 0; k < K_COUNT; k++) {
		jopen(b, NULL, '{');
		jstr(b, "kind", kind_key[k]);
		jstr(b, "label", kind_name[k]);
		jnum(b, "bytes", b->len);
		if (src[k].why) {
			jstr(b, "unavailable", src[k].why);
		} else {
			jnum(b, "mmap_us", r[k].mmap_s * 1e6);
			jnum(b, "munmap_us", r[k].munmap_s * 1e6);
			jnum(b, "cycle_us", r[k].cycle_s * 1e6);
			jnum(b, "first_touch_us", r[k].touch_s * 1e6);
			jnum(b, "first_read_us", r[k].read_s * 1e6);
			jnum(b, "first_write_us", r[k].write_s * 1e6);
			jnum(b, "munmap_touched_us", r[k].touch_munmap_s * 1e6);
			jnum(b, "touch_faults", r[k].touch_flt);
			jnum(b, "write_faults", r[k].write_flt);
			jnum(b, "touch_driver_faults", r[k].touch_drv);
			jnum(b, "write_driver_faults", r[k].write_drv);
		}
		jclose(b, '}');
	}
	jclose(b, ']');
	for (k = K_UDMABUF_OSYNC; k < K_COUNT; k++)
		if (src[k].fd >= 0)
			close(src[k].fd);
}

/* --- O_DIRECT ----------------------------------------------------------------------------- */

static double time_direct(struct bench *b, int fd, char *p, uint64_t n, uint64_t chunk)
{
	double best = 1e30;
	int t;

	for (t = 0; t < b->trials; t++) {
		double t0 = now_s(), ta, t1;

		do {
			uint64_t off;

			ta = now_s();
			for (off = 0; off < n; off += chunk) {
				ssize_t got = pread(fd, p + off, chunk, off);

				if (got != (ssize_t)chunk)
					return got < 0 ? -errno : -EIO;
			}
			t1 = now_s();
			if (t1 - ta < best)
				best = t1 - ta;
		} while (t1 - t0 < b->min_trial);
	}
	return best;
}

static void bench_direct(struct bench *b)
{
	uint64_t n = b->len & ~4095ULL, chunk, dsize;
	double tm, tb;
	struct stat st;
	char *p;
	int fd;

	progress(b, "O_DIRECT reads");
	section(b, "O_DIRECT reads from the given file (reference: into malloc'd memory)");
	jopen(b, "direct", '{');
	jstr(b, "path", b->direct);
	fd = open(b->direct, O_RDONLY | O_DIRECT);
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;

		if (!b->out)
			printf("%s: %s\n", b->direct, strerror(e));
		jstr(b, "error", strerror(e));
		jclose(b, '}');
		if (fd >= 0)
			close(fd);
		return;
	}
	dsize = S_ISBLK(st.st_mode) ? 0 : (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &dsize))
		dsize = 0;
	if (dsize < n)
		n = dsize & ~4095ULL;
	chunk = n < (1ULL << 20) ? n : 1ULL << 20;
	n -= n % (chunk ? chunk : 1);
	p = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (!n || p == MAP_FAILED) {
		if (!b->out)
			printf("%s: too small for a page\n", b->direct);
		jstr(b, "error", !n ? "too small" : strerror(errno));
		jclose(b, '}');
		close(fd);
		return;
	}
	pass_touch(p, b->len, b->page);
	tb = time_direct(b, fd, b->m1, n, chunk);
	tm = time_direct(b, fd, p, n, chunk);
	munmap(p, b->len);
	close(fd);
	if (tm < 0 && !b->out)
		printf("O_DIRECT into the mapping failed: %s (a mapping of page frames cannot be pinned)\n",
		       strerror((int)-tm));
	row(b, "O_DIRECT read into the mapping", tm < 0 ? -1 : MB(n, tm), "MB/s", tb < 0 ? -1 : MB(n, tb), "malloc");
	jnum(b, "bytes", n);
	jnum(b, "chunk", chunk);
	jnum(b, "into_mapping_MBps", tm < 0 ? -1 : MB(n, tm));
	jnum(b, "into_malloc_MBps", tb < 0 ? -1 : MB(n, tb));
	jnum(b, "ratio", tm < 0 || tb < 0 ? -1 : tb / tm);
	if (tm < 0)
		jstr(b, "error", strerror((int)-tm));
	jclose(b, '}');
}

/* --- the command ------------------------------------------------------------------------- */

static int cmd_bench(int argc, char **argv)
{
	struct bench bb = { 0 }, *b = &bb;
	struct utsname u;
	struct stat st;
	char v[64];
	int i, e, hidden, users, force = 0;

	b->progress = -1;
	b->page = sysconf(_SC_PAGESIZE);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			b->quick = 1;
		else if (!strcmp(argv[i], "--progress"))
			b->progress = 1;
		else if (!strcmp(argv[i], "--no-progress"))
			b->progress = 0;
		else if (!strcmp(argv[i], "--force"))
			force = 1;
		else if (!strcmp(argv[i], "--direct") && i + 1 < argc)
			b->direct = argv[++i];
		else if (!strcmp(argv[i], "--kprobe") && i + 1 < argc)
			b->kprobe = argv[++i];
		else if (argv[i][0] == '-' || b->name)
			usage();
		else
			b->name = check_name(argv[i]);
	}
	if (!b->name)
		usage();
	if (b->progress < 0)
		b->progress = isatty(2);
	b->trials = b->quick ? 1 : 7;
	b->min_trial = b->quick ? 0.002 : 0.02;
	b->steps = 14;
	need_buffer(b->name);
	e = attr(b->name, "size", v, sizeof(v));
	if (e)
		fail(-e, NULL, "read size of %s", b->name);
	b->size = strtoull(v, NULL, 0);
	b->len = (b->size + b->page - 1) & ~(uint64_t)(b->page - 1);
	snprintf(b->dev, sizeof(b->dev), "/dev/%s", b->name);

	/* Permission: the node opened for writing; and nobody else may be using it. */
	b->fd = open(b->dev, O_RDWR);
	if (b->fd < 0)
		fail(errno, errno == EACCES ? "the bench writes the buffer: it needs write access to the node" : NULL,
		     "bench: open %s for writing", b->dev);
	if (fstat(b->fd, &st) || !S_ISCHR(st.st_mode))
		fail(ENODEV, NULL, "bench: %s is not a character device", b->dev);
	users = others_use(b, &st, &hidden);
	if (users)
		fail(EBUSY, "the bench overwrites the buffer; stop the other users first",
		     "bench: %s is open or mapped by %d other process%s", b->name, users, users > 1 ? "es" : "");
	if (hidden && !force)
		fail(EACCES, "run as root, or give --force if you know nobody else uses the buffer",
		     "bench: cannot see the open files of %d process%s, so cannot tell whether %s is in use",
		     hidden, hidden > 1 ? "es" : "", b->name);
	if (ioctl(b->fd, U_DMA_BUF_IOCTL_GET_SYNC, &b->sync0))
		fail(errno, NULL, "bench: GET_SYNC on %s", b->dev);
	b->owner0 = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(&b->sync0);

	b->m1 = aligned_alloc(4096, b->len);
	b->m2 = aligned_alloc(4096, b->len);
	b->saved = malloc(b->size);
	if (!b->m1 || !b->m2 || !b->saved)
		fail(ENOMEM, NULL, "bench: malloc of 3 x %" PRIu64 " bytes", b->len);
	memset(b->m1, 1, b->len);
	memset(b->m2, 2, b->len);
	if (pread(b->fd, b->saved, b->size, 0) != (ssize_t)b->size) {
		free(b->saved);
		b->saved = NULL;
		fail(errno ? errno : EIO, NULL, "bench: read %s (to restore it afterwards)", b->dev);
	}
	kprobe_start(b);

	uname(&u);
	b->out = json ? stdout : NULL;
	if (b->out) {
		fprintf(b->out, "{");
		b->first = 1;
		jstr(b, "bench", "udmabuf bench");
		jnum(b, "format", 1);
		jstr(b, "buffer", b->name);
		jnum(b, "size", b->size);
		jnum(b, "quick", b->quick);
		jopen(b, "machine", '{');
		jstr(b, "arch", u.machine);
		jstr(b, "kernel", u.release);
		jnum(b, "page_size", b->page);
		jstr(b, "note", "absolute figures are this machine's; ratios are against memory measured in the same run");
		jclose(b, '}');
		jnum(b, "dma_coherent", attr(b->name, "dma_coherent", v, sizeof(v)) ? -1 : atoi(v));
		jnum(b, "quirk_mmap_mode", attr(b->name, "quirk_mmap_mode", v, sizeof(v)) ? -1 : atoi(v));
		jnum(b, "sync_mode", GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&b->sync0));
	} else {
		printf("udmabuf bench: %s, %" PRIu64 " bytes, on %s %s%s\n", b->name, b->size, u.machine, u.release,
		       b->quick ? " (quick: one short trial each)" : "");
		printf("Absolute figures are this machine's; ratios are against memory measured in the same run\n"
		       "(the fastest of %d trial%s). The buffer's contents, sync_mode and sync_owner are restored at the end.\n",
		       b->trials, b->trials > 1 ? "s" : "");
	}
	bench_cpu(b);
	bench_rw(b);
	bench_sync(b);
	bench_map(b);
	if (b->direct)
		bench_direct(b);
	else
		progress(b, "done");
	kprobe_stop(b);
	bench_restore(b);
	if (b->out)
		fprintf(b->out, "}\n");
	if (b->progress)
		fprintf(stderr, "\r%80s\r", "");
	close(b->fd);
	free(b->m1);
	free(b->m2);
	free(b->saved);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-' && argv[i][1] == '-') {
		if (!strcmp(argv[i], "--help"))
			usage_to(stdout, 0);
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			usage();
		i++;
	}
	/* --json may also come last. */
	if (argc > i + 1 && !strcmp(argv[argc - 1], "--json"))
		json = 1, argc--;
	if (i >= argc)
		usage();
	argv += i;
	argc -= i;
	if (!strcmp(argv[0], "list") && argc == 1)
		return cmd_list();
	if (!strcmp(argv[0], "show") && argc == 2)
		return cmd_show(check_name(argv[1]));
	if (!strcmp(argv[0], "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(argv[0], "delete") && argc == 2)
		return cmd_delete(argv[1]);
	if (!strcmp(argv[0], "sync-cpu"))
		return cmd_sync(0, argc - 1, argv + 1);
	if (!strcmp(argv[0], "sync-device"))
		return cmd_sync(1, argc - 1, argv + 1);
	if (!strcmp(argv[0], "bench"))
		return cmd_bench(argc - 1, argv + 1);
	usage();
	return 2;
}
