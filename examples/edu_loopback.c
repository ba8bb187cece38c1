// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * edu_loopback: a complete user-space DMA driver in one file.
 *
 * The DMA master is QEMU's "edu" PCI device (1234:11e8, run QEMU with
 * -device edu,dma_mask=0xffffffff). It copies between host memory and a
 * 4 KiB buffer inside the device (device address 0x40000). We send the
 * first half of one u-dma-buf buffer to the device and let the device
 * write it back into the second half:
 *
 *     buf[0 .. N)  --DMA-->  edu 0x40000  --DMA-->  buf[size/2 .. size/2 + N)
 *
 * The cache rules of any user-space driver, as done below:
 *   1. CPU writes the source, then sync_for_device(src, TO_DEVICE)
 *      so the device sees it (writes dirty cache lines back);
 *   2. sync_for_device(dst, FROM_DEVICE) before the device writes dst,
 *      so no stale dirty line is written back over the DMA data later;
 *   3. after the DMA, sync_for_cpu(dst, FROM_DEVICE) before the CPU
 *      reads dst (invalidates stale lines).
 *
 * Usage: edu_loopback [--ioctl] [--no-bus-master] [--count N] <buffer>
 *   --ioctl          use the ioctls of /dev/<buffer> (default: sysfs files)
 *   --no-bus-master  leave PCI bus mastering off: the negative control,
 *                    the DMA must then NOT deliver the data
 * Exit status: 0 data arrived, 1 mismatch, 2 usage or setup error.
 * Build: cc -O2 -Wall -o edu_loopback edu_loopback.c   (run as root)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "../u-dma-buf-ioctl.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_ID		0x00	/* reads 0x010000ed */
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98	/* bit0 start/busy, bit1 1 = device -> RAM */
#define EDU_RAM		0x40000	/* the device's own 4 KiB buffer */
#define DIR_TO_DEVICE	1	/* sync directions: 0 both, 1 to, 2 from device */
#define DIR_FROM_DEVICE	2

static int use_ioctl;
static int buf_fd = -1;
static char buf_name[64];

