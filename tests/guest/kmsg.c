// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kmsg: read the kernel log by sequence number, without clearing it (the
 * harness checks the whole log at the end of the boot) and without writing
 * markers into it (/dev/kmsg writes are rate-limited).
 *
 *   kmsg seq          prints the sequence number of the newest record
 *   kmsg since SEQ    prints the text of every record newer than SEQ, one per line
 */
#include "tap.h"

int main(int argc, char **argv)
{
	unsigned long long since = 0, seq, last = 0;
	int print = argc == 3 && !strcmp(argv[1], "since");
	char rec[8192];
	int fd;

	if (!(argc == 2 && !strcmp(argv[1], "seq")) && !print) {
		fprintf(stderr, "usage: kmsg seq | kmsg since SEQ\n");
		return 2;
	}
	if (print)
		since = strtoull(argv[2], NULL, 0);
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		perror("/dev/kmsg");
		return 1;
	}
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *text, *nl;

		if (n < 0 && errno == EPIPE)	/* a record was overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		/* "prio,seq,usec,flags;text\n" then optional " KEY=value" lines */
		text = strchr(rec, ';');
		if (!text || sscanf(rec, "%*u,%llu", &seq) != 1)
			continue;
		last = seq;
		if (!print || seq <= since)
			continue;
		text++;
		nl = strchr(text, '\n');
		if (nl)
			*nl = 0;
		printf("%s\n", text);
	}
	close(fd);
	if (!print)
		printf("%llu\n", last);
	return 0;
}
