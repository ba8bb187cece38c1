/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where the kernels u-dma-buf builds against differ.
 *
 * u-dma-buf.c is written for the current kernel API; each helper here gives
 * older kernels (6.1 on) the same shape and names the kernel that changed.
 * This is the only file that compares kernel versions, and only where the
 * kernel offers no symbol to test for.
 */
#ifndef U_DMA_BUF_COMPAT_H
#define U_DMA_BUF_COMPAT_H

#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/version.h>

/* 6.3 made vma->vm_flags read-only; vm_flags_set() is the accessor. */
static inline void udmabuf_vm_flags_set(struct vm_area_struct *vma,
					vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * Largest order the page allocator hands out: 6.4 made MAX_ORDER inclusive
 * and 6.8 renamed it MAX_PAGE_ORDER.
 */
#if defined(MAX_PAGE_ORDER)
#define UDMABUF_MAX_PAGE_ORDER	MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define UDMABUF_MAX_PAGE_ORDER	MAX_ORDER
#else
#define UDMABUF_MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

/*
 * platform_driver.remove returns void from 6.11 on and int before.
 * u-dma-buf.c writes the void form; older kernels call it through this.
 */
static void udmabuf_platform_remove(struct platform_device *pdev);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define udmabuf_compat_platform_remove	udmabuf_platform_remove
#else
static inline int udmabuf_compat_platform_remove(struct platform_device *pdev)
{
	udmabuf_platform_remove(pdev);
	return 0;
}
#endif

/*
 * The driver core made struct bus_type const (the API in 6.4, the bus
 * objects themselves by 6.12): follow whatever this kernel's own bus is.
 */
#define udmabuf_bus_type	typeof(platform_bus_type)

/*
 * 6.2 gave scatterlist entries DMA flags (a bus address; later also "bounced
 * through swiotlb"), which the syncs of a copied table need.
 */
static inline void udmabuf_sg_copy_dma_flags(struct scatterlist *d,
					     struct scatterlist *s)
{
#ifdef CONFIG_NEED_SG_DMA_FLAGS
	d->dma_flags = s->dma_flags;
#endif
}

/* dma-buf symbols live in a namespace; 6.13 names it with a string. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
MODULE_IMPORT_NS("DMA_BUF");
#else
MODULE_IMPORT_NS(DMA_BUF);
#endif

#endif /* U_DMA_BUF_COMPAT_H */
