// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * memtype: the memory type and kind of the mappings of a buffer, read from the page
 * tables by tests/kmod/udmabuf_pte_test (loaded by the caller).  QEMU TCG models no
 * caches, so only the page-table entries tell a cached mapping from an uncached one
 * (INTERFACE.md §5.1, §6, §9).
 *
 *   memtype node DEV SYNC     opens /dev/DEV O_RDWR (SYNC=1: | O_SYNC), mmaps the whole
 *                             buffer MAP_SHARED, reads one byte of each page, and looks
 *                             up each page in this process's page tables
 *   memtype export DEV SYNC   EXPORT of the whole buffer (O_RDWR | O_CLOEXEC, SYNC=1:
 *                             | O_SYNC), mmap of the dma-buf, the same
 *   memtype kernel DEV        the buffer's kernel address (the module's buffer=)
 *
 * node/export print one line that sums up every page:
 *   type=<memory type> kind=<page|pfn> vma=<flags> pfns=<phys|what differs>
 * kind=page: ordinary refcounted pages (vm_insert_page(s)); kind=pfn: page frames
 * (remap_pfn_range); pfns=phys: page i maps the frame phys_addr/page size + i (no
 * IOMMU in the test guests: the DMA address is the physical address, §12.7).  When
 * the pages differ in type, kind or vma flags: "mixed: page 0: <line> page N: <line>".
 * kernel prints "region=<linear|vmalloc|other> type=<memory type>".
 * Anything that fails prints "error: <what>: <errno name or text>".  Exit status 0
 * when a line was printed, 2 on bad usage.
 */
#include "tap.h"
#include <sys/ioctl.h>
#include "u-dma-buf-ioctl.h"

#define PARAMS "/sys/module/udmabuf_pte_test/parameters/"

struct entry {
	char line[256];
	char type[48];
	char kind[48];
	char vma[48];
	unsigned long long pfn;
	int present;
};

/* The value of " key=" in line, up to the next space, into out. */
static void field(const char *line, const char *key, char *out, size_t len)
{
	const char *p = strstr(line, S(" %s=", key));
	size_t n;

	out[0] = 0;
	if (!p)
		return;
	p += strlen(key) + 2;
	n = strcspn(p, " ");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = 0;
}

/* Looks up addr through the module; 0 or prints the error and returns -1. */
static int lookup(const void *addr, struct entry *e)
{
	char v[48];
	int r = text_write(PARAMS "uaddr", S("0x%lx", (unsigned long)addr));

	if (r) {
		printf("error: write %suaddr: %s\n", PARAMS, errname(r));
		return -1;
	}
	r = text_read(PARAMS "uaddr", e->line, sizeof(e->line));
	if (r) {
		printf("error: read %suaddr: %s\n", PARAMS, errname(-r));
		return -1;
	}
	field(e->line, "present", v, sizeof(v));
	e->present = !strcmp(v, "1");
	field(e->line, "type", e->type, sizeof(e->type));
	field(e->line, "special", v, sizeof(v));
	snprintf(e->kind, sizeof(e->kind), "%s",
		 !strcmp(v, "1") ? "pfn" : !strcmp(v, "0") ? "page" : v);
	field(e->line, "vma", e->vma, sizeof(e->vma));
	field(e->line, "pfn", v, sizeof(v));
	e->pfn = strtoull(v, NULL, 0);
	return 0;
}

/* One line for the mapping map of npages pages; the first should be frame pfn0. */
static void report(const volatile uint8_t *map, size_t npages, size_t pg,
		  unsigned long long pfn0)
{
	struct entry *e = xmalloc(npages * sizeof(*e));
	const char *pfns = "phys";
	size_t i;

	for (i = 0; i < npages; i++) {
		(void)map[i * pg];	/* touch: a mapping built at fault time appears */
		if (lookup((const void *)(map + i * pg), &e[i]))
			goto out;
		if (!e[i].present) {
			printf("error: page %zu is not present: %s\n", i, e[i].line);
			goto out;
		}
	}
	for (i = 1; i < npages; i++) {
		if (strcmp(e[i].type, e[0].type) || strcmp(e[i].kind, e[0].kind) ||
		    strcmp(e[i].vma, e[0].vma)) {
			printf("mixed: page 0: %s page %zu: %s\n", e[0].line, i, e[i].line);
			goto out;
		}
	}
	for (i = 0; i < npages; i++) {
		if (e[i].pfn != pfn0 + i) {
			pfns = S("page%zu:0x%llx-not-0x%llx", i, e[i].pfn, pfn0 + i);
			break;
		}
	}
	printf("type=%s kind=%s vma=%s pfns=%s\n", e[0].type, e[0].kind, e[0].vma, pfns);
out:
	free(e);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "", *dev = argc > 2 ? argv[2] : "";
	int sync = argc > 3 && !strcmp(argv[3], "1");
	size_t pg = sysconf(_SC_PAGESIZE), alloc;
	unsigned long long phys;
	void *map;
	int fd, mfd, r;

	if (!strcmp(mode, "kernel") && argc == 3) {
		char line[256], region[32], type[48];

		r = text_write(PARAMS "buffer", dev);
		if (r) {
			printf("error: write %sbuffer: %s\n", PARAMS, errname(r));
			return 0;
		}
		r = text_read(PARAMS "buffer", line, sizeof(line));
		if (r) {
			printf("error: read %sbuffer: %s\n", PARAMS, errname(-r));
			return 0;
		}
		field(line, "region", region, sizeof(region));
		field(line, "type", type, sizeof(type));
		if (!type[0])
			printf("error: no memory type: %s\n", line);
		else
			printf("region=%s type=%s\n", region, type);
		return 0;
	}
	if (argc != 4 || (strcmp(mode, "node") && strcmp(mode, "export"))) {
		fprintf(stderr, "usage: memtype node|export DEV 0|1, memtype kernel DEV\n");
		return 2;
	}
	alloc = (attr_u64(dev, "size") + pg - 1) / pg * pg;
	phys = attr_u64(dev, "phys_addr");
	fd = open(S("/dev/%s", dev), O_RDWR | (!strcmp(mode, "node") && sync ? O_SYNC : 0));
	if (fd < 0) {
		printf("error: open /dev/%s: %s\n", dev, errname(errno));
		return 0;
	}
	mfd = fd;
	if (!strcmp(mode, "export")) {
		u_dma_buf_ioctl_export_args a = {
			.flags = O_RDWR | O_CLOEXEC | (sync ? O_SYNC : 0), .fd = -1,
		};

		if (ioctl(fd, U_DMA_BUF_IOCTL_EXPORT, &a) < 0) {
			printf("error: EXPORT: %s\n", errname(errno));
			return 0;
		}
		mfd = a.fd;
	}
	map = mmap(NULL, alloc, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (map == MAP_FAILED) {
		printf("error: mmap: %s\n", errname(errno));
		return 0;
	}
	report(map, alloc / pg, pg, phys / pg);
	munmap(map, alloc);
	if (mfd != fd)
		close(mfd);
	close(fd);
	return 0;
}