static void die(const char *what)
{
	fprintf(stderr, "edu_loopback: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Read a whole sysfs attribute of the buffer as a number. */
static uint64_t attr_u64(const char *attr)
{
	char path[256], text[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/u-dma-buf/%s/%s", buf_name, attr);
	f = fopen(path, "r");
	if (!f || !fgets(text, sizeof(text), f))
		die(path);
	fclose(f);
	return strtoull(text, NULL, 0);
}

/*
 * One cache sync of [offset, offset + size). sysfs: write the encoded
 * command "0x<offset:8 hex><size|dir<<2|1:8 hex>" (size a multiple of 16).
 * ioctl: the same encoded command through SET_SYNC_FOR_CPU/DEVICE. Both are
 * one-off syncs: the buffer's stored sync_offset/sync_size/sync_direction,
 * which other programs rely on, stay as they are (SET_SYNC would change them).
 */
static void sync_range(int for_device, uint64_t offset, uint64_t size, int dir)
{
	/* The command's offset and size fields are 32 bits (INTERFACE.md section 5.2). */
	if (offset >> 32 || size >> 32) {
		fprintf(stderr, "edu_loopback: sync offset 0x%llx size 0x%llx: the encoded one-off sync command cannot express 4 GiB or more\n",
			(unsigned long long)offset, (unsigned long long)size);
		exit(2);
	}
	if (use_ioctl) {
		uint64_t cmd = offset << 32 | size | (uint64_t)dir << 2 | 1;

		if (ioctl(buf_fd, for_device ? U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE :
			  U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU, &cmd))
			die(for_device ? "ioctl SET_SYNC_FOR_DEVICE" : "ioctl SET_SYNC_FOR_CPU");
	} else {
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/class/u-dma-buf/%s/%s", buf_name,
			 for_device ? "sync_for_device" : "sync_for_cpu");
		f = fopen(path, "w");
		if (!f || fprintf(f, "0x%08X%08X", (unsigned int)offset,
				  (unsigned int)(size | dir << 2 | 1)) < 0 || fclose(f))
			die(path);
	}
}

/* Find edu in /sys/bus/pci/devices; returns its directory. */
static const char *find_edu(void)
{
	static char dir[300];
	struct dirent *d;
	DIR *pci = opendir("/sys/bus/pci/devices");

	while (pci && (d = readdir(pci))) {
		unsigned int v = 0, id = 0;
		char p[400];
		FILE *f;

		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", d->d_name);
		snprintf(p, sizeof(p), "%s/vendor", dir);
		if ((f = fopen(p, "r"))) { if (fscanf(f, "%x", &v) != 1) v = 0; fclose(f); }
		snprintf(p, sizeof(p), "%s/device", dir);
		if ((f = fopen(p, "r"))) { if (fscanf(f, "%x", &id) != 1) id = 0; fclose(f); }
		if (v == EDU_VENDOR && id == EDU_DEVICE) {
			closedir(pci);
			return dir;
		}
	}
	errno = ENODEV;
	die("no edu PCI device (1234:11e8)");
	return NULL;
}

/* 64-bit MMIO register access. */
static volatile uint8_t *bar;
static void reg_wr(unsigned int r, uint64_t v) { *(volatile uint64_t *)(bar + r) = v; }
static uint64_t reg_rd(unsigned int r) { return *(volatile uint64_t *)(bar + r); }

/* One DMA transfer; polls until the device is done (QEMU takes ~100 ms). */
static void edu_dma(uint64_t src, uint64_t dst, uint64_t count, int to_ram)
{
	int ms;

	reg_wr(EDU_DMA_SRC, src);
	reg_wr(EDU_DMA_DST, dst);
	reg_wr(EDU_DMA_CNT, count);
	reg_wr(EDU_DMA_CMD, to_ram ? 3 : 1);
	for (ms = 0; reg_rd(EDU_DMA_CMD) & 1; ms++) {
		if (ms > 10000) {
			errno = ETIMEDOUT;
			die("edu DMA did not finish");
		}
		usleep(1000);
	}
}

int main(int argc, char **argv)
{
	int bus_master = 1, cfg, res, i, bad = 0;
	uint64_t count = 2048, size, dma, dst;
	uint16_t cmd, cmd_saved;
	const char *edu;
	char path[400];
	uint8_t *buf;

	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--ioctl"))
			use_ioctl = 1;
		else if (!strcmp(argv[i], "--no-bus-master"))
			bus_master = 0;
		else if (!strcmp(argv[i], "--count") && i + 1 < argc - 1) {
			char *end;

			errno = 0;
			count = strtoull(argv[++i], &end, 0);
			if (errno || end == argv[i] || *end || !isdigit((unsigned char)argv[i][0]))
				count = 0;	/* not a number: usage */
		} else
			break;
	}
	/* QEMU 7.2 aborts on a transfer that ends at 0x41000: keep it < 4096. */
	if (i != argc - 1 || count == 0 || count > 4080 || count % 16) {
		fprintf(stderr, "usage: %s [--ioctl] [--no-bus-master] [--count N (16..4080, multiple of 16)] <buffer>\n",
			argv[0]);
		return 2;
	}
	snprintf(buf_name, sizeof(buf_name), "%s", argv[i]);

	/* The buffer: map it cached (no O_SYNC) so that the syncs matter. */
	snprintf(path, sizeof(path), "/dev/%s", buf_name);
	buf_fd = open(path, O_RDWR);
	if (buf_fd < 0)
		die(path);
	if (use_ioctl) {
		u_dma_buf_ioctl_dev_info info;

		if (ioctl(buf_fd, U_DMA_BUF_IOCTL_GET_DEV_INFO, &info))
			die("ioctl GET_DEV_INFO");
		size = info.size;
		dma = info.addr;
	} else {
		size = attr_u64("size");
		dma = attr_u64("phys_addr");
	}
	if (size < 2 * count) {
		errno = EINVAL;
		die("buffer smaller than 2 x count");
	}
	buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, buf_fd, 0);
	if (buf == MAP_FAILED)
		die("mmap buffer");
	dst = size / 2 & ~(uint64_t)15;

	/* The device: memory decoding on, bus mastering (DMA) on or off. */
	edu = find_edu();
	snprintf(path, sizeof(path), "%s/config", edu);
	cfg = open(path, O_RDWR);
	if (cfg < 0 || pread(cfg, &cmd_saved, 2, 4) != 2)
		die(path);
	cmd = (cmd_saved | 0x2) & ~0x4;
	if (bus_master)
		cmd |= 0x4;
	if (pwrite(cfg, &cmd, 2, 4) != 2)
		die("write PCI command register");
	snprintf(path, sizeof(path), "%s/resource0", edu);
	res = open(path, O_RDWR | O_SYNC);
	if (res < 0)
		die(path);
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, res, 0);
	if (bar == MAP_FAILED)
		die("mmap BAR0");
	if ((*(volatile uint32_t *)(bar + EDU_ID) & 0xff) != 0xed) {
		errno = ENODEV;
		die("edu ID register");
	}

	/* 1. CPU fills the source and poisons the destination. */
	for (i = 0; i < (int)count; i++) {
		buf[i] = (uint8_t)(i * 7 + 3);
		buf[dst + i] = 0x5a;
	}
	/* 2. Hand both ranges to the device. */
	sync_range(1, 0, count, DIR_TO_DEVICE);
	sync_range(1, dst, count, DIR_FROM_DEVICE);
	/* 3. DMA: buffer -> edu RAM -> buffer + dst. */
	edu_dma(dma, EDU_RAM, count, 0);
	edu_dma(EDU_RAM, dma + dst, count, 1);
	/* 4. Take the destination back for the CPU, then compare. */
	sync_range(0, dst, count, DIR_FROM_DEVICE);
	for (i = 0; i < (int)count; i++)
		bad += buf[dst + i] != buf[i];

	pwrite(cfg, &cmd_saved, 2, 4);	/* leave the device as we found it */
	printf("edu_loopback: %s via %s, bus master %s, dma 0x%llx, %llu bytes: %s (%d differ)\n",
	       buf_name, use_ioctl ? "ioctl" : "sysfs", bus_master ? "on" : "off",
	       (unsigned long long)dma, (unsigned long long)count,
	       bad ? "MISMATCH" : "data arrived", bad);
	return bad ? 1 : 0;
}
