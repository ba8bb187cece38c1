// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kadv_sync: DMA_BUF_IOCTL_SYNC of a dma-buf while a kernel importer holds a mapping of
 * it (tests/guest/87-kapi-adversary.sh, issue 10 finding 4).
 *
 *   kadv_sync DEV KO
 *
 * Opens /dev/DEV, EXPORTs the whole buffer (O_RDWR), loads KO (the importer module
 * tests/kmod/udmabuf_import_test) with "fd=<the dma-buf> size=<n> hold=1", so that it
 * attaches and maps the dma-buf and keeps the mapping, then does SYNC START and SYNC END
 * (read and write), each preceded by a line in the trace buffer (trace_marker):
 * "kadv_sync: start", "kadv_sync: end", and "kadv_sync: done" after them, so that the
 * suite can tell which DMA-API calls each made.  The importer stays loaded (it holds its
 * own reference to the dma-buf); the suite unloads it.
 *
 * Prints one line: "load=<OK|errno> start=<0|errno> end=<0|errno>".
 */
#include "tap.h"
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/dma-buf.h>
#include "u-dma-buf-ioctl.h"

static void marker(const char *text)
{
	int fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		fprintf(stderr, "kadv_sync: trace_marker: %s\n", strerror(errno));
	close(fd);
}

static int dsync(int dfd, uint64_t flags)
{
	struct dma_buf_sync s = { .flags = flags };

	return ioctl(dfd, DMA_BUF_IOCTL_SYNC, &s) < 0 ? errno : 0;
}

int main(int argc, char **argv)
{
	u_dma_buf_ioctl_export_args a = { .flags = O_RDWR, .offset = 0, .fd = -1 };
	char text[64], params[128];
	const char *load = "OK";
	int fd, kfd, e1, e2;

	if (argc != 3) {
		fprintf(stderr, "usage: kadv_sync DEV KO\n");
		return 2;
	}
	if (attr_read(argv[1], "size", text, sizeof(text))) {
		printf("load=NOSIZE start=- end=-\n");
		return 1;
	}
	a.size = strtoull(text, NULL, 0);
	fd = open(S("/dev/%s", argv[1]), O_RDWR);
	if (fd < 0 || ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a) < 0) {
		printf("load=EXPORT:%s start=- end=-\n", errname(errno));
		return 1;
	}
	snprintf(params, sizeof(params), "fd=%d size=%llu hold=1", (int)a.fd, (unsigned long long)a.size);
	kfd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (kfd < 0 || syscall(SYS_finit_module, kfd, params, 0))
		load = errname(errno);
	if (kfd >= 0)
		close(kfd);
	marker("kadv_sync: start");
	e1 = dsync(a.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	marker("kadv_sync: end");
	e2 = dsync(a.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
	marker("kadv_sync: done");
	printf("load=%s start=%s end=%s\n", load, errname(e1), errname(e2));
	close(a.fd);
	close(fd);
	return 0;
}
