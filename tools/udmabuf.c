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
 *
 * sync-* are one-off syncs: the encoded command (INTERFACE 5.2) through the
 * SET_SYNC_FOR_CPU/DEVICE ioctls, or with --sysfs written to sync_for_cpu/
 * sync_for_device; the buffer's stored sync range is never changed. The encoded
 * command carries sizes in multiples of 16: other sizes are widened by less
 * than 16 bytes inside the buffer (with --sysfs they are refused).
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
#include <sys/stat.h>
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
		"       udmabuf --help\n");
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
static void fail(int e, const char *hint, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "udmabuf: %s: %s%s%s\n", what, strerror(e), hint ? "; " : "", hint ? hint : "");
	if (json) {
		printf("{\"error\": ");
		json_str(what);
		printf(", \"errno\": \"%s\", \"message\": ", errno_name(e));
		json_str(strerror(e));
		printf("}\n");
	}
	exit(1);
}

/* A name must be a plain file name (it is used in paths). */
static const char *check_name(const char *name)
{
	if (!*name || strlen(name) > 63 || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..")) {
		fprintf(stderr, "udmabuf: bad buffer name '%s'\n", name);
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
		if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr(" ;!", *p)) {
			fprintf(stderr, "udmabuf: bad buffer name '%s' (no spaces, control characters, ';' or '!')\n",
				name);
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
	char *names[300], size[32], addr[32];
	struct dirent *d;
	int n = 0, i;
	DIR *dir = opendir(CLASS);

	while (dir && (d = readdir(dir)) && n < 300)
		if (d->d_name[0] != '.' && exists(d->d_name))
			names[n++] = strdup(d->d_name);
	if (dir)
		closedir(dir);
	qsort(names, n, sizeof(names[0]), cmp_str);
	if (json)
		printf("[");
	else
		printf("%-24s %12s  %s\n", "NAME", "SIZE", "DMA ADDRESS");
	for (i = 0; i < n; i++) {
		if (attr(names[i], "size", size, sizeof(size)) ||
		    attr(names[i], "phys_addr", addr, sizeof(addr)))
			continue;	/* went away meanwhile */
		if (json) {
			printf("%s{\"name\": ", i ? ", " : "");
			json_str(names[i]);
			printf(", \"size\": %s, \"dma_addr\": ", size);
			json_str(addr);
			printf("}");
		} else
			printf("%-24s %12s  %s\n", names[i], size, addr);
		free(names[i]);
	}
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
	char v[64], key[40], path[256];
	unsigned int i;
	int e, fd, dma_bits = -1;

	need_buffer(name);
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
		printf("name:            %s\n", name);
	}
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		e = attr(name, attrs[i], v, sizeof(v));
		if (e)
			fail(-e, NULL, "read %s/%s/%s", CLASS, name, attrs[i]);
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
			fail(ERANGE, "the encoded sync command has 32-bit fields", "sync offset/size");
		snprintf(path, sizeof(path), CLASS "/%s/%s", name,
			 for_device ? "sync_for_device" : "sync_for_cpu");
		snprintf(text, sizeof(text), "0x%08X%08X", (unsigned int)offset,
			 (unsigned int)(len | dir << 2 | 1));
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, text, strlen(text)) < 0)
			fail(errno, NULL, "write %s to %s", text, path);
		close(fd);
	} else if (len) {
		/* One-off: the encoded command, widened to a multiple of 16 inside the buffer. */
		uint64_t n = (len + 15) & ~15ULL, start = offset, cmd;

		if (n > size)
			fail(EINVAL, "the encoded sync command needs a multiple of 16 inside the buffer",
			     "sync range size=%" PRIu64 " of %s (%" PRIu64 " bytes)", len, name, size);
		if (start + n > size)
			start = size - n;
		if (start >> 32 || n >> 32)
			fail(ERANGE, "the encoded sync command has 32-bit fields", "sync offset/size");
		cmd = start << 32 | n | (uint64_t)dir << 2 | 1;
		snprintf(path, sizeof(path), "/dev/%s", name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			fail(errno, errno == EACCES ? "no access to the device node" : NULL, "open %s", path);
		if (ioctl(fd, for_device ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE :
			  U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd))
			fail(errno, NULL, "%s on %s", for_device ? "SET_SYNC_FOR_DEVICE" :
			     "SET_SYNC_FOR_CPU", name);
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
	usage();
	return 2;
}
