/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * User-space API of u-dma-buf: the ioctls of /dev/<buffer>.
 *
 * Source-compatible with programs written for the established driver's
 * u-dma-buf-ioctl.h: the same command names and numbers, structure names
 * and layouts, and flag accessors (SET_/GET_U_DMA_BUF_IOCTL_FLAGS_<FIELD>).
 * Every structure is made of naturally aligned 64-bit fields, so it has the
 * same layout for 32-bit and 64-bit programs.
 */
#ifndef _UAPI_LINUX_U_DMA_BUF_IOCTL_H
#define _UAPI_LINUX_U_DMA_BUF_IOCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define U_DMA_BUF_IOCTL_VERSION		2

/**
 * struct u_dma_buf_ioctl_drv_info - what the driver offers (GET_DRV_INFO)
 * @flags: IOCTL_VERSION, IN_KERNEL_FUNCTIONS, USE_OF_DMA_CONFIG,
 *	USE_OF_RESERVED_MEM, USE_QUIRK_MMAP, USE_QUIRK_MMAP_PAGE
 * @version: driver version, "MAJOR.MINOR.PATCH", NUL-terminated
 */
typedef struct u_dma_buf_ioctl_drv_info {
	__u64 flags;
	char version[16];
} u_dma_buf_ioctl_drv_info;

/**
 * struct u_dma_buf_ioctl_dev_info - one buffer (GET_DEV_INFO)
 * @flags: DMA_MASK (width in bits), DMA_COHERENT, MMAP_MODE
 * @size: size in bytes
 * @addr: DMA address: the address the device uses
 */
typedef struct u_dma_buf_ioctl_dev_info {
	__u64 flags;
	__u64 size;
	__u64 addr;
} u_dma_buf_ioctl_dev_info;

/**
 * struct u_dma_buf_ioctl_sync_args - stored sync state (GET_SYNC, SET_SYNC)
 * @flags: SYNC_CMD (1 for CPU, 3 for device, 0 none), SYNC_DIR (0
 *	bidirectional, 1 to device, 2 from device, 3 unchanged), SYNC_MODE
 *	(1..7, 0 unchanged), SYNC_OWNER (read only: 0 CPU, 1 device)
 * @size: sync size in bytes (SET_SYNC: 0 = unchanged)
 * @offset: sync offset in bytes
 *
 * SET_SYNC checks everything first, then stores direction, mode, offset
 * and size, then runs the command on the stored range.
 */
typedef struct u_dma_buf_ioctl_sync_args {
	__u64 flags;
	__u64 size;
	__u64 offset;
} u_dma_buf_ioctl_sync_args;

/**
 * struct u_dma_buf_ioctl_export_args - export a range as a dma-buf (EXPORT)
 * @flags: EXPORT_FD_FLAGS: O_CLOEXEC, the access mode (O_RDONLY, O_WRONLY,
 *	O_RDWR) and O_SYNC (uncached CPU mappings of the dma-buf)
 * @size: size of the range in bytes, page-aligned; 0 = to the end
 * @offset: start of the range in bytes, page-aligned
 * @addr: out: DMA address of the range
 * @fd: out: the dma-buf file descriptor
 * @reserved: zero
 */
typedef struct u_dma_buf_ioctl_export_args {
	__u64 flags;
	__u64 size;
	__u64 offset;
	__u64 addr;
	__s32 fd;
	__u32 reserved;
} u_dma_buf_ioctl_export_args;

