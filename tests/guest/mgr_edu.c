// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * mgr_edu: the QEMU "edu" PCI device (1234:11e8) as the parent of a buffer.
 *
 *   mgr_edu find              prints the edu device's PCI address (exit 1: none)
 *   mgr_edu dma NAME          DMA round trip through edu into buffer NAME: CPU writes a
 *                             pattern, sync_for_device, edu copies RAM -> device -> RAM at
 *                             +4096, sync_for_cpu, the copy must match (NAME >= 8 KiB).
 *                             Prints OK or what went wrong.
 *   mgr_edu remove NAME ADDR  maps NAME, removes the PCI device ADDR (sysfs remove) while
 *                             mapped: node and sysfs directory gone at once, the mapping
 *                             keeps and takes data, then munmap and close.  Prints TAP.
 *   mgr_edu detach NAME FILE TEXT   the same with TEXT written to FILE (a driver unbind)
 */
#include "tap.h"
#include <dirent.h>

#define PCI_DEVICES "/sys/bus/pci/devices"
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_BUF 0x40000
/* QEMU 7.2 aborts on a transfer that ends exactly at the end of its 4 KiB buffer. */
#define EDU_LEN 2048

static int read_hex(const char *path, unsigned long *v)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	*v = strtoul(buf, NULL, 0);
	return 0;
}

static const char *find_edu(void)
{
	static char addr[256];
	DIR *d = opendir(PCI_DEVICES);
	struct dirent *de;
	unsigned long vendor, device;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (read_hex(S(PCI_DEVICES "/%s/vendor", de->d_name), &vendor) ||
		    read_hex(S(PCI_DEVICES "/%s/device", de->d_name), &device))
			continue;
		if (vendor == 0x1234 && device == 0x11e8) {
			snprintf(addr, sizeof(addr), "%s", de->d_name);
			closedir(d);
			return addr;
		}
	}
	closedir(d);
	return NULL;
}

/* The PCI address of DEV's parent from the sysfs "device" link. */
static const char *parent_of(const char *dev)
{
	static char link[512];
	ssize_t n = readlink(S(SYSFS_CLASS "/%s/device", dev), link, sizeof(link) - 1);
	char *slash;

	if (n < 0)
		return NULL;
	link[n] = 0;
	slash = strrchr(link, '/');
	return slash ? slash + 1 : link;
}

static int wait_idle(volatile uint64_t *cmd)
{
	double end = now() + 10;

	while (*cmd & 1)
		if (now() > end)
			return -1;
	return 0;
}

static int cmd_dma(const char *dev)
{
	const char *addr = parent_of(dev);
	uint64_t phys = attr_u64(dev, "phys_addr");
	size_t size = attr_u64(dev, "size");
	uint16_t command, saved;
	volatile uint8_t *bar;
	uint8_t *map;
	int cfg, res, fd;
	long bad;
	const char *result = "OK";

	if (!addr || size < 8192) {
		printf("%s has no PCI parent or is smaller than 8 KiB\n", dev);
		return 1;
	}
	cfg = open(S(PCI_DEVICES "/%s/config", addr), O_RDWR);
	res = open(S(PCI_DEVICES "/%s/resource0", addr), O_RDWR | O_SYNC);
	fd = open(S("/dev/%s", dev), O_RDWR);
	if (cfg < 0 || res < 0 || fd < 0) {
		printf("open config/resource0 of %s or /dev/%s: %s\n", addr, dev, errname(errno));
		return 1;
	}
	if (pread(cfg, &saved, 2, 4) != 2) {
		printf("read the PCI command register: %s\n", errname(errno));
		return 1;
	}
	command = saved | 0x6; /* memory space + bus master */
	if (pwrite(cfg, &command, 2, 4) != 2) {
		printf("write the PCI command register: %s\n", errname(errno));
		return 1;
	}
	bar = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, res, 0);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED || map == MAP_FAILED) {
		printf("mmap resource0 or /dev/%s: %s\n", dev, errname(errno));
		return 1;
	}
	if (*(volatile uint32_t *)bar != 0x010000ed) {
		result = S("edu ID register reads 0x%08x, not 0x010000ed", *(volatile uint32_t *)bar);
		goto out;
	}
	pat_fill(map, 0, EDU_LEN, 5);
	memset(map + 4096, 0, EDU_LEN);
	if (sync_stored(dev, "sync_for_device")) {
		result = "sync_for_device failed";
		goto out;
	}
	*(volatile uint64_t *)(bar + EDU_DMA_SRC) = phys;
	*(volatile uint64_t *)(bar + EDU_DMA_DST) = EDU_BUF;
	*(volatile uint64_t *)(bar + EDU_DMA_CNT) = EDU_LEN;
	*(volatile uint64_t *)(bar + EDU_DMA_CMD) = 1; /* start, RAM -> device */
	if (wait_idle((volatile uint64_t *)(bar + EDU_DMA_CMD))) {
		result = "the RAM -> device DMA did not finish in 10 s";
		goto out;
	}
	*(volatile uint64_t *)(bar + EDU_DMA_SRC) = EDU_BUF;
	*(volatile uint64_t *)(bar + EDU_DMA_DST) = phys + 4096;
	*(volatile uint64_t *)(bar + EDU_DMA_CNT) = EDU_LEN;
	*(volatile uint64_t *)(bar + EDU_DMA_CMD) = 3; /* start, device -> RAM */
	if (wait_idle((volatile uint64_t *)(bar + EDU_DMA_CMD))) {
		result = "the device -> RAM DMA did not finish in 10 s";
		goto out;
	}
	if (sync_stored(dev, "sync_for_cpu")) {
		result = "sync_for_cpu failed";
		goto out;
	}
	bad = pat_find_bad(map + 4096, 0, EDU_LEN, 5);
	if (bad >= 0)
		result = S("the DMA copy at phys 0x%llx + 4096 differs at byte %ld (0x%02x)",
			   (unsigned long long)phys, bad, map[4096 + bad]);
