/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the guest test programs: TAP output, errno names,
 * sysfs access for /sys/class/u-dma-buf/<name>/, data patterns, and a
 * child runner that turns a signal (SIGBUS, SIGSEGV) into a failed test
 * instead of killing the whole program.
 *
 * Every function is static inline so that a program that uses only a
 * few of them still compiles with -Wall -Wextra -Werror.
 */
#ifndef UDMABUF_TEST_TAP_H
#define UDMABUF_TEST_TAP_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYSFS_CLASS "/sys/class/u-dma-buf"

static int tap_failures;

/* A rotating set of buffers, so that S() can appear several times in one call. */
static inline const char *S(const char *fmt, ...)
{
	static char bufs[8][512];
	static unsigned int next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

static inline const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case ERANGE: return "ERANGE";
	case EOVERFLOW: return "EOVERFLOW";
	case EKEYREJECTED: return "EKEYREJECTED";
	default: return S("E%d", e);
	}
}

/* Print one TAP line; on failure, the diagnostic (fmt) follows as a '#' line. */
static inline int tap(int pass, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (pass) {
		printf("ok - %s\n", what);
	} else {
		tap_failures++;
		printf("not ok - %s\n# ", what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return pass;
}

static inline void tap_skip(const char *what, const char *why)
{
	printf("ok - %s # SKIP %s\n", what, why);
	fflush(stdout);
}

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A system-call result: "ok" when it succeeded, else the errno name. */
static inline const char *res(long r, int e)
{
	return r < 0 ? errname(e) : S("%ld", r);
}

/* --- sysfs ------------------------------------------------------------- */

static inline const char *attr_path(const char *dev, const char *attr)
{
	return S(SYSFS_CLASS "/%s/%s", dev, attr);
}

/* Reads a text file into buf without the trailing newline; returns 0 or -errno. */
static inline int text_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	buf[n] = 0;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

/* Writes text to a file in one write(); returns 0 or the errno. */
static inline int text_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), e = 0;

	if (fd < 0)
		return errno;
	if (write(fd, text, strlen(text)) < 0)
		e = errno;
	close(fd);
	return e;
}

/* Reads the attribute into buf without the trailing newline; returns 0 or -errno. */
static inline int attr_read(const char *dev, const char *attr, char *buf, size_t len)
{
	return text_read(attr_path(dev, attr), buf, len);
}

/* The attribute parsed as a number (decimal, 0x hex); exits if it cannot be read. */
static inline unsigned long long attr_u64(const char *dev, const char *attr)
{
	char buf[128], *end;
	unsigned long long v;
	int r = attr_read(dev, attr, buf, sizeof(buf));

	if (r < 0) {
		printf("not ok - read %s\n# expected a value got %s\n", attr_path(dev, attr),
		       errname(-r));
		exit(1);
	}
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || end == buf || *end) {
		printf("not ok - parse %s\n# expected a number got '%s'\n", attr_path(dev, attr), buf);
		exit(1);
	}
	return v;
}

/* Writes the text as one write(); returns 0 or the errno of the failure. */
static inline int attr_write(const char *dev, const char *attr, const char *text)
{
	int fd = open(attr_path(dev, attr), O_WRONLY);
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

/* sync_for_cpu / sync_for_device with the stored arguments ("1"). */
static inline int sync_stored(const char *dev, const char *which)
{
	return attr_write(dev, which, "1");
}

/* --- data -------------------------------------------------------------- */

/* A byte pattern that differs between pages and between seeds. */
static inline uint8_t pat(uint64_t i, unsigned int seed)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull + seed * 0xD1B54A32D192ED03ull;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (uint8_t)x;
}

static inline void pat_fill(uint8_t *p, uint64_t off, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pat(off + i, seed);
}

/* Index of the first byte that differs from the pattern, or -1. */
static inline long pat_find_bad(const volatile uint8_t *p, uint64_t off, size_t len,
				unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != pat(off + i, seed))
			return (long)i;
	return -1;
}

/* Fully read/write len bytes at off (loops over short transfers). */
static inline ssize_t pread_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + done);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static inline ssize_t pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + done);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static inline void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		printf("not ok - malloc(%zu)\n# expected memory got ENOMEM\n", n);
		exit(1);
	}
	return p;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- child runner ------------------------------------------------------ */

/*
 * Runs fn(arg) in a child. Returns a description of how it ended: "0" when
 * fn returned 0, "status N" for another return value, or the signal name.
 */
static inline const char *run_child(int (*fn)(void *), void *arg)
{
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return S("fork failed: %s", errname(errno));
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) < 0)
		return S("waitpid failed: %s", errname(errno));
	if (WIFSIGNALED(st))
		return S("signal %s", WTERMSIG(st) == SIGBUS ? "SIGBUS" :
			 WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : S("%d", WTERMSIG(st)));
	if (WEXITSTATUS(st))
		return S("status %d", WEXITSTATUS(st));
	return "0";
}

#endif /* UDMABUF_TEST_TAP_H */