#define U_DMA_BUF_IOCTL_MAGIC			'U'
#define U_DMA_BUF_IOCTL_GET_DRV_INFO		_IOR(U_DMA_BUF_IOCTL_MAGIC, 1, u_dma_buf_ioctl_drv_info)
#define U_DMA_BUF_IOCTL_GET_SIZE		_IOR(U_DMA_BUF_IOCTL_MAGIC, 2, __u64)
#define U_DMA_BUF_IOCTL_GET_DMA_ADDR		_IOR(U_DMA_BUF_IOCTL_MAGIC, 3, __u64)
#define U_DMA_BUF_IOCTL_GET_SYNC_OWNER		_IOR(U_DMA_BUF_IOCTL_MAGIC, 4, __u32)
#define U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU	_IOW(U_DMA_BUF_IOCTL_MAGIC, 5, __u64)
#define U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE	_IOW(U_DMA_BUF_IOCTL_MAGIC, 6, __u64)
#define U_DMA_BUF_IOCTL_GET_DEV_INFO		_IOR(U_DMA_BUF_IOCTL_MAGIC, 7, u_dma_buf_ioctl_dev_info)
#define U_DMA_BUF_IOCTL_GET_SYNC		_IOR(U_DMA_BUF_IOCTL_MAGIC, 8, u_dma_buf_ioctl_sync_args)
#define U_DMA_BUF_IOCTL_SET_SYNC		_IOW(U_DMA_BUF_IOCTL_MAGIC, 9, u_dma_buf_ioctl_sync_args)
#define U_DMA_BUF_IOCTL_EXPORT			_IOWR(U_DMA_BUF_IOCTL_MAGIC, 10, u_dma_buf_ioctl_export_args)

/*
 * Bit fields of the flags words.  For each FIELD:
 *   U_DMA_BUF_IOCTL_FLAGS_<FIELD>_SHIFT   lowest bit
 *   U_DMA_BUF_IOCTL_FLAGS_<FIELD>_MASK    mask of the field's width (not shifted)
 *   GET_U_DMA_BUF_IOCTL_FLAGS_<FIELD>(p)          the field of p->flags
 *   SET_U_DMA_BUF_IOCTL_FLAGS_<FIELD>(p, value)   store value in it
 */
#define __U_DMA_BUF_IOCTL_GET(p, shift, mask) \
	(((p)->flags >> (shift)) & (mask))
#define __U_DMA_BUF_IOCTL_SET(p, shift, mask, value) \
	((p)->flags = ((p)->flags & ~((__u64)(mask) << (shift))) | \
		      (((__u64)(value) & (mask)) << (shift)))

/* drv_info.flags */
#define U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION_SHIFT	0
#define U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION_MASK	0xffULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION_SHIFT, U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION_SHIFT, U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS_SHIFT	8
#define U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS_MASK	0x1ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS_SHIFT, U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS_SHIFT, U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG_SHIFT	12
#define U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG_MASK	0x1ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM_SHIFT	13
#define U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM_MASK	0x1ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_SHIFT	16
#define U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_MASK	0x1ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE_SHIFT	17
#define U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE_MASK	0x1ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE_SHIFT, U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE_MASK, value)

/* dev_info.flags */
#define U_DMA_BUF_IOCTL_FLAGS_DMA_MASK_SHIFT	0
#define U_DMA_BUF_IOCTL_FLAGS_DMA_MASK_MASK	0xffULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_DMA_MASK(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_DMA_MASK_SHIFT, U_DMA_BUF_IOCTL_FLAGS_DMA_MASK_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_DMA_MASK(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_DMA_MASK_SHIFT, U_DMA_BUF_IOCTL_FLAGS_DMA_MASK_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT_SHIFT	9
#define U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT_MASK	0x1ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT_SHIFT, U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT_SHIFT, U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE_SHIFT	10
#define U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE_MASK	0x7ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE_SHIFT, U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE_SHIFT, U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE_MASK, value)

/* sync_args.flags */
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_SHIFT	0
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_MASK	0x3ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_SHIFT	2
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_MASK	0x3ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE_SHIFT	8
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE_MASK	0xffULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE_MASK, value)
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER_SHIFT	16
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER_MASK	0x1ULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER_SHIFT, U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER_MASK, value)

/* export_args.flags */
#define U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS_SHIFT	0
#define U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS_MASK	0xffffffffULL
#define GET_U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS(p) \
	__U_DMA_BUF_IOCTL_GET(p, U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS_SHIFT, U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS_MASK)
#define SET_U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS(p, value) \
	__U_DMA_BUF_IOCTL_SET(p, U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS_SHIFT, U_DMA_BUF_IOCTL_FLAGS_EXPORT_FD_FLAGS_MASK, value)

/* Values of SYNC_CMD and SYNC_DIR */
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_CPU		1
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_DEVICE	3
#define U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_UNCHANGED	3

#endif /* _UAPI_LINUX_U_DMA_BUF_IOCTL_H */