out:
	if (pwrite(cfg, &saved, 2, 4) != 2)
		result = S("%s; restoring the PCI command register failed", result);
	munmap((void *)bar, 1 << 20);
	munmap(map, size);
	close(fd);
	close(res);
	close(cfg);
	printf("%s\n", result);
	return strcmp(result, "OK") != 0;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * Maps DEV, writes TEXT to FILE (a PCI remove or a driver unbind of DEV's parent) and
 * checks that the node goes at once while the mapping stays usable.  ADDR: the PCI
 * device that must be gone afterwards, or NULL.
 */
static int cmd_detach(const char *dev, const char *file_arg, const char *text, const char *addr)
{
	char file[256];

	size_t size = attr_u64(dev, "size");
	char node[256], dir[256];
	uint8_t *map;
	int fd, rm;
	long bad;
	ssize_t n;

	snprintf(file, sizeof(file), "%s", file_arg);
	snprintf(node, sizeof(node), "/dev/%s", dev);
	snprintf(dir, sizeof(dir), SYSFS_CLASS "/%s", dev);
	fd = open(node, O_RDWR);
	if (!tap(fd >= 0, S("open %s", node), "expected a file got %s", errname(errno)))
		return 1;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!tap(map != MAP_FAILED, S("mmap %s (%zu bytes)", node, size),
		 "expected a mapping got %s", errname(errno)))
		return 1;
	pat_fill(map, 0, size, 21);
	rm = open(file, O_WRONLY);
	n = rm < 0 ? -1 : write(rm, text, strlen(text));
	tap(n == (ssize_t)strlen(text), S("echo %s > %s while %s is open and mapped", text, file, dev),
	    "expected the write to work got %s", errname(errno));
	if (rm >= 0)
		close(rm);
	if (addr)
		tap(!exists(S(PCI_DEVICES "/%s", addr)), S("the PCI device %s is gone", addr),
		    "expected no " PCI_DEVICES "/%s got it", addr);
	tap(!exists(node), S("%s is gone at once after the parent went", node),
	    "expected no node got it");
	tap(!exists(dir), S("%s is gone at once after the parent went", dir),
	    "expected no directory got it");
	bad = pat_find_bad(map, 0, size, 21);
	tap(bad < 0, "the mapping still reads the data written before the removal",
	    "expected the pattern got a difference at byte %ld", bad);
	pat_fill(map, 0, size, 22);
	bad = pat_find_bad(map, 0, size, 22);
	tap(bad < 0, "the mapping still takes and reads back new data after the removal",
	    "expected the new pattern got a difference at byte %ld", bad);
	tap(munmap(map, size) == 0, "munmap after the parent's removal", "expected 0 got %s",
	    errname(errno));
	tap(close(fd) == 0, "close after the parent's removal", "expected 0 got %s",
	    errname(errno));
	return tap_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *addr;

	if (argc == 2 && !strcmp(argv[1], "find")) {
		addr = find_edu();
		if (!addr)
			return 1;
		printf("%s\n", addr);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "dma"))
		return cmd_dma(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "remove"))
		return cmd_detach(argv[2], S(PCI_DEVICES "/%s/remove", argv[3]), "1", argv[3]);
	if (argc == 5 && !strcmp(argv[1], "detach"))
		return cmd_detach(argv[2], argv[3], argv[4], NULL);
	fprintf(stderr, "usage: mgr_edu find | dma NAME | remove NAME PCI-ADDRESS | detach NAME FILE TEXT\n");
	return 2;
}
