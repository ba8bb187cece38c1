// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mgr_cmd: talk to /dev/u-dma-buf-mgr through one open file, step by step, and
 * print one word per step on one line (for the shell suites to compare).
 *
 *   mgr_cmd [-u UID] [-c] STEP...
 *     -u UID      open the manager as root, then setuid(UID) (all capabilities go)
 *     -c          open the manager as root, then drop CAP_SYS_ADMIN, staying uid 0
 *     -o UID      setuid(UID) before the open (prints the open's errno and stops)
 *     -x CAP      drop capability number CAP (21 CAP_SYS_ADMIN, 17 CAP_SYS_RAWIO)
 *                 before the open, staying uid 0
 *   STEP:
 *     w:TEXT      one write() of TEXT; escapes \n \t \0 \\ \xHH; prints OK or the errno
 *                 name (SHORT:n for a short count)
 *     e:PATH      prints yes when PATH exists, no when it does not
 *     close       closes the file now (an unterminated command runs at close)
 */
#include "tap.h"
#include <sys/syscall.h>
#include <linux/capability.h>

#define MGR "/dev/u-dma-buf-mgr"

static size_t unescape(const char *in, char *out)
{
	size_t n = 0;

	while (*in) {
		if (*in != '\\' || !in[1]) {
			out[n++] = *in++;
			continue;
		}
		in++;
		switch (*in) {
		case 'n': out[n++] = '\n'; in++; break;
		case 't': out[n++] = '\t'; in++; break;
		case '0': out[n++] = '\0'; in++; break;
		case 'x': {
			char hex[3] = { in[1], in[1] ? in[2] : 0, 0 };

			out[n++] = (char)strtoul(hex, NULL, 16);
			in += 1 + strlen(hex);
			break;
		}
		default: out[n++] = *in++; break;
		}
	}
	return n;
}

static int drop_capability(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (cap < 0 || cap >= 64)
		return -1;
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[cap / 32].effective &= ~(1u << (cap % 32));
	data[cap / 32].permitted &= ~(1u << (cap % 32));
	data[cap / 32].inheritable &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &hdr, data);
}

int main(int argc, char **argv)
{
	int fd = -1, i = 1, first = 1;
	long after_uid = -1, before_uid = -1;
	int drop_cap = 0, drop_before = -1;
	static char text[1 << 16];

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-u") && i + 1 < argc)
			after_uid = atol(argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			before_uid = atol(argv[++i]);
		else if (!strcmp(argv[i], "-c"))
			drop_cap = 1;
		else if (!strcmp(argv[i], "-x") && i + 1 < argc)
			drop_before = atoi(argv[++i]);
		else {
			fprintf(stderr, "mgr_cmd: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (before_uid >= 0 && (setgid(before_uid) || setuid(before_uid))) {
		printf("setuid:%s\n", errname(errno));
		return 1;
	}
	if (drop_before >= 0 && drop_capability(drop_before)) {
		printf("capset:%s\n", errname(errno));
		return 1;
	}
	fd = open(MGR, O_WRONLY);
	if (fd < 0) {
		printf("open:%s\n", errname(errno));
		return 0;
	}
	if (after_uid >= 0 && (setgid(after_uid) || setuid(after_uid))) {
		printf("setuid:%s\n", errname(errno));
		return 1;
	}
	if (drop_cap && drop_capability(CAP_SYS_ADMIN)) {
		printf("capset:%s\n", errname(errno));
		return 1;
	}
	for (; i < argc; i++) {
		const char *step = argv[i];
		const char *word;

		if (!strncmp(step, "w:", 2)) {
			size_t len = unescape(step + 2, text);
			ssize_t n = write(fd, text, len);

			if (n < 0)
				word = errname(errno);
			else if ((size_t)n != len)
				word = S("SHORT:%zd", n);
			else
				word = "OK";
		} else if (!strncmp(step, "e:", 2)) {
			word = access(step + 2, F_OK) ? "no" : "yes";
		} else if (!strcmp(step, "close")) {
			word = close(fd) ? errname(errno) : "closed";
			fd = -1;
		} else {
			fprintf(stderr, "mgr_cmd: unknown step %s\n", step);
			return 2;
		}
		printf("%s%s", first ? "" : " ", word);
		first = 0;
	}
	printf("\n");
	if (fd >= 0)
		close(fd);
	return 0;
}
