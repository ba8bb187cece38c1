// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * modctl: load and unload a module and print the errno name, which busybox
 * insmod/rmmod only paraphrase.
 *
 *   modctl load FILE.ko [param=value ...]   finit_module(); prints OK or ENOMEM, EINVAL, ...
 *   modctl unload NAME                      delete_module(O_NONBLOCK); prints OK or EAGAIN, ...
 *   modctl rtwrite FILE TEXT                write TEXT to FILE at SCHED_FIFO priority 50,
 *                                           so that the kernel work it starts (a device's
 *                                           removal) preempts the thread it races; prints
 *                                           OK or the errno name
 *
 * Exit status 0 when the call succeeded, 1 when it failed, 2 on bad usage.
 */
#include "tap.h"
#include <sched.h>
#include <sys/syscall.h>

static int rtwrite(const char *path, const char *text)
{
	struct sched_param sp = { .sched_priority = 50 };
	int e;

	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		printf("sched_setscheduler: %s\n", errname(errno));
		return 1;
	}
	e = text_write(path, text);
	if (e) {
		printf("%s\n", errname(e));
		return 1;
	}
	printf("OK\n");
	return 0;
}

int main(int argc, char **argv)
{
	char params[4096] = "";
	long r;
	int fd;

	if (argc >= 3 && !strcmp(argv[1], "load")) {
		for (int i = 3; i < argc; i++) {
			if (strlen(params) + strlen(argv[i]) + 2 > sizeof(params))
				return 2;
			if (i > 3)
				strcat(params, " ");
			strcat(params, argv[i]);
		}
		fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			printf("open %s: %s\n", argv[2], errname(errno));
			return 2;
		}
		r = syscall(SYS_finit_module, fd, params, 0);
	} else if (argc == 4 && !strcmp(argv[1], "rtwrite")) {
		return rtwrite(argv[2], argv[3]);
	} else if (argc == 3 && !strcmp(argv[1], "unload")) {
		r = syscall(SYS_delete_module, argv[2], O_NONBLOCK);
	} else {
		fprintf(stderr, "usage: modctl load FILE [params...] | modctl unload NAME | modctl rtwrite FILE TEXT\n");
		return 2;
	}
	printf("%s\n", r == 0 ? "OK" : errname(errno));
	return r == 0 ? 0 : 1;
}
