/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Functions u-dma-buf exports to other kernel modules: an FPGA or
 * accelerator driver creates, finds, uses and removes buffers with them.
 * Build against u-dma-buf's Module.symvers (KBUILD_EXTRA_SYMBOLS).
 */
#ifndef U_DMA_BUF_FUNCS_H
#define U_DMA_BUF_FUNCS_H

#include <linux/device.h>
#include <linux/types.h>

/* @option of u_dma_buf_device_create() */
#define U_DMA_BUF_OPTION_DMA_MASK(bits)		((u64)(bits) & 0xff)
#define U_DMA_BUF_OPTION_MMAP_MODE(mode)	(((u64)(mode) & 7) << 10)

/* @cmd of u_dma_buf_device_sync() */
#define U_DMA_BUF_SYNC_FOR_CPU		1
#define U_DMA_BUF_SYNC_FOR_DEVICE	2

struct device *u_dma_buf_device_create(const char *name, int id, size_t size,
				       u64 option, struct device *parent);
struct device *u_dma_buf_device_search(const char *name, int id);
int u_dma_buf_device_remove(struct device *dev);
int u_dma_buf_device_getmap(struct device *dev, size_t *size, void **virt,
			    dma_addr_t *dma_addr);
int u_dma_buf_device_sync(struct device *dev, int cmd, int dir, u64 offset,
			  ssize_t size);

#endif /* U_DMA_BUF_FUNCS_H */
