// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Physically contiguous DMA buffers for user-space drivers
 */

#include <linux/amba/bus.h>
#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/libnvdimm.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/of_device.h>
#include <linux/of_reserved_mem.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/scatterlist.h>
#include <linux/security.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "u-dma-buf-funcs.h"
#include "u-dma-buf-ioctl.h"

/**
 * DOC: u-dma-buf
 *
 * Each buffer is one physically contiguous DMA allocation with a character
 * device /dev/<name> (read, write, mmap) and a sysfs directory
 * /sys/class/u-dma-buf/<name>/ that shows its DMA address and controls the
 * CPU cache around DMA.  A buffer is born in one of three ways: from a module
 * parameter (udmabufN=size), from a device-tree node (compatible
 * "ikwzm,u-dma-buf"), or at run time; all of them end in udmabuf_create().
 *
 * Lifetime: see "The buffer object" below; one rule, counted uses.
 *
 * Locking: udmabuf_minors_lock guards the minor table, every buffer's
 * published state and the creators' list, so every lookup, publication and
 * removal; memory is never allocated under it.  buf->lock guards a buffer's
 * sync state and its mapping for a parent, and nests inside
 * udmabuf_minors_lock.  User memory is never touched with buf->lock held,
 * because mmap() takes buf->lock under the mmap lock and a page fault in
 * copy_to_user() takes the mmap lock.  An export's lock guards its importers'
 * mappings only.
 */

#define UDMABUF_DRIVER_NAME	"u-dma-buf"
#define UDMABUF_VERSION		"6.0.0"
#define UDMABUF_IOCTL_VERSION	2
#define UDMABUF_MAX_MINORS	256
#define UDMABUF_PARAM_BUFFERS	8
#define UDMABUF_COPY_CHUNK	SZ_1M
#define UDMABUF_NAME_MAX	64
#define UDMABUF_MGR_NAME	"u-dma-buf-mgr"

/* sync_mode: bits 1..0 choose the uncached flavour, bit 2 means "always". */
#define UDMABUF_SYNC_NONCACHED		1
#define UDMABUF_SYNC_WRITECOMBINE	2
#define UDMABUF_SYNC_DMACOHERENT	3
#define UDMABUF_SYNC_FLAVOUR_MASK	3
#define UDMABUF_SYNC_ALWAYS		4
#define UDMABUF_SYNC_MODE_MAX		7

/* sync_direction as user space writes it; equal to enum dma_data_direction. */
#define UDMABUF_DIR_BIDIRECTIONAL	0
#define UDMABUF_DIR_TO_DEVICE		1
#define UDMABUF_DIR_FROM_DEVICE		2

#define UDMABUF_OWNER_CPU		0
#define UDMABUF_OWNER_DEVICE		1

/* quirk_mmap_mode: how mmap() builds a user mapping (see udmabuf_mmap()). */
enum udmabuf_mmap_mode {
	UDMABUF_MMAP_OFF = 1,
	UDMABUF_MMAP_ON = 2,
	UDMABUF_MMAP_AUTO = 3,
	UDMABUF_MMAP_PAGE = 4,
};

#define UDMABUF_DMA_MASK_MIN	12
#define UDMABUF_DMA_MASK_MAX	64

/* info_enable bits */
#define UDMABUF_INFO_BUFFER	BIT(0)
#define UDMABUF_INFO_DMA	BIT(1)
#define UDMABUF_INFO_CONFIG	BIT(2)

static int info_enable = UDMABUF_INFO_BUFFER;
module_param(info_enable, int, 0644);
MODULE_PARM_DESC(info_enable,
		 "log: bit 0 buffer info and install/remove lines, bit 1 DMA details, bit 2 configuration at load");

static int dma_mask_bit = 32;
module_param(dma_mask_bit, int, 0444);
MODULE_PARM_DESC(dma_mask_bit,
		 "DMA mask width (12..64) of buffers created without a device-tree node or parent");

static int quirk_mmap_mode = UDMABUF_MMAP_AUTO;
module_param(quirk_mmap_mode, int, 0444);
MODULE_PARM_DESC(quirk_mmap_mode,
		 "default mmap strategy: 1 off, 2 on, 3 auto, 4 page");

/*
 * udmabuf0..7: sizes of the parameter buffers.  64-bit, so that 4 GiB and
 * more survive, with an optional K, M or G suffix.
 */
static u64 udmabuf_param_sizes[UDMABUF_PARAM_BUFFERS];

static int udmabuf_parse_size(const char *text, u64 *size)
{
	char digits[32];
	unsigned int shift = 0;
	size_t len;
	u64 value;
	int err;

	if (strscpy(digits, text, sizeof(digits)) < 0)
		return -EINVAL;
	len = strlen(digits);
	if (len && digits[len - 1] == '\n')
		digits[--len] = '\0';
	if (!len)
		return -EINVAL;
	switch (tolower(digits[len - 1])) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	}
	if (shift)
		digits[--len] = '\0';
	err = kstrtoull(digits, 0, &value);
	if (err)
		return err;
	if (value > (U64_MAX >> shift))
		return -ERANGE;
	*size = value << shift;
	return 0;
}

static int udmabuf_param_size_set(const char *val, const struct kernel_param *kp)
{
	int err = udmabuf_parse_size(val, kp->arg);

	if (err)
		pr_err("u-dma-buf: %s=%s is not a size: give bytes, 0x hex or 0 octal, with an optional K, M or G suffix\n",
		       kp->name, val);
	return err;
}

static int udmabuf_param_size_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%llu\n", *(u64 *)kp->arg);
}

static const struct kernel_param_ops udmabuf_param_size_ops = {
	.set = udmabuf_param_size_set,
	.get = udmabuf_param_size_get,
};

module_param_cb(udmabuf0, &udmabuf_param_size_ops, &udmabuf_param_sizes[0], 0444);
MODULE_PARM_DESC(udmabuf0, "size of buffer udmabuf0 (bytes, K/M/G suffix), 0 = none");
module_param_cb(udmabuf1, &udmabuf_param_size_ops, &udmabuf_param_sizes[1], 0444);
MODULE_PARM_DESC(udmabuf1, "size of buffer udmabuf1 (bytes, K/M/G suffix), 0 = none");
module_param_cb(udmabuf2, &udmabuf_param_size_ops, &udmabuf_param_sizes[2], 0444);
MODULE_PARM_DESC(udmabuf2, "size of buffer udmabuf2 (bytes, K/M/G suffix), 0 = none");
module_param_cb(udmabuf3, &udmabuf_param_size_ops, &udmabuf_param_sizes[3], 0444);
MODULE_PARM_DESC(udmabuf3, "size of buffer udmabuf3 (bytes, K/M/G suffix), 0 = none");
module_param_cb(udmabuf4, &udmabuf_param_size_ops, &udmabuf_param_sizes[4], 0444);
MODULE_PARM_DESC(udmabuf4, "size of buffer udmabuf4 (bytes, K/M/G suffix), 0 = none");
module_param_cb(udmabuf5, &udmabuf_param_size_ops, &udmabuf_param_sizes[5], 0444);
MODULE_PARM_DESC(udmabuf5, "size of buffer udmabuf5 (bytes, K/M/G suffix), 0 = none");
module_param_cb(udmabuf6, &udmabuf_param_size_ops, &udmabuf_param_sizes[6], 0444);
MODULE_PARM_DESC(udmabuf6, "size of buffer udmabuf6 (bytes, K/M/G suffix), 0 = none");
module_param_cb(udmabuf7, &udmabuf_param_size_ops, &udmabuf_param_sizes[7], 0444);
MODULE_PARM_DESC(udmabuf7, "size of buffer udmabuf7 (bytes, K/M/G suffix), 0 = none");

/* ------------------------------------------------------------------------
 * The buffer object
 *
 * Lifetime, the one rule: a buffer's memory lives while it has uses, and
 * every user holds one (buf->uses, a kref):
 *   - its registration, from creation until removal;
 *   - every open file of /dev/<name> (a mapping holds its file);
 *   - every exported dma-buf (an importer's attachment holds the dma-buf);
 *   - the module that made it through u_dma_buf_device_create(), until its
 *     u_dma_buf_device_remove() (on udmabuf_creators, so that a pointer is
 *     checked before it is used).
 * Pages that someone else still references after all of those are gone (a
 * pipe holding vmspliced pages, O_DIRECT or io_uring in flight) count as a
 * use too: removal that can be refused (manager delete, in-kernel remove)
 * refuses then with -EBUSY, and the last put never frees pinned memory
 * (udmabuf_free_memory() keeps it and says so once).
 *
 * Removal unpublishes at once and frees after the last use.  Every removal
 * (manager delete, in-kernel remove, unbind or removal of the platform device,
 * removal of a bound buffer's parent, module exit) ends in udmabuf_destroy():
 * under udmabuf_minors_lock it marks the buffer unpublished, removes the
 * device node and sysfs directory, undoes the parent's DMA mapping and gives
 * back the minor and the name; then it drops the registration's use.  Nothing
 * can find or open an unpublished buffer; only the files already open on it
 * can still map or export it.  The struct itself
 * (and its embedded class device) lives on its device refcount, which the
 * uses hold; a pointer that outlives the buffer is only ever compared.
 */

/**
 * struct udmabuf_view - a range of a buffer that user mappings are made of
 * @buf: the buffer
 * @first: first page of the range in the buffer
 *
 * The private data of every user mapping, so that a fault maps the same
 * memory again: the buffer's own (whole) view, or an export's.
 */
struct udmabuf_view {
	struct udmabuf *buf;
	unsigned long first;
};

/**
 * struct udmabuf - one DMA buffer
 * @uses: the uses of the memory (see above); the last put frees it
 * @dev: the class device (/sys/class/u-dma-buf/<name>, /dev/<name>); also
 *	the device the memory is allocated for and synced through, so that
 *	its DMA configuration lives as long as the memory
 * @lock: guards the sync state and the parent mapping below it
 * @view: the whole buffer, for mappings of /dev/<name>
 * @minor: minor number, index in udmabuf_minors
 * @published: open() and lookups find it (guarded by udmabuf_minors_lock);
 *	false while it is being made and after its removal, when its minor
 *	and name stay taken until udmabuf_destroy() gives them back
 * @creator_node: on udmabuf_creators while the module that made it holds
 *	its use (guarded by udmabuf_minors_lock)
 * @pdev: the platform device whose driver owns the buffer (parameter,
 *	manager and device-tree buffers); NULL for a buffer bound to a parent
 * @dma_dev: the device that does the DMA: @dev, or the parent device the
 *	buffer is bound to (a reference is held), for which the memory is
 *	mapped while @parent_mapped
 * @rmem: the device-tree memory-region assigned to @dev, or NULL (a
 *	reference is held)
 * @rmem_no_map: that region is a no-map pool: the device's coherent pool,
 *	which only dma_alloc_coherent() allocates from, of memory without
 *	struct pages
 * @size: size user space asked for
 * @alloc_size: @size rounded up to whole pages
 * @mmap_mode: configured quirk_mmap_mode
 * @coherent_alloc: memory comes from dma_alloc_coherent()
 * @page_refcounted: every page has its own reference count, so the pages
 *	can be mapped as ordinary pages (and can be pinned by others)
 * @own_pages: the memory comes from alloc_pages_exact() and is mapped for
 *	@dev at @mem_addr by dma_map_page(), see udmabuf_use_own_pages()
 * @phys_mem: the memory is outside Linux's RAM, at @phys (INTERFACE.md §14)
 * @phys_uncached: such memory is mapped uncached: this architecture has no
 *	cache maintenance for it
 * @phys: its physical address
 * @vaddr: kernel address of the memory
 * @dma_addr: DMA address of the memory for @dma_dev
 * @mem_addr: DMA address of the memory for @dev, which allocated it; used
 *	to sync and free it; @dma_addr unless the buffer is bound
 * @parent_mapped: the memory is mapped for @dma_dev at @dma_addr
 * @parent_gone: @dma_dev (the parent) went away: the buffer has no DMA
 *	address any more, and one still being made must not be published
 * @page: first page of the memory; NULL for memory without pages
 * @sync_mode: see UDMABUF_SYNC_*
 * @sync_offset: stored range and direction for the "1" sync command
 * @sync_size: see @sync_offset
 * @sync_direction: see @sync_offset
 * @sync_owner: who owns the memory after the last sync: CPU or device
 * @debug_vma: log mapping open/close (bit 0)
 */
struct udmabuf {
	struct kref uses;
	struct device dev;
	struct mutex lock;		/* guards the sync state, parent mapping */
	struct udmabuf_view view;
	int minor;
	bool published;
	struct list_head creator_node;
	struct platform_device *pdev;
	struct device *dma_dev;
	struct device_node *rmem;
	bool rmem_no_map;
	u64 size;
	size_t alloc_size;
	int mmap_mode;
	bool coherent_alloc;
	bool page_refcounted;
	bool own_pages;
	bool phys_mem;
	bool phys_uncached;
	phys_addr_t phys;
	void *vaddr;
	dma_addr_t dma_addr;
	dma_addr_t mem_addr;
	bool parent_mapped;
	bool parent_gone;
	struct page *page;

	int sync_mode;
	u64 sync_offset;
	u64 sync_size;
	int sync_direction;
	int sync_owner;
	int debug_vma;
};

/* Messages caused by what a user did, not by setup; never flood the log. */
#define udmabuf_user_err(buf, fmt, ...) \
	pr_warn_ratelimited("u-dma-buf %s: " fmt, dev_name(&(buf)->dev), \
			    ##__VA_ARGS__)

static DEFINE_MUTEX(udmabuf_minors_lock);
static DEFINE_IDR(udmabuf_minors);
static dev_t udmabuf_devt;
static struct cdev udmabuf_cdev;

static void udmabuf_free_memory(struct udmabuf *buf);

/*
 * The last user is gone: free the memory while the DMA configuration it was
 * allocated with still exists (the driver core frees a device's dma-ranges
 * map before it calls the device's release), then let go of the devices.
 */
static void udmabuf_release(struct kref *kref)
{
	struct udmabuf *buf = container_of(kref, struct udmabuf, uses);

	udmabuf_free_memory(buf);
	if (buf->rmem) {
		of_reserved_mem_device_release(&buf->dev);
		of_node_put(buf->rmem);
	}
	if (buf->dma_dev && buf->dma_dev != &buf->dev)
		put_device(buf->dma_dev);
	put_device(&buf->dev);
}

static void udmabuf_dev_release(struct device *dev)
{
	struct udmabuf *buf = container_of(dev, struct udmabuf, dev);

	mutex_destroy(&buf->lock);
	kfree(buf);
}

static void udmabuf_get(struct udmabuf *buf)
{
	kref_get(&buf->uses);
}

static void udmabuf_put(struct udmabuf *buf)
{
	kref_put(&buf->uses, udmabuf_release);
}

/* ------------------------------------------------------------------------
 * Memory
 */

static bool udmabuf_pages_refcounted(struct page *page, unsigned long count)
{
	unsigned long pfn = page_to_pfn(page);
	unsigned long i;

	for (i = 0; i < count; i++)
		if (!page_count(pfn_to_page(pfn + i)))
			return false;
	return true;
}

/*
 * Does anyone besides our own uses still hold a page?  Each page of the
 * memory has a reference count of one of its own; a mapping adds to it only
 * while it exists, so with no mapping left any other reference is a pin (a
 * pipe holding vmspliced pages, O_DIRECT or io_uring in flight).  Memory
 * that is not mapped as pages cannot be pinned.
 */
static bool udmabuf_pages_pinned(struct udmabuf *buf)
{
	unsigned long pfn, count = buf->alloc_size >> PAGE_SHIFT;

	if (!buf->page_refcounted)
		return false;
	for (pfn = page_to_pfn(buf->page); count--; pfn++)
		if (page_count(pfn_to_page(pfn)) != 1)
			return true;
	return false;
}

static void udmabuf_log_alloc_failure(struct udmabuf *buf)
{
	struct device *dev = &buf->dev;
	u64 buddy_max = (u64)PAGE_SIZE << UDMABUF_MAX_PAGE_ORDER;

	if (buf->rmem)
		dev_err(dev, "cannot allocate %llu bytes from its memory-region %pOF: the region is too small or taken by other buffers; make it larger or the buffer smaller\n",
			buf->size, buf->rmem);
	else if (!IS_ENABLED(CONFIG_DMA_CMA) && buf->alloc_size > buddy_max)
		dev_err(dev, "cannot allocate %llu bytes: no CMA in this kernel, so at most %llu KiB per buffer; use a kernel with CONFIG_DMA_CMA and boot with cma=<size>, or a reserved-memory region\n",
			buf->size, buddy_max >> 10);
	else if (buf->alloc_size > buddy_max)
		dev_err(dev, "cannot allocate %llu bytes: the CMA area is too small or fragmented; boot with a larger cma=<size> or give the buffer a reserved-memory region\n",
			buf->size);
	else
		dev_err(dev, "cannot allocate %llu bytes of DMA memory below the %d-bit DMA mask; free memory, use a smaller buffer or a larger cma=<size>\n",
			buf->size, fls64(dma_get_mask(dev)));
}

/*
 * The memory always belongs to the buffer's own device, which lives as long
 * as the memory.  Two allocators, chosen by the mmap strategy:
 *
 * "off" (and a no-map memory-region pool) uses dma_alloc_coherent(): the DMA API
 * guarantees that CPU and device see each other's writes without any cache
 * maintenance, and the only user mapping the API allows for it is
 * dma_mmap_coherent().  The kernel address may be an uncached alias.
 *
 * Every other mode uses dma_alloc_pages(): physically contiguous, cacheable
 * memory with struct pages, owned by the CPU when returned.  The DMA API
 * documents that ownership of any sub-range moves to the device with
 * dma_sync_single_for_device() and back with dma_sync_single_for_cpu()
 * (Documentation/core-api/dma-api.rst, dma_alloc_pages), which is exactly
 * the sync_for_device/sync_for_cpu model of this driver.
 *
 * A buffer bound to a parent device has its own device carry the parent's
 * DMA mask and maps the memory for the parent (its IOMMU, its DMA offset)
 * with dma_map_page(); that mapping is undone when the parent goes away,
 * before its driver is gone, while the memory stays for its users until the
 * last one.  (Coherent memory for a bound buffer is so uncached on a
 * non-coherent architecture even for a coherent parent: slower, never
 * wrong.)
 *
 * __GFP_NOWARN: a failure is reported by udmabuf_log_alloc_failure() with
 * its cause, not by a page-allocator warning.
 */
static int udmabuf_alloc_coherent(struct udmabuf *buf)
{
	struct sg_table sgt;

	buf->vaddr = dma_alloc_coherent(&buf->dev, buf->alloc_size,
					&buf->mem_addr, GFP_KERNEL | __GFP_NOWARN);
	if (!buf->vaddr)
		return -ENOMEM;
	buf->dma_addr = buf->mem_addr;
	/*
	 * Its pages, as the DMA API's helper for coherent memory gives them,
	 * for exports and for the parent's mapping; a no-map pool has none.
	 */
	if (buf->rmem_no_map)
		return 0;
	if (dma_get_sgtable(&buf->dev, &sgt, buf->vaddr, buf->mem_addr,
			    buf->alloc_size)) {
		dev_err(&buf->dev, "cannot find the pages of %llu bytes of coherent memory\n",
			buf->size);
		dma_free_coherent(&buf->dev, buf->alloc_size, buf->vaddr,
				  buf->mem_addr);
		buf->vaddr = NULL;
		return -ENOMEM;
	}
	buf->page = sg_page(sgt.sgl);
	sg_free_table(&sgt);
	return 0;
}

/* The zone of @page, as the GFP flag that allocates from it. */
static gfp_t udmabuf_zone_gfp(struct page *page)
{
#ifdef CONFIG_ZONE_DMA
	if (page_zonenum(page) == ZONE_DMA)
		return GFP_DMA;
#endif
#ifdef CONFIG_ZONE_DMA32
	if (page_zonenum(page) == ZONE_DMA32)
		return GFP_DMA32;
#endif
	return 0;
}

/* Why pages from alloc_pages_exact() cannot replace the block, or NULL. */
static const char *udmabuf_map_own_pages(struct udmabuf *buf,
					 struct page *page, dma_addr_t *addr)
{
	struct device *dev = &buf->dev;
	bool direct = !device_iommu_mapped(dev);

	/* Same zone, but not necessarily below the mask. */
	if (direct && phys_to_dma(dev, page_to_phys(page)) + buf->alloc_size - 1 >
		      min_not_zero(dma_get_mask(dev), dev->bus_dma_limit))
		return "they lie beyond the DMA mask";
	*addr = dma_map_page_attrs(dev, page, 0, buf->alloc_size,
				   DMA_BIDIRECTIONAL,
				   DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_NO_WARN);
	if (dma_mapping_error(dev, *addr))
		return "the DMA API cannot map them";
	if (direct && dma_to_phys(dev, *addr) != page_to_phys(page)) {
		dma_unmap_page_attrs(dev, *addr, buf->alloc_size,
				     DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
		return "the device would reach them through bounce buffers";
	}
	return NULL;
}

/*
 * Without CMA, dma_alloc_pages() takes the memory from the page allocator as
 * one high-order block whose tail pages have no reference count of their
 * own: user space could map them only as page frames, one fault per page,
 * and neither O_DIRECT nor io_uring nor vmsplice could pin them.  Such a
 * block is replaced by one from alloc_pages_exact() in the same zone, whose
 * pages each have their own reference count, mapped for the buffer's device
 * with dma_map_page() for the buffer's life: a streaming mapping, owned by
 * the CPU or the device through the same dma_sync_single_*() calls.  If the
 * new pages lie beyond the DMA mask or the device would reach them only
 * through bounce buffers, the block is kept (and the log says so).
 */
static void udmabuf_use_own_pages(struct udmabuf *buf)
{
	struct device *dev = &buf->dev;
	const char *why = "there is no memory for them";
	dma_addr_t addr;
	void *vaddr;

	vaddr = alloc_pages_exact(buf->alloc_size,
				  GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
				  udmabuf_zone_gfp(buf->page));
	if (vaddr) {
		why = udmabuf_map_own_pages(buf, virt_to_page(vaddr), &addr);
		if (why)
			free_pages_exact(vaddr, buf->alloc_size);
	}
	if (why) {
		dev_info(dev, "%zu bytes from the page allocator are mapped as page frames, which O_DIRECT, io_uring and vmsplice cannot pin: pages with reference counts of their own could not be used (%s)\n",
			 buf->alloc_size, why);
		return;
	}
	dma_free_pages(dev, buf->alloc_size, buf->page, buf->mem_addr,
		       DMA_BIDIRECTIONAL);
	buf->page = virt_to_page(vaddr);
	buf->mem_addr = addr;
	buf->own_pages = true;
}

static int udmabuf_alloc_pages(struct udmabuf *buf)
{
	struct device *dev = &buf->dev;

	buf->page = dma_alloc_pages(dev, buf->alloc_size, &buf->mem_addr,
				    DMA_BIDIRECTIONAL,
				    GFP_KERNEL | __GFP_NOWARN);
	/*
	 * 6.1 tracks this allocation as a mapping in DMA-API debugging, which
	 * wants its address checked like any mapping's.
	 */
	if (buf->page && dma_mapping_error(dev, buf->mem_addr)) {
		dma_free_pages(dev, buf->alloc_size, buf->page, buf->mem_addr,
			       DMA_BIDIRECTIONAL);
		buf->page = NULL;
	}
	if (!buf->page)
		return -ENOMEM;
	if (!buf->rmem &&
	    !udmabuf_pages_refcounted(buf->page, buf->alloc_size >> PAGE_SHIFT))
		udmabuf_use_own_pages(buf);
	/* The allocator zeroed the pages through the cache. */
	dma_sync_single_for_device(dev, buf->mem_addr, buf->alloc_size,
				   DMA_TO_DEVICE);
	buf->page_refcounted =
		udmabuf_pages_refcounted(buf->page,
					 buf->alloc_size >> PAGE_SHIFT);
	buf->vaddr = page_address(buf->page);
	buf->dma_addr = buf->mem_addr;
	return 0;
}

/*
 * A parent between the start and the end of its removal (DEL_DEVICE to
 * REMOVED_DEVICE) or of its driver's unbind (UNBIND_DRIVER to
 * UNBOUND_DRIVER) is dying: its notifier has run, so a buffer made for it
 * now would outlive its sysfs directory or its driver.  Under
 * udmabuf_minors_lock.
 */
struct udmabuf_dying {
	struct list_head node;
	struct device *dev;
};

static LIST_HEAD(udmabuf_dying_parents);

static int udmabuf_same_device(struct device *dev, const void *data)
{
	return dev == data;
}

/* Neither dying nor (after REMOVED_DEVICE) gone from its bus. */
static bool udmabuf_parent_alive(struct device *parent)
{
	struct udmabuf_dying *dying;
	struct device *found;

	lockdep_assert_held(&udmabuf_minors_lock);
	list_for_each_entry(dying, &udmabuf_dying_parents, node)
		if (dying->dev == parent)
			return false;
	if (!parent->bus)
		return true;
	found = bus_find_device(parent->bus, NULL, parent,
				udmabuf_same_device);
	put_device(found);
	return found == parent;
}

/*
 * Map the memory for the parent of a bound buffer, when the buffer is
 * published (under udmabuf_minors_lock, so a parent that goes away meanwhile
 * is seen in @parent_gone).  The memory is written back (pages) or uncached
 * (coherent memory): no sync here.
 */
static int udmabuf_map_for_parent(struct udmabuf *buf)
{
	struct device *parent = buf->dma_dev;
	dma_addr_t addr;

	lockdep_assert_held(&udmabuf_minors_lock);
	if (buf->parent_gone || !udmabuf_parent_alive(parent)) {
		dev_err(&buf->dev, "%s went away while the buffer was made\n",
			dev_name(parent));
		return -ENODEV;
	}
	addr = dma_map_page_attrs(parent, buf->page, 0, buf->alloc_size,
				  DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
	if (dma_mapping_error(parent, addr)) {
		dev_err(&buf->dev, "cannot map %llu bytes for %s (its IOMMU or DMA mask); use a smaller buffer\n",
			buf->size, dev_name(parent));
		return -ENOMEM;
	}
	/* Without an IOMMU the device must reach the memory itself, not a copy. */
	if (!device_iommu_mapped(parent) &&
	    dma_to_phys(parent, addr) != page_to_phys(buf->page)) {
		dma_unmap_page_attrs(parent, addr, buf->alloc_size,
				     DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
		dev_err(&buf->dev, "%s reaches this memory only through bounce buffers (its dma-ranges or swiotlb); the buffer cannot be bound to it\n",
			dev_name(parent));
		return -ENOMEM;
	}
	mutex_lock(&buf->lock);
	buf->dma_addr = addr;
	buf->parent_mapped = true;
	mutex_unlock(&buf->lock);
	return 0;
}

/*
 * The parent is going away (@gone), or the buffer is: its DMA address is no
 * more.  Under udmabuf_minors_lock, so that a parent's notifier and a
 * concurrent removal cannot miss each other.
 */
static void udmabuf_unmap_for_parent(struct udmabuf *buf, bool gone)
{
	lockdep_assert_held(&udmabuf_minors_lock);
	mutex_lock(&buf->lock);
	if (buf->parent_mapped)
		dma_unmap_page_attrs(buf->dma_dev, buf->dma_addr,
				     buf->alloc_size, DMA_BIDIRECTIONAL,
				     DMA_ATTR_SKIP_CPU_SYNC);
	buf->parent_mapped = false;
	buf->parent_gone |= gone;
	mutex_unlock(&buf->lock);
}

/*
 * The DMA address, unless the buffer is bound and its parent (so the
 * mapping for it) has gone.
 */
static int udmabuf_get_dma_addr(struct udmabuf *buf, dma_addr_t *addr)
{
	int err = 0;

	mutex_lock(&buf->lock);
	if (buf->dma_dev != &buf->dev && !buf->parent_mapped)
		err = -ENODEV;
	*addr = buf->dma_addr;
	mutex_unlock(&buf->lock);
	return err;
}

/*
 * Memory outside Linux's RAM (INTERFACE.md §14): FPGA block RAM or DDR behind
 * the programmable logic, a PCIe card's memory BAR.  The buffer claims the
 * range in the resource tree while it exists, maps it cached with
 * memremap(), and keeps the CPU cache right with the kernel's functions for
 * memory the CPU caches outside the page allocator's reach: those of
 * persistent memory, arch_wb_cache_pmem() (write back) and
 * arch_invalidate_pmem().  An architecture without them gets an uncached
 * mapping instead, and syncs do nothing.  The contents are never written:
 * what the logic holds survives a reload of the module.
 */

/* A cache operation over a range, in chunks: a BAR may be gigabytes. */
static void udmabuf_phys_cache_op(void (*op)(void *addr, size_t size),
				  void *addr, size_t size)
{
	while (size) {
		size_t chunk = min_t(size_t, size, UDMABUF_COPY_CHUNK);

		op(addr, chunk);
		addr += chunk;
		size -= chunk;
		if (size)
			cond_resched();
	}
}

/*
 * sync_for_device writes the range back, sync_for_cpu invalidates it (not
 * for DMA_TO_DEVICE, as the DMA API does).  Uncached: only the order of the
 * CPU's accesses and its write buffer.
 */
static void udmabuf_phys_sync(struct udmabuf *buf, bool for_device,
			      u64 offset, size_t size,
			      enum dma_data_direction dir)
{
	void *addr = buf->vaddr + offset;

	if (buf->phys_uncached) {
		if (for_device)
			wmb();	/* the CPU's writes reach the memory first */
		else
			rmb();	/* no read of the buffer before this point */
	} else if (for_device) {
		udmabuf_phys_cache_op(arch_wb_cache_pmem, addr, size);
	} else if (dir != DMA_TO_DEVICE) {
		udmabuf_phys_cache_op(arch_invalidate_pmem, addr, size);
	}
}

static bool udmabuf_phys_in_ram(phys_addr_t start, size_t size)
{
	return region_intersects(start, size, IORESOURCE_SYSTEM_RAM,
				 IORES_DESC_NONE) != REGION_DISJOINT;
}

static int udmabuf_alloc_phys(struct udmabuf *buf)
{
	struct device *dev = &buf->dev;
	phys_addr_t last = buf->phys + buf->alloc_size - 1;

	if (!request_mem_region(buf->phys, buf->alloc_size, dev_name(dev))) {
		dev_err(dev, "[mem %pa-%pa] is claimed by another driver or buffer (see /proc/iomem)\n",
			&buf->phys, &last);
		return -EBUSY;
	}
	buf->phys_uncached = !IS_ENABLED(CONFIG_ARCH_HAS_PMEM_API);
	buf->vaddr = memremap(buf->phys, buf->alloc_size,
			      buf->phys_uncached ? MEMREMAP_WC : MEMREMAP_WB);
	if (!buf->vaddr) {
		dev_err(dev, "cannot map [mem %pa-%pa] into the kernel\n",
			&buf->phys, &last);
		release_mem_region(buf->phys, buf->alloc_size);
		return -ENOMEM;
	}
	if (buf->phys_uncached)
		dev_info(dev, "[mem %pa-%pa]: this architecture has no cache maintenance for memory outside RAM: mapped uncached, syncs do nothing\n",
			 &buf->phys, &last);
	else	/* Lines of an earlier mapping of it must not hide the memory. */
		udmabuf_phys_cache_op(arch_invalidate_pmem, buf->vaddr,
				      buf->alloc_size);
	buf->mem_addr = buf->phys;
	buf->dma_addr = buf->phys;
	return 0;
}

/* What the CPU wrote reaches the memory before the claim goes. */
static void udmabuf_free_phys(struct udmabuf *buf)
{
	if (!buf->phys_uncached)
		udmabuf_phys_cache_op(arch_wb_cache_pmem, buf->vaddr,
				      buf->alloc_size);
	memunmap(buf->vaddr);
	release_mem_region(buf->phys, buf->alloc_size);
}

/*
 * Must the memory be kept when the last use is gone?  CMA memory that
 * someone still holds (a pin) is never given back: CMA takes the whole
 * range back at once and would hand out pages that someone still reads or
 * writes, and the kernel gives no way to learn when a pin goes.  A reference
 * taken for a moment by a page walker is waited for, briefly.  Own pages go
 * back one by one: a page someone holds goes with the holder's last
 * reference.
 */
static bool udmabuf_keep_pinned(struct udmabuf *buf)
{
	int tries = 10;

	if (buf->own_pages)
		return false;
	for (; udmabuf_pages_pinned(buf); msleep(20))
		if (!--tries)
			return true;
	return false;
}

/* The last use is gone. */
static void udmabuf_free_memory(struct udmabuf *buf)
{
	if (!buf->vaddr)
		return;
	if (udmabuf_keep_pinned(buf)) {
		dev_warn(&buf->dev, "%zu bytes of memory are kept: pages still in use by someone else (a pipe, O_DIRECT or io_uring), they cannot be given back\n",
			 buf->alloc_size);
	} else if (buf->coherent_alloc) {
		dma_free_coherent(&buf->dev, buf->alloc_size, buf->vaddr,
				  buf->mem_addr);
	} else if (buf->phys_mem) {
		udmabuf_free_phys(buf);
	} else if (buf->own_pages) {
		dma_unmap_page_attrs(&buf->dev, buf->mem_addr, buf->alloc_size,
				     DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
		free_pages_exact(buf->vaddr, buf->alloc_size);
	} else {
		dma_free_pages(&buf->dev, buf->alloc_size, buf->page,
			       buf->mem_addr, DMA_BIDIRECTIONAL);
	}
	buf->vaddr = NULL;
	buf->page = NULL;
	buf->page_refcounted = false;
	buf->own_pages = false;
}

/*
 * Memory of a reusable memory-region must lie inside it: dma_alloc_pages()
 * takes it from the region's CMA area only if that can give it, and
 * otherwise from the page allocator, anywhere, without a word.  Says why the
 * region could not give it.
 */
static const char *udmabuf_outside_region(struct udmabuf *buf)
{
	struct reserved_mem *rmem;
	phys_addr_t start, end;
	u64 limit;

	if (!buf->rmem || buf->rmem_no_map)
		return NULL;
	rmem = of_reserved_mem_lookup(buf->rmem);
	if (!rmem)
		return "it is not a reserved region the kernel knows";
	start = page_to_phys(buf->page);
	end = start + buf->alloc_size;
	if (start >= rmem->base && end > start &&
	    end <= rmem->base + rmem->size)
		return NULL;
	limit = min_not_zero(dma_get_mask(&buf->dev), buf->dev.bus_dma_limit);
	if (phys_to_dma(&buf->dev, rmem->base + rmem->size - 1) > limit)
		return "it lies beyond the buffer's DMA mask (set dma-mask)";
	if (PageHighMem(pfn_to_page(PHYS_PFN(rmem->base))))
		return "it lies in highmem, which dma_alloc_pages() cannot use";
	return "it is full or fragmented";
}

/*
 * Contiguous memory beyond what the page allocator gives comes from CMA.  On
 * a 32-bit kernel with highmem, the CMA area (or the buffer's region) often
 * lies in highmem, which dma_alloc_pages() refuses (it needs a kernel address
 * for the pages), while dma_alloc_coherent() takes it and maps it uncached.
 * So there such a buffer becomes coherent memory, as in mmap mode "off",
 * rather than fail while CMA is free; not in mode "page", which promises
 * ordinary pages.
 */
static bool udmabuf_try_coherent(struct udmabuf *buf)
{
	u64 buddy_max = (u64)PAGE_SIZE << UDMABUF_MAX_PAGE_ORDER;
	struct reserved_mem *rmem;

	if (!IS_ENABLED(CONFIG_HIGHMEM) || !totalhigh_pages())
		return false;
	if (buf->rmem) {
		/* A region in lowmem that could not give it is full. */
		rmem = of_reserved_mem_lookup(buf->rmem);
		if (!rmem || !PageHighMem(pfn_to_page(PHYS_PFN(rmem->base))))
			return false;
	} else if (buf->alloc_size <= buddy_max) {
		return false;
	}
	if (buf->mmap_mode == UDMABUF_MMAP_PAGE) {
		dev_err(&buf->dev, "mmap mode page needs cached memory with a kernel address, and the memory for %llu bytes would be highmem CMA; use mode on or auto (coherent memory) or a region in lowmem\n",
			buf->size);
		return false;
	}
	buf->coherent_alloc = true;
	return true;
}

static bool udmabuf_highmem(struct udmabuf *buf)
{
	return buf->page && PageHighMem(buf->page);
}

/* One allocation; memory outside the buffer's region is given back (@why). */
static int udmabuf_alloc_once(struct udmabuf *buf, const char **why,
			      phys_addr_t *offered)
{
	int err = buf->coherent_alloc ? udmabuf_alloc_coherent(buf) :
					udmabuf_alloc_pages(buf);

	*why = NULL;
	if (err || !buf->page)
		return err;
	*why = udmabuf_outside_region(buf);
	if (!*why)
		return 0;
	*offered = page_to_phys(buf->page);
	udmabuf_free_memory(buf);
	return -ENOMEM;
}

static int udmabuf_alloc_memory(struct udmabuf *buf)
{
	phys_addr_t offered = 0;
	const char *why;
	int err;

	if (buf->phys_mem)
		return udmabuf_alloc_phys(buf);
	err = udmabuf_alloc_once(buf, &why, &offered);

	if (err && !buf->coherent_alloc && udmabuf_try_coherent(buf)) {
		err = udmabuf_alloc_once(buf, &why, &offered);
		if (!err) {
			buf->mmap_mode = UDMABUF_MMAP_OFF;
			dev_warn(&buf->dev, "no cached memory for %llu bytes (%s): coherent memory instead, mapped uncached, syncs not needed (as mmap mode off)\n",
				 buf->size, udmabuf_highmem(buf) ?
				 "CMA in highmem, which dma_alloc_pages() does not take" :
				 "dma_alloc_pages() could not give it");
		}
	}
	if (why)
		dev_err(&buf->dev, "cannot allocate %llu bytes from its memory-region %pOF: %s (memory offered at %pa, outside it, not used)\n",
			buf->size, buf->rmem, why, &offered);
	else if (err)
		udmabuf_log_alloc_failure(buf);
	return err;
}

/* ------------------------------------------------------------------------
 * Cache maintenance
 */

/* Does the device see what the CPU caches hold?  Never memory outside RAM. */
static bool udmabuf_dma_coherent(struct udmabuf *buf)
{
	return !buf->phys_mem && dev_is_dma_coherent(buf->dma_dev);
}

/*
 * Cache maintenance of cached memory goes through the buffer's own device,
 * which allocated it: the same CPU cache operations as through the parent of
 * a bound buffer (the memory is the same), and valid after the parent went.
 * Coherent memory needs none, by the DMA API's guarantee.  Memory outside
 * RAM has no DMA-API owner: see udmabuf_alloc_phys().
 */
static void udmabuf_sync_for_cpu(struct udmabuf *buf, u64 offset, size_t size,
				 enum dma_data_direction dir)
{
	if (buf->phys_mem)
		udmabuf_phys_sync(buf, false, offset, size, dir);
	else if (!buf->coherent_alloc)
		dma_sync_single_for_cpu(&buf->dev, buf->mem_addr + offset, size,
					dir);
}

static void udmabuf_sync_for_device(struct udmabuf *buf, u64 offset,
				    size_t size, enum dma_data_direction dir)
{
	if (buf->phys_mem)
		udmabuf_phys_sync(buf, true, offset, size, dir);
	else if (!buf->coherent_alloc)
		dma_sync_single_for_device(&buf->dev, buf->mem_addr + offset,
					   size, dir);
}

/**
 * udmabuf_sync_range() - hand a range of the buffer to the CPU or the device
 * @buf: the buffer, with buf->lock held
 * @for_device: true: write the CPU cache back so the device reads what the
 *	CPU wrote; false: invalidate it so the CPU reads what the device wrote
 * @offset: start of the range in bytes
 * @size: length of the range in bytes
 * @direction: UDMABUF_DIR_*
 *
 * Validates the range without overflow before anything happens.  Memory
 * from dma_alloc_coherent() needs no maintenance by the DMA API's guarantee
 * (and must not get dma_sync_* calls), so there only the owner changes.
 * The DMA API makes the sync calls no-ops on a DMA-coherent device.
 *
 * Return: 0, or -EINVAL for a range outside the buffer.
 */
static int udmabuf_sync_range(struct udmabuf *buf, bool for_device,
			      u64 offset, u64 size, int direction)
{
	enum dma_data_direction dir = (enum dma_data_direction)direction;

	lockdep_assert_held(&buf->lock);
	if (offset > buf->size || size > buf->size - offset) {
		udmabuf_user_err(buf, "sync range offset=%llu size=%llu is outside the buffer (size %llu)\n",
				 offset, size, buf->size);
		return -EINVAL;
	}
	if (size && for_device)
		udmabuf_sync_for_device(buf, offset, size, dir);
	else if (size)
		udmabuf_sync_for_cpu(buf, offset, size, dir);
	buf->sync_owner = for_device ? UDMABUF_OWNER_DEVICE : UDMABUF_OWNER_CPU;
	return 0;
}

/*
 * The encoded 64-bit sync command: 0 does nothing, 1 syncs the stored range,
 * anything else is a one-off range: bits 63..32 offset, bits 31..4 size,
 * bits 3..2 direction (3 also means bidirectional).
 */
static int udmabuf_sync_command(struct udmabuf *buf, bool for_device, u64 cmd)
{
	u64 offset, size;
	int direction;

	lockdep_assert_held(&buf->lock);
	if (cmd == 0)
		return 0;
	if (cmd == 1) {
		offset = buf->sync_offset;
		size = buf->sync_size;
		direction = buf->sync_direction;
	} else {
		offset = cmd >> 32;
		size = cmd & GENMASK_ULL(31, 4);
		direction = (cmd >> 2) & 3;
		if (direction == 3)
			direction = UDMABUF_DIR_BIDIRECTIONAL;
	}
	return udmabuf_sync_range(buf, for_device, offset, size, direction);
}

/* Does this open file ask read()/write()/mmap() to keep the cache right? */
static bool udmabuf_file_is_sync(struct file *file, int sync_mode)
{
	return (file->f_flags & O_SYNC) || (sync_mode & UDMABUF_SYNC_ALWAYS);
}

/* ------------------------------------------------------------------------
 * mmap
 */

/*
 * The uncached flavour (UDMABUF_SYNC_*) a user mapping can have here, or 0
 * for cached.  x86 keeps RAM write-back in remap_pfn_range() whatever is
 * asked (PAT, and it warns), and DMA there is cache-coherent, so cached is
 * correct there.
 */
static int udmabuf_arch_flavour(int flavour)
{
	return IS_ENABLED(CONFIG_X86) ? 0 : flavour;
}

/*
 * O_SYNC or sync-always ask for the flavour in sync_mode bits 1..0; memory
 * outside RAM that cannot be synced is never cached.
 */
static int udmabuf_mapping_flavour(struct udmabuf *buf, struct file *file,
				   int sync_mode)
{
	int flavour = sync_mode & UDMABUF_SYNC_FLAVOUR_MASK;

	if (buf->phys_uncached)
		return flavour ?: UDMABUF_SYNC_NONCACHED;
	if (!udmabuf_file_is_sync(file, sync_mode))
		return 0;
	return udmabuf_arch_flavour(flavour);
}

static pgprot_t udmabuf_pgprot(int flavour, pgprot_t prot)
{
	switch (flavour) {
	case UDMABUF_SYNC_NONCACHED:
		/*
		 * arm/arm64 pgprot_noncached() is Device memory, where unaligned
		 * accesses and DC ZVA (glibc memset) raise SIGBUS; user space
		 * needs Normal non-cacheable memory there.
		 */
		if (IS_ENABLED(CONFIG_ARM64) || IS_ENABLED(CONFIG_ARM))
			return pgprot_writecombine(prot);
		return pgprot_noncached(prot);
	case UDMABUF_SYNC_WRITECOMBINE:
		return pgprot_writecombine(prot);
	case UDMABUF_SYNC_DMACOHERENT:
		return pgprot_dmacoherent(prot);
	}
	return prot;
}

static void udmabuf_vm_log(struct vm_area_struct *vma, const char *what)
{
	struct udmabuf_view *view = vma->vm_private_data;

	if (READ_ONCE(view->buf->debug_vma) & 1)
		pr_info_ratelimited("u-dma-buf %s: vma %s %lu pages at page offset %lu\n",
				    dev_name(&view->buf->dev), what,
				    vma_pages(vma), view->first + vma->vm_pgoff);
}

static void udmabuf_vm_open(struct vm_area_struct *vma)
{
	udmabuf_vm_log(vma, "open");
}

static void udmabuf_vm_close(struct vm_area_struct *vma)
{
	udmabuf_vm_log(vma, "close");
}

/*
 * A fault maps a whole window of the mapping around the address, so that a
 * pass over the buffer costs one fault per window, not one per page, and
 * mmap() itself does no work per page.  The window is 2 MiB of the address
 * space, aligned: one page table's worth with 4 KiB pages.
 */
#define UDMABUF_FAULT_WINDOW	SZ_2M

/*
 * Ordinary pages (each with its own reference count, so that O_DIRECT,
 * io_uring and vmsplice can pin them), in runs; a page already mapped (by
 * a racing fault, or one that madvise(MADV_DONTNEED) did not zap) is
 * skipped.
 */
static vm_fault_t udmabuf_fault_pages(struct vm_area_struct *vma,
				      unsigned long addr, unsigned long end,
				      struct page *page)
{
	struct page *pages[64];

	while (addr < end) {
		unsigned long count = min_t(unsigned long, (end - addr) >> PAGE_SHIFT,
					    ARRAY_SIZE(pages));
		unsigned long left = count;
		unsigned long i;
		int err;

		for (i = 0; i < count; i++)
			pages[i] = nth_page(page, i);
		err = vm_insert_pages(vma, addr, pages, &left);
		if (err == -ENOMEM || err == -EFAULT)	/* no page table */
			return VM_FAULT_OOM;
		if (err && err != -EBUSY)
			return VM_FAULT_SIGBUS;
		/* -EBUSY: page count - left was mapped already; go on after it. */
		i = count - left + !!err;
		addr += i << PAGE_SHIFT;
		page = nth_page(page, i);
	}
	return VM_FAULT_NOPAGE;
}

/* Page frames (memory without per-page reference counts), one by one. */
static vm_fault_t udmabuf_fault_pfns(struct vm_area_struct *vma,
				     unsigned long addr, unsigned long end,
				     unsigned long pfn)
{
	vm_fault_t ret = VM_FAULT_NOPAGE;

	for (; addr < end && ret == VM_FAULT_NOPAGE; addr += PAGE_SIZE)
		ret = vmf_insert_pfn(vma, addr, pfn++);
	return ret;
}

static vm_fault_t udmabuf_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct udmabuf_view *view = vma->vm_private_data;
	struct udmabuf *buf = view->buf;
	unsigned long start = max(ALIGN_DOWN(vmf->address, UDMABUF_FAULT_WINDOW),
				  vma->vm_start);
	unsigned long end = min(ALIGN_DOWN(vmf->address, UDMABUF_FAULT_WINDOW) +
				UDMABUF_FAULT_WINDOW, vma->vm_end);
	unsigned long index = view->first + vma->vm_pgoff +
			      ((start - vma->vm_start) >> PAGE_SHIFT);

	if (index + ((end - start) >> PAGE_SHIFT) > buf->alloc_size >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;
	if (buf->page_refcounted)
		return udmabuf_fault_pages(vma, start, end,
					   nth_page(buf->page, index));
	return udmabuf_fault_pfns(vma, start, end,
				  (buf->page ? page_to_pfn(buf->page) :
				   PHYS_PFN(buf->phys)) + index);
}

static const struct vm_operations_struct udmabuf_vm_ops = {
	.open = udmabuf_vm_open,
	.close = udmabuf_vm_close,
	.fault = udmabuf_vm_fault,
};

/*
 * dma_mmap_coherent() maps from vma->vm_pgoff on; an export's mapping starts
 * at its own offset in the buffer.
 */
static int udmabuf_mmap_coherent(struct udmabuf *buf,
				 struct vm_area_struct *vma, unsigned long first)
{
	unsigned long pgoff = vma->vm_pgoff;
	int err;

	vma->vm_pgoff = first;
	err = dma_mmap_coherent(&buf->dev, vma, buf->vaddr, buf->mem_addr,
				buf->alloc_size);
	vma->vm_pgoff = pgoff;
	return err;
}

/**
 * udmabuf_map() - set up a user mapping of a view of the buffer
 * @view: the buffer and the page the view starts at
 * @vma: the mapping; already checked to fit
 * @flavour: 0 for cached, else the uncached flavour (UDMABUF_SYNC_*)
 *
 * Mapping strategy, decided when the buffer was allocated:
 * - coherent memory: dma_mmap_coherent(), the only mapping the DMA API
 *   allows for dma_alloc_coherent() memory (uncached on a non-coherent
 *   device);
 * - otherwise the pages themselves: as ordinary pages when each has its own
 *   reference count (CMA), as page frames when not (tail pages of a
 *   high-order allocation have none and must never be mapped as pages),
 *   by the fault handler, a window of 2 MiB per fault, so that mmap() and
 *   munmap() of an untouched mapping cost the same at any size.
 */
static int udmabuf_map(struct udmabuf_view *view, struct vm_area_struct *vma,
		       int flavour)
{
	struct udmabuf *buf = view->buf;
	unsigned long first = view->first + vma->vm_pgoff;

	if (!(vma->vm_flags & VM_MAYSHARE)) {
		udmabuf_user_err(buf, "mmap: MAP_PRIVATE is not supported, use MAP_SHARED\n");
		return -EINVAL;
	}
	vma->vm_page_prot = udmabuf_pgprot(flavour, vma->vm_page_prot);
	vma->vm_ops = &udmabuf_vm_ops;
	vma->vm_private_data = view;
	udmabuf_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	udmabuf_vm_open(vma);

	if (buf->coherent_alloc)
		return udmabuf_mmap_coherent(buf, vma, first);
	/*
	 * An uncached view must not be overwritten later by dirty lines of
	 * the kernel's cached alias: write them back first.
	 */
	if (flavour)
		udmabuf_sync_for_device(buf, (u64)first << PAGE_SHIFT,
					vma->vm_end - vma->vm_start,
					DMA_TO_DEVICE);
	/* The faults map the pages, as the flags say they are. */
	if (buf->page_refcounted)
		udmabuf_vm_flags_set(vma, VM_MIXEDMAP);
	else
		udmabuf_vm_flags_set(vma, VM_PFNMAP | VM_IO);
	return 0;
}

static int udmabuf_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct udmabuf *buf = file->private_data;
	unsigned long buf_pages = buf->alloc_size >> PAGE_SHIFT;
	int flavour, sync_mode;

	if (vma->vm_pgoff >= buf_pages ||
	    vma_pages(vma) > buf_pages - vma->vm_pgoff) {
		udmabuf_user_err(buf, "mmap: %lu pages at page offset %lu do not fit in %lu pages\n",
				 vma_pages(vma), vma->vm_pgoff, buf_pages);
		return -EINVAL;
	}
	mutex_lock(&buf->lock);
	sync_mode = buf->sync_mode;
	mutex_unlock(&buf->lock);
	/*
	 * x86 gives a physical range one memory type: write-back here, as the
	 * kernel's alias.  A device's own memory is not snooped there.
	 */
	if (IS_ENABLED(CONFIG_X86) && buf->phys_mem && !buf->phys_uncached &&
	    udmabuf_file_is_sync(file, sync_mode) &&
	    (sync_mode & UDMABUF_SYNC_FLAVOUR_MASK)) {
		udmabuf_user_err(buf, "mmap: memory outside RAM is only cached on x86; map it without O_SYNC and sync-always, and sync by hand\n");
		return -EINVAL;
	}
	flavour = udmabuf_mapping_flavour(buf, file, sync_mode);
	return udmabuf_map(&buf->view, vma, flavour);
}

/* ------------------------------------------------------------------------
 * File operations
 */

static int udmabuf_open(struct inode *inode, struct file *file)
{
	struct udmabuf *buf;

	mutex_lock(&udmabuf_minors_lock);
	buf = idr_find(&udmabuf_minors, iminor(inode));
	if (buf && buf->published)
		udmabuf_get(buf);
	else
		buf = NULL;
	mutex_unlock(&udmabuf_minors_lock);
	if (!buf)
		return -ENODEV;
	file->private_data = buf;
	return 0;
}

static int udmabuf_file_release(struct inode *inode, struct file *file)
{
	udmabuf_put(file->private_data);
	return 0;
}

/*
 * copy_from_user() fills what it cannot copy with zeros; straight into the
 * buffer, that would overwrite bytes past the count a short write() returns.
 */
static unsigned long udmabuf_copy_in(void *to, const void __user *from,
				     size_t n)
{
	if (!access_ok(from, n))
		return n;
	return __copy_from_user(to, from, n);
}

/*
 * Copy between user memory and the buffer through the kernel's (cached)
 * address, in chunks so that a large copy can be interrupted.  With O_SYNC
 * or sync-always the range is synced for the CPU before a read and for the
 * device after a write.
 */
static ssize_t udmabuf_copy(struct file *file, char __user *ubuf, size_t count,
			    loff_t *ppos, bool to_buffer)
{
	struct udmabuf *buf = file->private_data;
	enum dma_data_direction dir = to_buffer ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
	bool sync = !buf->coherent_alloc &&
		    udmabuf_file_is_sync(file, READ_ONCE(buf->sync_mode));
	size_t done = 0;

	while (done < count) {
		size_t chunk = min_t(size_t, count - done, UDMABUF_COPY_CHUNK);
		u64 offset = *ppos + done;
		void *kaddr = buf->vaddr + offset;
		unsigned long left;

		if (sync && !to_buffer)
			udmabuf_sync_for_cpu(buf, offset, chunk, dir);
		if (to_buffer)
			left = udmabuf_copy_in(kaddr, ubuf + done, chunk);
		else
			left = copy_to_user(ubuf + done, kaddr, chunk);
		if (sync && to_buffer && chunk > left)
			udmabuf_sync_for_device(buf, offset, chunk - left, dir);
		done += chunk - left;
		if (left || fatal_signal_pending(current))
			break;
		cond_resched();
	}
	if (!done)
		return -EFAULT;
	*ppos += done;
	return done;
}

static ssize_t udmabuf_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct udmabuf *buf = file->private_data;

	if (*ppos < 0)
		return -EINVAL;
	if (*ppos >= buf->size || !count)
		return 0;
	count = min_t(u64, count, buf->size - *ppos);
	return udmabuf_copy(file, ubuf, count, ppos, false);
}

static ssize_t udmabuf_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	struct udmabuf *buf = file->private_data;

	if (*ppos < 0)
		return -EINVAL;
	if (!count)
		return 0;
	if (*ppos >= buf->size)
		return -ENOSPC;
	count = min_t(u64, count, buf->size - *ppos);
	return udmabuf_copy(file, (char __user *)ubuf, count, ppos, true);
}

/* The position must stay in [0, size]; SEEK_END gives the size (numpy.memmap). */
static loff_t udmabuf_llseek(struct file *file, loff_t offset, int whence)
{
	struct udmabuf *buf = file->private_data;
	loff_t base, pos;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = file->f_pos;
		break;
	case SEEK_END:
		base = buf->size;
		break;
	default:
		return -EINVAL;
	}
	if (check_add_overflow(base, offset, &pos) || pos < 0 || pos > buf->size)
		return -EINVAL;
	return vfs_setpos(file, pos, buf->size);
}

/*
 * fsync()/msync() write the CPU cache back for the range they ask for (the
 * whole buffer for fsync(), the mapped pages for msync()), so that
 * numpy.memmap.flush() works; the owner does not change.
 */
static int udmabuf_fsync(struct file *file, loff_t start, loff_t end,
			 int datasync)
{
	struct udmabuf *buf = file->private_data;
	u64 last = min_t(u64, end, buf->alloc_size - 1);

	if (start < 0 || start > last)
		return 0;
	udmabuf_sync_for_device(buf, start, last - start + 1, DMA_TO_DEVICE);
	return 0;
}

/* ------------------------------------------------------------------------
 * sysfs: /sys/class/u-dma-buf/<name>/
 */

/* A number in decimal, 0x hex or 0 octal, at most @max. */
static int udmabuf_parse_attr(const char *text, u64 max, u64 *value)
{
	int err = kstrtoull(text, 0, value);

	if (err)
		return err;
	return *value > max ? -EINVAL : 0;
}

static ssize_t driver_version_show(struct device *dev,
				   struct device_attribute *attr, char *out)
{
	return sysfs_emit(out, "%s\n", UDMABUF_VERSION);
}
static DEVICE_ATTR_RO(driver_version);

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);

	return sysfs_emit(out, "%llu\n", buf->size);
}
static DEVICE_ATTR_RO(size);

static ssize_t phys_addr_show(struct device *dev, struct device_attribute *attr,
			      char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	dma_addr_t addr;
	int err = udmabuf_get_dma_addr(buf, &addr);

	return err ?: sysfs_emit(out, "%pad\n", &addr);
}
static DEVICE_ATTR_RO(phys_addr);

static ssize_t sync_mode_show(struct device *dev, struct device_attribute *attr,
			      char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);

	return sysfs_emit(out, "%d\n", READ_ONCE(buf->sync_mode));
}

static ssize_t sync_mode_store(struct device *dev, struct device_attribute *attr,
			       const char *text, size_t count)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 value;
	int err = udmabuf_parse_attr(text, UDMABUF_SYNC_MODE_MAX, &value);

	if (err)
		return err;
	mutex_lock(&buf->lock);
	buf->sync_mode = value;
	mutex_unlock(&buf->lock);
	return count;
}
static DEVICE_ATTR_RW(sync_mode);

static ssize_t sync_offset_show(struct device *dev,
				struct device_attribute *attr, char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 offset;

	mutex_lock(&buf->lock);
	offset = buf->sync_offset;
	mutex_unlock(&buf->lock);
	return sysfs_emit(out, "0x%llx\n", offset);
}

/* Each of offset and size alone must fit; their sum is checked at sync time. */
static ssize_t sync_offset_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *text, size_t count)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 value;
	int err = udmabuf_parse_attr(text, buf->size, &value);

	if (err)
		return err;
	mutex_lock(&buf->lock);
	buf->sync_offset = value;
	mutex_unlock(&buf->lock);
	return count;
}
static DEVICE_ATTR_RW(sync_offset);

static ssize_t sync_size_show(struct device *dev, struct device_attribute *attr,
			      char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 size;

	mutex_lock(&buf->lock);
	size = buf->sync_size;
	mutex_unlock(&buf->lock);
	return sysfs_emit(out, "%llu\n", size);
}

static ssize_t sync_size_store(struct device *dev, struct device_attribute *attr,
			       const char *text, size_t count)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 value;
	int err = udmabuf_parse_attr(text, buf->size, &value);

	if (err)
		return err;
	mutex_lock(&buf->lock);
	buf->sync_size = value;
	mutex_unlock(&buf->lock);
	return count;
}
static DEVICE_ATTR_RW(sync_size);

static ssize_t sync_direction_show(struct device *dev,
				   struct device_attribute *attr, char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);

	return sysfs_emit(out, "%d\n", READ_ONCE(buf->sync_direction));
}

static ssize_t sync_direction_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *text, size_t count)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 value;
	int err = udmabuf_parse_attr(text, UDMABUF_DIR_FROM_DEVICE, &value);

	if (err)
		return err;
	mutex_lock(&buf->lock);
	buf->sync_direction = value;
	mutex_unlock(&buf->lock);
	return count;
}
static DEVICE_ATTR_RW(sync_direction);

static ssize_t sync_owner_show(struct device *dev, struct device_attribute *attr,
			       char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);

	return sysfs_emit(out, "%d\n", READ_ONCE(buf->sync_owner));
}
static DEVICE_ATTR_RO(sync_owner);

/* The sync commands run when written, so the attributes always read 0. */
static ssize_t udmabuf_sync_command_store(struct device *dev, const char *text,
					  size_t count, bool for_device)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 cmd;
	int err = kstrtoull(text, 0, &cmd);

	if (err)
		return err;
	mutex_lock(&buf->lock);
	err = udmabuf_sync_command(buf, for_device, cmd);
	mutex_unlock(&buf->lock);
	return err ? err : count;
}

static ssize_t sync_for_cpu_show(struct device *dev,
				 struct device_attribute *attr, char *out)
{
	return sysfs_emit(out, "0\n");
}

static ssize_t sync_for_cpu_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *text, size_t count)
{
	return udmabuf_sync_command_store(dev, text, count, false);
}
static DEVICE_ATTR_RW(sync_for_cpu);

static ssize_t sync_for_device_show(struct device *dev,
				    struct device_attribute *attr, char *out)
{
	return sysfs_emit(out, "0\n");
}

static ssize_t sync_for_device_store(struct device *dev,
				     struct device_attribute *attr,
				     const char *text, size_t count)
{
	return udmabuf_sync_command_store(dev, text, count, true);
}
static DEVICE_ATTR_RW(sync_for_device);

static ssize_t dma_coherent_show(struct device *dev,
				 struct device_attribute *attr, char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);

	return sysfs_emit(out, "%d\n", udmabuf_dma_coherent(buf));
}
static DEVICE_ATTR_RO(dma_coherent);

static ssize_t quirk_mmap_mode_show(struct device *dev,
				    struct device_attribute *attr, char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);

	return sysfs_emit(out, "%d\n", buf->mmap_mode);
}
static DEVICE_ATTR_RO(quirk_mmap_mode);

static ssize_t ioctl_version_show(struct device *dev,
				  struct device_attribute *attr, char *out)
{
	return sysfs_emit(out, "%d\n", UDMABUF_IOCTL_VERSION);
}
static DEVICE_ATTR_RO(ioctl_version);

static ssize_t debug_vma_show(struct device *dev, struct device_attribute *attr,
			      char *out)
{
	struct udmabuf *buf = dev_get_drvdata(dev);

	return sysfs_emit(out, "%d\n", READ_ONCE(buf->debug_vma));
}

static ssize_t debug_vma_store(struct device *dev, struct device_attribute *attr,
			       const char *text, size_t count)
{
	struct udmabuf *buf = dev_get_drvdata(dev);
	u64 value;
	int err = udmabuf_parse_attr(text, 3, &value);

	if (err)
		return err;
	mutex_lock(&buf->lock);
	WRITE_ONCE(buf->debug_vma, value);
	mutex_unlock(&buf->lock);
	return count;
}
static DEVICE_ATTR_RW(debug_vma);

static struct attribute *udmabuf_attrs[] = {
	&dev_attr_driver_version.attr,
	&dev_attr_size.attr,
	&dev_attr_phys_addr.attr,
	&dev_attr_sync_mode.attr,
	&dev_attr_sync_offset.attr,
	&dev_attr_sync_size.attr,
	&dev_attr_sync_direction.attr,
	&dev_attr_sync_owner.attr,
	&dev_attr_sync_for_cpu.attr,
	&dev_attr_sync_for_device.attr,
	&dev_attr_dma_coherent.attr,
	&dev_attr_quirk_mmap_mode.attr,
	&dev_attr_ioctl_version.attr,
	&dev_attr_debug_vma.attr,
	NULL
};

/*
 * Writable attributes are 0664, so that a udev rule can give a group access;
 * debug_vma, which fills the kernel log, stays root's.
 */
static umode_t udmabuf_attr_is_visible(struct kobject *kobj,
				       struct attribute *attr, int index)
{
	if (attr == &dev_attr_debug_vma.attr || !(attr->mode & 0200))
		return attr->mode;
	return attr->mode | 0020;
}

static const struct attribute_group udmabuf_group = {
	.attrs = udmabuf_attrs,
	.is_visible = udmabuf_attr_is_visible,
};
__ATTRIBUTE_GROUPS(udmabuf);

static struct class udmabuf_class = {
	.name = UDMABUF_DRIVER_NAME,
	.dev_groups = udmabuf_groups,
};

/* ------------------------------------------------------------------------
 * dma-buf export: a page-aligned range of the buffer as a dma-buf
 */

/**
 * struct udmabuf_export - one exported range
 * @view: the buffer (a use is held while the dma-buf lives) and the first
 *	page of the range in it
 * @size: size of the range in bytes, whole pages
 * @uncached: exported with O_SYNC: CPU mappings are uncached
 * @lock: guards @mappings
 * @mappings: the importers' current mappings (struct udmabuf_mapping)
 */
struct udmabuf_export {
	struct udmabuf_view view;
	size_t size;
	bool uncached;
	struct mutex lock;		/* guards mappings */
	struct list_head mappings;
};

/**
 * struct udmabuf_mapping - an importer's mapping of an export
 * @node: on udmabuf_export.mappings
 * @dev: the importer's device
 * @sgt: the table handed to the importer
 * @sync: a copy of @sgt for the CPU-access syncs: the dma-buf core may
 *	scramble the page links of the table it hands out (DMABUF_DEBUG)
 * @dir: the direction it was mapped with
 */
struct udmabuf_mapping {
	struct list_head node;
	struct device *dev;
	struct sg_table *sgt;
	struct sg_table sync;
	enum dma_data_direction dir;
};

static u64 udmabuf_export_offset(struct udmabuf_export *export)
{
	return (u64)export->view.first << PAGE_SHIFT;
}

/* @dst becomes a copy of the mapped table @src, DMA addresses included. */
static int udmabuf_sgt_copy(struct sg_table *dst, struct sg_table *src)
{
	struct scatterlist *d, *s;
	unsigned int i;
	int err = sg_alloc_table(dst, src->orig_nents, GFP_KERNEL);

	if (err)
		return err;
	d = dst->sgl;
	for_each_sgtable_sg(src, s, i) {
		sg_set_page(d, sg_page(s), s->length, s->offset);
		sg_dma_address(d) = sg_dma_address(s);
		sg_dma_len(d) = sg_dma_len(s);
		udmabuf_sg_copy_dma_flags(d, s);
		d = sg_next(d);
	}
	dst->nents = src->nents;
	return 0;
}

/*
 * Length of the scatterlist entry that starts at @pfn: as long as the
 * importer's device takes (its maximum segment size, whole pages, at most
 * 1 GiB: an entry's length is 32-bit), and not across its segment boundary.
 */
static size_t udmabuf_export_seg(struct device *dev, unsigned long pfn,
				 size_t left)
{
	unsigned long boundary = dma_get_seg_boundary(dev);
	size_t seg = min_t(size_t, dma_get_max_seg_size(dev), SZ_1G);

	seg = max_t(size_t, ALIGN_DOWN(seg, PAGE_SIZE), PAGE_SIZE);
	if (boundary != ULONG_MAX) {
		unsigned long room = boundary - (PFN_PHYS(pfn) & boundary) + 1;

		seg = min_t(size_t, seg, max_t(unsigned long, room, PAGE_SIZE));
	}
	return min(left, seg);
}

static struct sg_table *udmabuf_export_table(struct udmabuf_export *export,
					     struct device *dev)
{
	unsigned long first = page_to_pfn(export->view.buf->page) +
			      export->view.first;
	unsigned long pfn = first;
	size_t left = export->size, len;
	unsigned int count = 0;
	struct scatterlist *sg;
	struct sg_table *sgt;

	for (; left; left -= len, pfn += len >> PAGE_SHIFT, count++)
		len = udmabuf_export_seg(dev, pfn, left);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	if (sg_alloc_table(sgt, count, GFP_KERNEL)) {
		kfree(sgt);
		return ERR_PTR(-ENOMEM);
	}
	pfn = first;
	left = export->size;
	for_each_sgtable_sg(sgt, sg, count) {
		len = udmabuf_export_seg(dev, pfn, left);
		sg_set_page(sg, pfn_to_page(pfn), len, 0);
		pfn += len >> PAGE_SHIFT;
		left -= len;
	}
	return sgt;
}

static void udmabuf_export_free_table(struct sg_table *sgt)
{
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * The mapping skips the CPU sync and syncs explicitly instead: the same
 * cache maintenance, and DMA-API debugging then accepts a mapping that
 * overlaps the buffer's own allocation (which 6.1 tracks as a mapping).
 */
static struct sg_table *udmabuf_export_map(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	struct udmabuf_export *export = attach->dmabuf->priv;
	struct udmabuf_mapping *m = kzalloc(sizeof(*m), GFP_KERNEL);
	struct sg_table *sgt;
	int err;

	if (!m)
		return ERR_PTR(-ENOMEM);
	sgt = udmabuf_export_table(export, attach->dev);
	if (IS_ERR(sgt)) {
		kfree(m);
		return sgt;
	}
	err = dma_map_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (err)
		goto err_table;
	err = udmabuf_sgt_copy(&m->sync, sgt);
	if (err)
		goto err_unmap;
	dma_sync_sgtable_for_device(attach->dev, &m->sync, dir);
	m->dev = attach->dev;
	m->sgt = sgt;
	m->dir = dir;
	mutex_lock(&export->lock);
	list_add(&m->node, &export->mappings);
	mutex_unlock(&export->lock);
	return sgt;

err_unmap:
	dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
err_table:
	udmabuf_export_free_table(sgt);
	kfree(m);
	return ERR_PTR(err);
}

static void udmabuf_export_unmap(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct udmabuf_export *export = attach->dmabuf->priv;
	struct udmabuf_mapping *m;

	mutex_lock(&export->lock);
	list_for_each_entry(m, &export->mappings, node)
		if (m->sgt == sgt)
			break;
	list_del(&m->node);
	mutex_unlock(&export->lock);
	dma_sync_sgtable_for_cpu(attach->dev, &m->sync, dir);
	sg_free_table(&m->sync);
	kfree(m);
	dma_unmap_sgtable(attach->dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
	udmabuf_export_free_table(sgt);
}

/*
 * DMA_BUF_IOCTL_SYNC START/END: cache maintenance of the range through the
 * buffer's own device, so it happens even when no importer is attached, and
 * of every importer's current mapping, which may be non-coherent where the
 * buffer is coherent, or bounce.  An importer's mapping is synced in the
 * direction it was mapped with (the DMA API allows no other).
 */
static int udmabuf_export_begin_cpu(struct dma_buf *dmabuf,
				    enum dma_data_direction dir)
{
	struct udmabuf_export *export = dmabuf->priv;
	struct udmabuf_mapping *m;

	mutex_lock(&export->lock);
	list_for_each_entry(m, &export->mappings, node)
		dma_sync_sgtable_for_cpu(m->dev, &m->sync, m->dir);
	mutex_unlock(&export->lock);
	udmabuf_sync_for_cpu(export->view.buf, udmabuf_export_offset(export),
			     export->size, dir);
	return 0;
}

static int udmabuf_export_end_cpu(struct dma_buf *dmabuf,
				  enum dma_data_direction dir)
{
	struct udmabuf_export *export = dmabuf->priv;
	struct udmabuf_mapping *m;

	udmabuf_sync_for_device(export->view.buf,
				udmabuf_export_offset(export), export->size,
				dir);
	mutex_lock(&export->lock);
	list_for_each_entry(m, &export->mappings, node)
		dma_sync_sgtable_for_device(m->dev, &m->sync, m->dir);
	mutex_unlock(&export->lock);
	return 0;
}

static int udmabuf_export_mmap(struct dma_buf *dmabuf,
			       struct vm_area_struct *vma)
{
	struct udmabuf_export *export = dmabuf->priv;

	return udmabuf_map(&export->view, vma,
			   udmabuf_arch_flavour(export->uncached ?
						UDMABUF_SYNC_NONCACHED : 0));
}

static int udmabuf_export_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct udmabuf_export *export = dmabuf->priv;

	iosys_map_set_vaddr(map, export->view.buf->vaddr +
			    udmabuf_export_offset(export));
	return 0;
}

static void udmabuf_export_free(struct udmabuf_export *export)
{
	udmabuf_put(export->view.buf);
	mutex_destroy(&export->lock);
	kfree(export);
}

static void udmabuf_export_release(struct dma_buf *dmabuf)
{
	udmabuf_export_free(dmabuf->priv);
}

static const struct dma_buf_ops udmabuf_export_ops = {
	.map_dma_buf = udmabuf_export_map,
	.unmap_dma_buf = udmabuf_export_unmap,
	.begin_cpu_access = udmabuf_export_begin_cpu,
	.end_cpu_access = udmabuf_export_end_cpu,
	.mmap = udmabuf_export_mmap,
	.vmap = udmabuf_export_vmap,
	.release = udmabuf_export_release,
};

#define UDMABUF_EXPORT_FD_FLAGS	(O_CLOEXEC | O_ACCMODE | O_SYNC)

/* The dma-buf gives no access that the fd it is made from does not have. */
static int udmabuf_check_export_access(struct udmabuf *buf, struct file *file,
				       u64 flags)
{
	u64 mode = flags & O_ACCMODE;

	if (mode != O_WRONLY && !(file->f_mode & FMODE_READ)) {
		udmabuf_user_err(buf, "export: a readable dma-buf from an fd not opened for reading\n");
		return -EACCES;
	}
	if (mode != O_RDONLY && !(file->f_mode & FMODE_WRITE)) {
		udmabuf_user_err(buf, "export: a writable dma-buf from an fd not opened for writing\n");
		return -EACCES;
	}
	return 0;
}

static int udmabuf_check_export(struct udmabuf *buf, struct file *file,
				const struct u_dma_buf_ioctl_export_args *args)
{
	u64 size = args->size ?: buf->alloc_size - min_t(u64, args->offset,
							 buf->alloc_size);

	if ((args->flags & ~(u64)UDMABUF_EXPORT_FD_FLAGS) ||
	    (args->flags & O_ACCMODE) == O_ACCMODE ||
	    ((args->flags & O_SYNC) && (args->flags & O_SYNC) != O_SYNC)) {
		udmabuf_user_err(buf, "export: flags 0x%llx: only O_CLOEXEC, an access mode and O_SYNC (whole) are allowed\n",
				 args->flags);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(args->offset) || !PAGE_ALIGNED(args->size) ||
	    args->offset >= buf->alloc_size ||
	    size > buf->alloc_size - args->offset) {
		udmabuf_user_err(buf, "export: offset %llu size %llu must be page-aligned and inside the buffer\n",
				 args->offset, args->size);
		return -EINVAL;
	}
	if (!buf->page) {
		udmabuf_user_err(buf, "export: %s, whose memory has no pages to export\n",
				 buf->phys_mem ? "it is memory outside RAM" :
				 "its memory-region is a no-map pool");
		return -EINVAL;
	}
	return udmabuf_check_export_access(buf, file, args->flags);
}

/*
 * The fd is installed only after the result reached user space, so a bad
 * pointer leaves no dma-buf behind.
 */
static int udmabuf_ioctl_export(struct file *file, void __user *uarg,
				size_t len)
{
	struct udmabuf *buf = file->private_data;
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct u_dma_buf_ioctl_export_args args = { };
	struct udmabuf_export *export;
	struct dma_buf *dmabuf;
	dma_addr_t addr;
	int err, fd;

	if (copy_from_user(&args, uarg, len))
		return -EFAULT;
	err = udmabuf_check_export(buf, file, &args);
	if (err)
		return err;
	err = udmabuf_get_dma_addr(buf, &addr);
	if (err)
		return err;
	export = kzalloc(sizeof(*export), GFP_KERNEL);
	if (!export)
		return -ENOMEM;
	udmabuf_get(buf);
	export->view.buf = buf;
	export->view.first = args.offset >> PAGE_SHIFT;
	export->size = args.size ?: buf->alloc_size - args.offset;
	export->uncached = args.flags & O_SYNC;
	mutex_init(&export->lock);
	INIT_LIST_HEAD(&export->mappings);

	info.exp_name = dev_name(&buf->dev);
	info.ops = &udmabuf_export_ops;
	info.size = export->size;
	info.flags = args.flags & O_ACCMODE;
	info.priv = export;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		udmabuf_export_free(export);
		return PTR_ERR(dmabuf);
	}
	fd = get_unused_fd_flags(args.flags & O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(dmabuf);
		return fd;
	}
	args.addr = addr + udmabuf_export_offset(export);
	args.fd = fd;
	if (copy_to_user(uarg, &args, len)) {
		put_unused_fd(fd);
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;
}

/* ------------------------------------------------------------------------
 * ioctl
 */

/* i386 programs built against the old header send a 36-byte EXPORT. */
#define UDMABUF_IOCTL_EXPORT_I386 \
	_IOC(_IOC_READ | _IOC_WRITE, U_DMA_BUF_IOCTL_MAGIC, 10, 36)

static int udmabuf_ioctl_drv_info(void __user *uarg)
{
	struct u_dma_buf_ioctl_drv_info info = { };

	SET_U_DMA_BUF_IOCTL_FLAGS_IOCTL_VERSION(&info, UDMABUF_IOCTL_VERSION);
	SET_U_DMA_BUF_IOCTL_FLAGS_IN_KERNEL_FUNCTIONS(&info, 1);
	SET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_DMA_CONFIG(&info, IS_ENABLED(CONFIG_OF));
	SET_U_DMA_BUF_IOCTL_FLAGS_USE_OF_RESERVED_MEM(&info,
						      IS_ENABLED(CONFIG_OF_RESERVED_MEM));
	SET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP(&info, 1);
	SET_U_DMA_BUF_IOCTL_FLAGS_USE_QUIRK_MMAP_PAGE(&info, 1);
	strscpy(info.version, UDMABUF_VERSION, sizeof(info.version));
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static int udmabuf_ioctl_dev_info(struct udmabuf *buf, void __user *uarg)
{
	struct u_dma_buf_ioctl_dev_info info = { .size = buf->size };
	dma_addr_t addr;
	int err = udmabuf_get_dma_addr(buf, &addr);

	if (err)
		return err;
	info.addr = addr;

	SET_U_DMA_BUF_IOCTL_FLAGS_DMA_MASK(&info, fls64(dma_get_mask(buf->dma_dev)));
	SET_U_DMA_BUF_IOCTL_FLAGS_DMA_COHERENT(&info,
					       udmabuf_dma_coherent(buf));
	SET_U_DMA_BUF_IOCTL_FLAGS_MMAP_MODE(&info, buf->mmap_mode);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static int udmabuf_ioctl_get_sync(struct udmabuf *buf, void __user *uarg)
{
	struct u_dma_buf_ioctl_sync_args args = { };

	mutex_lock(&buf->lock);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&args, buf->sync_direction);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&args, buf->sync_mode);
	SET_U_DMA_BUF_IOCTL_FLAGS_SYNC_OWNER(&args, buf->sync_owner);
	args.size = buf->sync_size;
	args.offset = buf->sync_offset;
	mutex_unlock(&buf->lock);
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

/*
 * SET_SYNC: everything is validated before anything is stored; the stored
 * values persist, then the command runs on them.  The owner bit and
 * unknown bits are ignored.
 */
static int udmabuf_ioctl_set_sync(struct udmabuf *buf, void __user *uarg)
{
	struct u_dma_buf_ioctl_sync_args args;
	int cmd, dir, mode, err = 0;
	u64 size;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	cmd = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD(&args);
	dir = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR(&args);
	mode = GET_U_DMA_BUF_IOCTL_FLAGS_SYNC_MODE(&args);

	mutex_lock(&buf->lock);
	size = args.size ?: buf->sync_size;
	if (mode > UDMABUF_SYNC_MODE_MAX) {
		udmabuf_user_err(buf, "SET_SYNC: sync_mode %d is not 0..7\n", mode);
		err = -EINVAL;
	} else if (args.offset > buf->size || size > buf->size - args.offset) {
		udmabuf_user_err(buf, "SET_SYNC: offset %llu size %llu is outside the buffer (size %llu)\n",
				 args.offset, size, buf->size);
		err = -EINVAL;
	} else {
		if (dir != U_DMA_BUF_IOCTL_FLAGS_SYNC_DIR_UNCHANGED)
			buf->sync_direction = dir;
		if (mode)
			buf->sync_mode = mode;
		buf->sync_offset = args.offset;
		buf->sync_size = size;
		if (cmd == U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_CPU ||
		    cmd == U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_DEVICE)
			err = udmabuf_sync_command(buf, cmd ==
						   U_DMA_BUF_IOCTL_FLAGS_SYNC_CMD_FOR_DEVICE,
						   1);
	}
	mutex_unlock(&buf->lock);
	return err;
}

static int udmabuf_ioctl_sync_command(struct udmabuf *buf, void __user *uarg,
				      bool for_device)
{
	u64 cmd;
	int err;

	if (copy_from_user(&cmd, uarg, sizeof(cmd)))
		return -EFAULT;
	mutex_lock(&buf->lock);
	err = udmabuf_sync_command(buf, for_device, cmd);
	mutex_unlock(&buf->lock);
	return err;
}

static long udmabuf_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct udmabuf *buf = file->private_data;
	void __user *uarg = (void __user *)arg;
	dma_addr_t addr;
	u64 value;
	int err;

	switch (cmd) {
	case U_DMA_BUF_IOCTL_GET_DRV_INFO:
		return udmabuf_ioctl_drv_info(uarg);
	case U_DMA_BUF_IOCTL_GET_SIZE:
		value = buf->size;
		return copy_to_user(uarg, &value, sizeof(value)) ? -EFAULT : 0;
	case U_DMA_BUF_IOCTL_GET_DMA_ADDR:
		err = udmabuf_get_dma_addr(buf, &addr);
		value = addr;
		if (err)
			return err;
		return copy_to_user(uarg, &value, sizeof(value)) ? -EFAULT : 0;
	case U_DMA_BUF_IOCTL_GET_SYNC_OWNER:
		return put_user((u32)READ_ONCE(buf->sync_owner), (u32 __user *)uarg);
	case U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU:
		return udmabuf_ioctl_sync_command(buf, uarg, false);
	case U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE:
		return udmabuf_ioctl_sync_command(buf, uarg, true);
	case U_DMA_BUF_IOCTL_GET_DEV_INFO:
		return udmabuf_ioctl_dev_info(buf, uarg);
	case U_DMA_BUF_IOCTL_GET_SYNC:
		return udmabuf_ioctl_get_sync(buf, uarg);
	case U_DMA_BUF_IOCTL_SET_SYNC:
		/* It changes state that every user of the buffer shares. */
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return udmabuf_ioctl_set_sync(buf, uarg);
	case U_DMA_BUF_IOCTL_EXPORT:
	case UDMABUF_IOCTL_EXPORT_I386:
		return udmabuf_ioctl_export(file, uarg, _IOC_SIZE(cmd));
	}
	return -ENOTTY;
}

static const struct file_operations udmabuf_fops = {
	.owner = THIS_MODULE,
	.open = udmabuf_open,
	.release = udmabuf_file_release,
	.read = udmabuf_read,
	.write = udmabuf_write,
	.llseek = udmabuf_llseek,
	.mmap = udmabuf_mmap,
	.fsync = udmabuf_fsync,
	.unlocked_ioctl = udmabuf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* ------------------------------------------------------------------------
 * Creation and removal: the one path of every buffer
 */

/**
 * struct udmabuf_request - what a creator asks for
 * @name: buffer name, or NULL for "udmabuf<minor>"
 * @minor: minor number, or -1 for the first free one
 * @minor_reserved: @minor was reserved at module load (parameter buffers)
 * @size: size in bytes
 * @mmap_mode: UDMABUF_MMAP_*
 * @parent: parent of the class device
 * @dma_parent: a device whose DMA configuration the buffer uses as it is
 *	(a bound buffer), or NULL for a buffer with its own
 * @pdev: the platform device whose probe creates the buffer, or NULL
 * @of_node: device-tree node whose DMA configuration (dma-ranges,
 *	dma-coherent) and memory-region the buffer takes, or NULL
 * @dma_mask_bits: DMA mask width, 0 for what @of_node or the default give
 * @sync_mode: initial sync state
 * @sync_offset: initial sync state
 * @sync_size: initial sync state
 * @sync_direction: initial sync state
 * @creator: the module that asks holds a use until its in-kernel remove
 * @has_phys: the buffer is memory outside RAM at @phys, of @size (§14)
 * @phys: see @has_phys
 * @mmap_mode_asked: @mmap_mode was asked for, not the quirk_mmap_mode default
 */
struct udmabuf_request {
	const char *name;
	int minor;
	bool minor_reserved;
	u64 size;
	int mmap_mode;
	struct device *parent;
	struct device *dma_parent;
	struct platform_device *pdev;
	struct device_node *of_node;
	int dma_mask_bits;
	int sync_mode;
	u64 sync_offset;
	u64 sync_size;
	int sync_direction;
	bool creator;
	bool has_phys;
	u64 phys;
	bool mmap_mode_asked;
};

static void udmabuf_request_init(struct udmabuf_request *req, u64 size)
{
	*req = (struct udmabuf_request) {
		.minor = -1,
		.size = size,
		.mmap_mode = quirk_mmap_mode,
		.sync_mode = UDMABUF_SYNC_NONCACHED,
		.sync_size = size,
		.sync_direction = UDMABUF_DIR_BIDIRECTIONAL,
	};
}

static const char *udmabuf_iommu_domain_name(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (!domain)
		return "NONE";
	switch (domain->type) {
	case IOMMU_DOMAIN_BLOCKED:
		return "BLOCKED";
	case IOMMU_DOMAIN_IDENTITY:
		return "IDENTITY";
	case IOMMU_DOMAIN_UNMANAGED:
		return "UNMANAGED";
	case IOMMU_DOMAIN_DMA:
	case IOMMU_DOMAIN_DMA_FQ:
		return "DMA";
	}
	return "UNKNOWN";
}

static void udmabuf_log_info(struct udmabuf *buf)
{
	struct device *dev = &buf->dev;
	struct device *dma_dev = buf->dma_dev;

	if (!info_enable)
		return;
	dev_info(dev, "%-14s = %s\n", "driver version", UDMABUF_VERSION);
	dev_info(dev, "%-14s = %d\n", "major number", MAJOR(udmabuf_devt));
	dev_info(dev, "%-14s = %d\n", "minor number", buf->minor);
	dev_info(dev, "%-14s = %pad\n", "phys address", &buf->dma_addr);
	dev_info(dev, "%-14s = %zu\n", "buffer size", buf->alloc_size);
	if (!(info_enable & UDMABUF_INFO_DMA))
		return;
	dev_info(dev, "%-14s = %s\n", "dma device", dev_name(dma_dev));
	dev_info(dev, "%-14s = %s\n", "dma bus",
		 dma_dev->bus ? dma_dev->bus->name :
		 dma_dev->class ? dma_dev->class->name : "");
	dev_info(dev, "%-14s = %d\n", "dma coherent",
		 udmabuf_dma_coherent(buf));
	dev_info(dev, "%-14s = 0x%016llx\n", "dma mask", dma_get_mask(dma_dev));
	dev_info(dev, "%-14s = %s\n", "iommu domain",
		 udmabuf_iommu_domain_name(dma_dev));
	dev_info(dev, "%-14s = %d\n", "mmap mode", buf->mmap_mode);
}

/* A published buffer by name and/or minor; NULL or -1: any. */
static struct udmabuf *udmabuf_find(const char *name, int minor)
{
	struct udmabuf *buf;
	int id;

	lockdep_assert_held(&udmabuf_minors_lock);
	idr_for_each_entry(&udmabuf_minors, buf, id)
		if (buf->published &&
		    (!name || !strcmp(dev_name(&buf->dev), name)) &&
		    (minor < 0 || minor == id))
			return buf;
	return NULL;
}

/* The published buffer whose device is @dev; @dev is compared, never used. */
static struct udmabuf *udmabuf_find_by_device(struct device *dev)
{
	struct udmabuf *buf;
	int id;

	lockdep_assert_held(&udmabuf_minors_lock);
	idr_for_each_entry(&udmabuf_minors, buf, id)
		if (buf->published && &buf->dev == dev)
			return buf;
	return NULL;
}

/*
 * Is the name of @self taken by another buffer?  Unpublished ones count:
 * their device keeps the name until it is deleted.
 */
static bool udmabuf_name_taken(struct udmabuf *self)
{
	struct udmabuf *buf;
	int id;

	lockdep_assert_held(&udmabuf_minors_lock);
	idr_for_each_entry(&udmabuf_minors, buf, id)
		if (buf != self && !strcmp(dev_name(&buf->dev), dev_name(&self->dev)))
			return true;
	return false;
}

/*
 * Give @buf its minor: the requested one (a reservation made at load counts
 * as free for the parameter buffer it was made for) or the first free one.
 */
static int udmabuf_claim_minor(struct udmabuf *buf,
			       const struct udmabuf_request *req)
{
	int minor;

	lockdep_assert_held(&udmabuf_minors_lock);
	if (req->minor < 0) {
		minor = idr_alloc(&udmabuf_minors, buf, 0, UDMABUF_MAX_MINORS,
				  GFP_KERNEL);
		if (minor == -ENOSPC)
			pr_err("u-dma-buf %s: all %d minor numbers are in use\n",
			       req->name ?: "udmabuf<minor>", UDMABUF_MAX_MINORS);
	} else {
		minor = idr_alloc(&udmabuf_minors, buf, req->minor,
				  req->minor + 1, GFP_KERNEL);
		if (minor == -ENOSPC && req->minor_reserved &&
		    !idr_find(&udmabuf_minors, req->minor)) {
			idr_replace(&udmabuf_minors, buf, req->minor);
			minor = req->minor;
		}
		if (minor == -ENOSPC) {
			pr_err("u-dma-buf %s: minor number %d is already in use\n",
			       req->name, req->minor);
			return -EBUSY;
		}
	}
	if (minor < 0)
		return minor;
	buf->minor = minor;
	return 0;
}

/* A range of memory outside RAM that a buffer can be made of (§14). */
static int udmabuf_check_phys(const struct udmabuf_request *req,
			      const char *name)
{
	phys_addr_t start = req->phys, last = req->phys + req->size - 1;

	if (start != req->phys || last < start ||
	    last != req->phys + req->size - 1 || last > iomem_resource.end) {
		pr_err("u-dma-buf %s: memory at %#llx of %llu bytes lies beyond the physical address space\n",
		       name, req->phys, req->size);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(req->phys) || !PAGE_ALIGNED(req->size)) {
		pr_err("u-dma-buf %s: [mem %pa-%pa] is not page-aligned: its address and size must be multiples of %lu\n",
		       name, &start, &last, PAGE_SIZE);
		return -EINVAL;
	}
	if (req->dma_parent) {
		pr_err("u-dma-buf %s: [mem %pa-%pa]: memory outside RAM cannot be bound to a device\n",
		       name, &start, &last);
		return -EINVAL;
	}
	if (req->mmap_mode == UDMABUF_MMAP_PAGE && req->mmap_mode_asked) {
		pr_err("u-dma-buf %s: [mem %pa-%pa]: memory outside RAM has no pages for mmap mode page\n",
		       name, &start, &last);
		return -EINVAL;
	}
	if (udmabuf_phys_in_ram(start, req->size)) {
		pr_err("u-dma-buf %s: [mem %pa-%pa] overlaps System RAM, which Linux manages: give a size (and a memory-region) for a buffer in RAM\n",
		       name, &start, &last);
		return -EINVAL;
	}
	return 0;
}

/* Checks that need no lock: everything a creator can get wrong by itself. */
static int udmabuf_check_request(const struct udmabuf_request *req)
{
	const char *name = req->name ?: "udmabuf<minor>";

	if (req->name && (!*req->name || strchr(req->name, '/'))) {
		pr_err("u-dma-buf: invalid buffer name \"%s\": it must be non-empty and contain no '/'\n",
		       req->name);
		return -EINVAL;
	}
	if (req->size == 0 || req->size > SIZE_MAX - PAGE_SIZE) {
		pr_err("u-dma-buf %s: invalid size %llu: it must be 1..%zu\n",
		       name, req->size, (size_t)(SIZE_MAX - PAGE_SIZE));
		return -EINVAL;
	}
	if (req->minor >= UDMABUF_MAX_MINORS) {
		pr_err("u-dma-buf %s: invalid minor number %d: it must be 0..%d\n",
		       name, req->minor, UDMABUF_MAX_MINORS - 1);
		return -EINVAL;
	}
	if (req->mmap_mode < UDMABUF_MMAP_OFF ||
	    req->mmap_mode > UDMABUF_MMAP_PAGE) {
		pr_err("u-dma-buf %s: invalid mmap mode %d: it must be 1..4\n",
		       name, req->mmap_mode);
		return -EINVAL;
	}
	if (req->dma_mask_bits && (req->dma_mask_bits < UDMABUF_DMA_MASK_MIN ||
				   req->dma_mask_bits > UDMABUF_DMA_MASK_MAX)) {
		pr_err("u-dma-buf %s: invalid DMA mask width %d: it must be %d..%d\n",
		       name, req->dma_mask_bits, UDMABUF_DMA_MASK_MIN,
		       UDMABUF_DMA_MASK_MAX);
		return -EINVAL;
	}
	return req->has_phys ? udmabuf_check_phys(req, name) : 0;
}

/*
 * memory-region: a "reusable" shared-dma-pool becomes the buffer's CMA area,
 * which dma_alloc_pages() uses.  A "no-map" one becomes the device's
 * coherent pool, which only dma_alloc_coherent() looks at: the buffer is
 * allocated from it as coherent memory and never cache-synced, and its
 * memory has no pages.  Any other would be silently ignored by
 * dma_alloc_pages(), so the buffer never lies outside its region.
 */
static int udmabuf_assign_reserved_memory(struct udmabuf *buf,
					  struct device_node *np)
{
	struct device_node *region = of_parse_phandle(np, "memory-region", 0);
	int err;

	if (!region)
		return 0;
	buf->rmem_no_map = of_property_read_bool(region, "no-map");
	/*
	 * The kernel makes a coherent pool of such a region with memremap(),
	 * which refuses (with a WARNING) memory in the linear map.
	 */
	if (!buf->rmem_no_map && !of_property_read_bool(region, "reusable")) {
		dev_err(&buf->dev, "cannot use memory-region %pOF: a shared-dma-pool that is neither reusable nor no-map cannot be a coherent pool of memory in the kernel's linear map; mark it reusable (CMA) or no-map\n",
			region);
		of_node_put(region);
		return -EINVAL;
	}
	err = of_reserved_mem_device_init_by_idx(&buf->dev, np, 0);
	if (err) {
		dev_err(&buf->dev, "cannot use memory-region %pOF: %d; it must be a shared-dma-pool, reusable (CMA) or no-map, aligned and large enough\n",
			region, err);
		of_node_put(region);
		return err;
	}
	buf->rmem = region;
	return 0;
}

/*
 * The buffer's own device gets the DMA configuration: from the device-tree
 * node if there is one, then the requested mask.  It lives as long as the
 * memory, so freeing works after the node is unbound, and a re-bound node
 * gets a device (and reserved-memory assignment) of its own.  A bound buffer
 * does its DMA through its parent as the kernel set the parent up; its own
 * device only takes the parent's mask, for the memory it allocates.
 */
static int udmabuf_setup_dma(struct udmabuf *buf,
			     const struct udmabuf_request *req)
{
	struct device *dev = &buf->dev;
	struct device *parent = req->dma_parent;
	int err;

	dev->coherent_dma_mask = DMA_BIT_MASK(32);
	dev->dma_mask = &dev->coherent_dma_mask;
	if (parent) {
		/* Read by a parent's notifier, which may run meanwhile. */
		WRITE_ONCE(buf->dma_dev, get_device(parent));
		dev->coherent_dma_mask = dma_get_mask(parent);
		if (parent->coherent_dma_mask)
			dev->coherent_dma_mask = min(dev->coherent_dma_mask,
						     parent->coherent_dma_mask);
		return 0;
	}
	buf->dma_dev = dev;
	if (req->of_node) {
		err = of_dma_configure(dev, req->of_node, true);
		if (err) {
			dev_err(dev, "cannot take the DMA configuration of %pOF: %d\n",
				req->of_node, err);
			return err;
		}
		err = udmabuf_assign_reserved_memory(buf, req->of_node);
		if (err)
			return err;
	}
	if (!req->dma_mask_bits)
		return 0;
	/* The platform cannot reach memory with so few address bits. */
	if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(req->dma_mask_bits))) {
		dev_err(dev, "no memory is reachable with a %d-bit DMA mask on this platform; use a wider mask\n",
			req->dma_mask_bits);
		return -ENOMEM;
	}
	return 0;
}

static LIST_HEAD(udmabuf_creators);	/* guarded by udmabuf_minors_lock */

/*
 * Take a minor and the name (the requested one, or "udmabuf<minor>"); the
 * buffer is in the minor table but not published, so nothing finds it yet.
 */
static int udmabuf_reserve(struct udmabuf *buf,
			   const struct udmabuf_request *req)
{
	int err;

	mutex_lock(&udmabuf_minors_lock);
	err = udmabuf_claim_minor(buf, req);
	if (err)
		goto out;
	if (!req->name)
		err = dev_set_name(&buf->dev, "udmabuf%d", buf->minor);
	if (!err && udmabuf_name_taken(buf)) {
		pr_err("u-dma-buf %s: a buffer with this name already exists\n",
		       dev_name(&buf->dev));
		err = -EEXIST;
	}
	if (err)
		idr_remove(&udmabuf_minors, buf->minor);
out:
	mutex_unlock(&udmabuf_minors_lock);
	return err;
}

/*
 * Make the allocated buffer visible: map it for its parent (unless that has
 * gone meanwhile), add the device (node and sysfs), publish it.
 */
static int udmabuf_publish(struct udmabuf *buf,
			   const struct udmabuf_request *req)
{
	int err = 0;

	lockdep_assert_held(&udmabuf_minors_lock);
	if (buf->dma_dev != &buf->dev)
		err = udmabuf_map_for_parent(buf);
	if (err)
		return err;
	buf->dev.devt = MKDEV(MAJOR(udmabuf_devt), buf->minor);
	err = device_add(&buf->dev);
	/* Its parent's sysfs directory is gone: the parent is being removed. */
	if (err == -ENOENT && buf->dma_dev != &buf->dev) {
		dev_err(&buf->dev, "%s went away while the buffer was made\n",
			dev_name(buf->dma_dev));
		err = -ENODEV;
	} else if (err) {
		dev_err(&buf->dev, "cannot add the device: %d\n", err);
	}
	if (err) {
		udmabuf_unmap_for_parent(buf, false);
		return err;
	}
	buf->published = true;
	if (req->creator) {
		udmabuf_get(buf);
		list_add_tail(&buf->creator_node, &udmabuf_creators);
	}
	return 0;
}

/**
 * udmabuf_create() - allocate a buffer and make it visible
 * @req: what to create
 *
 * The buffer holds the registration's use (dropped by udmabuf_destroy()),
 * and the creator's use if @req asks for one.  The caller gets a reference
 * to its device, which keeps @buf readable (never its memory) until the
 * caller puts it.  The memory is allocated without udmabuf_minors_lock: a
 * slow allocation stalls no open() and no other creation.
 *
 * Return: the buffer or an ERR_PTR.
 */
static struct udmabuf *udmabuf_create(const struct udmabuf_request *req)
{
	struct udmabuf *buf;
	int err = udmabuf_check_request(req);

	if (err)
		return ERR_PTR(err);
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	kref_init(&buf->uses);
	mutex_init(&buf->lock);
	buf->view.buf = buf;
	INIT_LIST_HEAD(&buf->creator_node);
	buf->pdev = req->pdev;
	device_initialize(&buf->dev);
	buf->dev.class = &udmabuf_class;
	buf->dev.parent = req->parent;
	buf->dev.release = udmabuf_dev_release;
	dev_set_drvdata(&buf->dev, buf);
	buf->size = req->size;
	buf->alloc_size = PAGE_ALIGN(req->size);
	buf->mmap_mode = req->mmap_mode;
	buf->sync_mode = req->sync_mode;
	buf->sync_offset = req->sync_offset;
	buf->sync_size = req->sync_size;
	buf->sync_direction = req->sync_direction;
	buf->sync_owner = UDMABUF_OWNER_CPU;
	if (req->name)
		err = dev_set_name(&buf->dev, "%s", req->name);
	if (!err)
		err = udmabuf_reserve(buf, req);
	if (err)
		goto err_put;
	err = udmabuf_setup_dma(buf, req);
	/*
	 * "auto" means "off" on a DMA-coherent device; there both allocators
	 * give the same cacheable memory, and the pages can also be mapped as
	 * ordinary pages, so only an explicit "off" (and a no-map pool, which
	 * only dma_alloc_coherent() uses) takes coherent memory.
	 */
	buf->phys_mem = req->has_phys;
	buf->phys = req->phys;
	/* The default mode page means nothing for memory without pages. */
	if (buf->phys_mem && buf->mmap_mode == UDMABUF_MMAP_PAGE)
		buf->mmap_mode = UDMABUF_MMAP_AUTO;
	buf->coherent_alloc = !buf->phys_mem &&
			      (buf->rmem_no_map ||
			       req->mmap_mode == UDMABUF_MMAP_OFF);
	if (!err)
		err = udmabuf_alloc_memory(buf);
	mutex_lock(&udmabuf_minors_lock);
	if (!err)
		err = udmabuf_publish(buf, req);
	if (err)
		idr_remove(&udmabuf_minors, buf->minor);
	else
		/* The caller's reference: a concurrent delete cannot free @buf under it. */
		get_device(&buf->dev);
	mutex_unlock(&udmabuf_minors_lock);
	if (err)
		goto err_put;
	udmabuf_log_info(buf);
	return buf;

err_put:
	udmabuf_put(buf);
	return ERR_PTR(err);
}

/*
 * Unpublish the buffer (it may have been already, by its remover): remove the
 * device node, undo the parent's mapping and give back the minor and the
 * name at once, then drop the registration's use; the memory goes with the
 * last use.
 */
static void udmabuf_destroy(struct udmabuf *buf)
{
	mutex_lock(&udmabuf_minors_lock);
	buf->published = false;
	/* Its parent's removal may have deleted it: udmabuf_parent_gone(). */
	if (device_is_registered(&buf->dev))
		device_del(&buf->dev);
	udmabuf_unmap_for_parent(buf, false);
	idr_remove(&udmabuf_minors, buf->minor);
	mutex_unlock(&udmabuf_minors_lock);
	udmabuf_put(buf);
}

/* ------------------------------------------------------------------------
 * Platform driver: device-tree nodes and the buffers the module makes
 */

/**
 * struct udmabuf_pdata - platform data of the module's own platform devices
 * @name: buffer name, or "" for "udmabuf<minor>" (or the device's name)
 * @minor: minor number, or -1 for the first free one
 * @minor_reserved: the minor was reserved at load (parameter buffers)
 * @size: size in bytes
 * @dma_mask_bits: DMA mask width
 * @mmap_mode: UDMABUF_MMAP_*, 0 for the quirk_mmap_mode parameter
 * @creator: the maker is a module that holds a use (in-kernel create)
 * @has_phys: the buffer is memory outside RAM at @phys (§14)
 * @phys: see @has_phys
 * @maker_waiting: the maker waits for the first probe's result; that probe
 *	clears it and reports, a later one (a sysfs bind) reports to nobody
 * @probe_err: the first probe's result
 * @buf: the buffer the first probe made, with a device reference for the
 *	maker
 *
 * "u-dma-buf.N" for parameter N, "u-dma-buf.N.auto" for the manager and
 * the in-kernel API.  The buffer is described here, not by software-node
 * properties: fewer allocations, each of which can fail, and no software
 * node whose failed registration 6.1 cannot undo.
 */
struct udmabuf_pdata {
	char name[UDMABUF_NAME_MAX];
	int minor;
	bool minor_reserved;
	u64 size;
	int dma_mask_bits;
	int mmap_mode;
	bool creator;
	bool has_phys;
	u64 phys;
	bool maker_waiting;
	int probe_err;
	struct udmabuf *buf;
};

/* A u32, or a u64 written as two cells. */
static int udmabuf_read_u64_property(struct device *dev, const char *prop,
				     u64 *value)
{
	u32 value32;

	if (!device_property_read_u64(dev, prop, value))
		return 0;
	if (device_property_read_u32(dev, prop, &value32))
		return -EINVAL;
	*value = value32;
	return 0;
}

static int udmabuf_property_error(struct device *dev, const char *prop,
				  u64 value, const char *why)
{
	dev_err(dev, "invalid property %s = %llu: %s\n", prop, value, why);
	return -EINVAL;
}

static int udmabuf_property_nan(struct device *dev, const char *prop)
{
	dev_err(dev, "invalid property %s: not a number (one or two cells)\n",
		prop);
	return -EINVAL;
}

static int udmabuf_read_sync_properties(struct device *dev,
					struct udmabuf_request *req)
{
	u32 value;
	u64 value64;

	if (!device_property_read_u32(dev, "sync-mode", &value)) {
		if (value < UDMABUF_SYNC_NONCACHED ||
		    value > UDMABUF_SYNC_DMACOHERENT)
			return udmabuf_property_error(dev, "sync-mode", value,
						      "it must be 1..3");
		req->sync_mode = value;
	}
	if (device_property_read_bool(dev, "sync-always"))
		req->sync_mode |= UDMABUF_SYNC_ALWAYS;
	if (!device_property_read_u32(dev, "sync-direction", &value)) {
		if (value > UDMABUF_DIR_FROM_DEVICE)
			return udmabuf_property_error(dev, "sync-direction",
						      value, "it must be 0..2");
		req->sync_direction = value;
	}
	if (device_property_present(dev, "sync-offset")) {
		if (udmabuf_read_u64_property(dev, "sync-offset", &value64))
			return udmabuf_property_nan(dev, "sync-offset");
		if (value64 >= req->size)
			return udmabuf_property_error(dev, "sync-offset", value64,
						      "it must be less than size");
		req->sync_offset = value64;
	}
	req->sync_size = req->size - req->sync_offset;
	if (device_property_present(dev, "sync-size")) {
		if (udmabuf_read_u64_property(dev, "sync-size", &value64))
			return udmabuf_property_nan(dev, "sync-size");
		if (value64 > req->size - req->sync_offset)
			return udmabuf_property_error(dev, "sync-size", value64,
						      "sync-offset + sync-size must not exceed size");
		req->sync_size = value64;
	}
	return 0;
}

/*
 * A node with "reg" and no "size" is memory outside RAM (§14): one range,
 * translated to a CPU address (as u64: a 32-bit resource would truncate it).
 */
static int udmabuf_read_reg(struct device *dev, struct udmabuf_request *req)
{
	struct device_node *np = dev->of_node;
	const __be32 *cells;
	u64 addr = OF_BAD_ADDR, size;

	cells = of_get_address(np, 0, &size, NULL);
	if (cells)
		addr = of_translate_address(np, cells);
	if (addr == OF_BAD_ADDR || !size) {
		dev_err(dev, "invalid property reg: not a range the CPU can address\n");
		return -EINVAL;
	}
	if (of_get_address(np, 1, NULL, NULL)) {
		dev_err(dev, "invalid property reg: memory outside RAM is one range\n");
		return -EINVAL;
	}
	if (of_find_property(np, "memory-region", NULL)) {
		dev_err(dev, "reg is memory outside RAM: it cannot have a memory-region too\n");
		return -EINVAL;
	}
	udmabuf_request_init(req, size);
	req->has_phys = true;
	req->phys = addr;
	return 0;
}

/*
 * The size of a node's buffer: "size" for memory the module allocates (a
 * "reg" beside it is ignored, as the established driver did), else "reg".
 */
static int udmabuf_read_size(struct device *dev, struct udmabuf_request *req)
{
	u64 size;

	if (!device_property_present(dev, "size") && dev->of_node &&
	    of_find_property(dev->of_node, "reg", NULL))
		return udmabuf_read_reg(dev, req);
	if (udmabuf_read_u64_property(dev, "size", &size)) {
		dev_err(dev, "the size property is missing or not a number\n");
		return -EINVAL;
	}
	if (!size)
		return udmabuf_property_error(dev, "size", size,
					      "a buffer cannot be empty");
	udmabuf_request_init(req, size);
	return 0;
}

/* Properties of a device-tree node. */
static int udmabuf_read_properties(struct device *dev,
				   struct udmabuf_request *req, char *name,
				   size_t name_len)
{
	const char *device_name;
	u32 minor, bits;
	int err = udmabuf_read_size(dev, req);

	if (err)
		return err;

	if (!device_property_read_u32(dev, "minor-number", &minor)) {
		if (minor >= UDMABUF_MAX_MINORS)
			return udmabuf_property_error(dev, "minor-number", minor,
						      "it must be 0..255");
		req->minor = minor;
	}
	if (!device_property_read_string(dev, "device-name", &device_name)) {
		if (strscpy(name, device_name, name_len) < 0) {
			dev_err(dev, "invalid property device-name = \"%s\": longer than %zu characters\n",
				device_name, name_len - 1);
			return -EINVAL;
		}
	} else if (req->minor >= 0) {
		snprintf(name, name_len, "udmabuf%d", req->minor);
	} else {
		strscpy(name, dev_name(dev), name_len);
	}
	req->name = name;

	if (!device_property_read_u32(dev, "dma-mask", &bits)) {
		if (bits < UDMABUF_DMA_MASK_MIN || bits > UDMABUF_DMA_MASK_MAX)
			return udmabuf_property_error(dev, "dma-mask", bits,
						      "it must be 12..64");
		req->dma_mask_bits = bits;
	}
	/*
	 * A buffer takes the node's DMA configuration onto its own device;
	 * an IOMMU cannot be taken that way.
	 */
	if (device_property_present(dev, "iommus")) {
		dev_err(dev, "iommus is not supported on a u-dma-buf node: bind the buffer to the device behind the IOMMU instead\n");
		return -EINVAL;
	}

	/* The last one present wins, in this order: page > auto > off > on. */
	if (device_property_read_bool(dev, "quirk-mmap-on"))
		req->mmap_mode = UDMABUF_MMAP_ON;
	if (device_property_read_bool(dev, "quirk-mmap-off"))
		req->mmap_mode = UDMABUF_MMAP_OFF;
	if (device_property_read_bool(dev, "quirk-mmap-auto"))
		req->mmap_mode = UDMABUF_MMAP_AUTO;
	if (device_property_read_bool(dev, "quirk-mmap-page"))
		req->mmap_mode = UDMABUF_MMAP_PAGE;
	req->mmap_mode_asked = device_property_read_bool(dev, "quirk-mmap-on") ||
			       device_property_read_bool(dev, "quirk-mmap-off") ||
			       device_property_read_bool(dev, "quirk-mmap-auto") ||
			       device_property_read_bool(dev, "quirk-mmap-page");

	return udmabuf_read_sync_properties(dev, req);
}

/* The request of a platform device the module made. */
static void udmabuf_pdata_request(struct platform_device *pdev,
				  const struct udmabuf_pdata *pdata,
				  struct udmabuf_request *req, char *name,
				  size_t name_len)
{
	udmabuf_request_init(req, pdata->size);
	req->minor = pdata->minor;
	req->minor_reserved = pdata->minor_reserved;
	req->dma_mask_bits = pdata->dma_mask_bits;
	if (pdata->mmap_mode)
		req->mmap_mode = pdata->mmap_mode;
	req->mmap_mode_asked = pdata->mmap_mode;
	req->has_phys = pdata->has_phys;
	req->phys = pdata->phys;
	if (pdata->name[0])
		strscpy(name, pdata->name, name_len);
	else if (pdata->minor >= 0)
		snprintf(name, name_len, "udmabuf%d", pdata->minor);
	else
		strscpy(name, dev_name(&pdev->dev), name_len);
	req->name = name;
}

static int udmabuf_platform_probe(struct platform_device *pdev)
{
	struct udmabuf_pdata *pdata = dev_get_platdata(&pdev->dev);
	struct device *dev = &pdev->dev;
	struct udmabuf_request req;
	struct udmabuf *buf;
	char name[UDMABUF_NAME_MAX];
	bool report = pdata && pdata->maker_waiting;
	int err = 0;

	if (report)
		pdata->maker_waiting = false;
	if (pdata)
		udmabuf_pdata_request(pdev, pdata, &req, name, sizeof(name));
	else
		err = udmabuf_read_properties(dev, &req, name, sizeof(name));
	if (!err) {
		req.creator = report && pdata->creator;
		req.parent = dev;
		req.pdev = pdev;
		req.of_node = dev->of_node;
		buf = udmabuf_create(&req);
		err = PTR_ERR_OR_ZERO(buf);
	}
	/*
	 * The first probe of a platform device the module made reports its
	 * result to its maker, which unregisters it on failure (the cause is
	 * already in the log once) and takes over the reference to the
	 * buffer's device.
	 */
	if (report) {
		pdata->probe_err = err;
		if (err)
			return 0;
	}
	if (err)
		return err;
	/* A delete (device_release_driver()) waits for this probe to return. */
	platform_set_drvdata(pdev, buf);
	if (info_enable)
		dev_info(dev, "driver installed.\n");
	if (report)
		pdata->buf = buf;
	else
		put_device(&buf->dev);
	return 0;
}

static void udmabuf_platform_remove(struct platform_device *pdev)
{
	struct udmabuf *buf = platform_get_drvdata(pdev);

	if (!buf)
		return;
	udmabuf_destroy(buf);
	if (info_enable)
		dev_info(&pdev->dev, "driver removed.\n");
}

static const struct of_device_id udmabuf_of_match[] = {
	{ .compatible = "ikwzm,u-dma-buf" },
	{ }
};
MODULE_DEVICE_TABLE(of, udmabuf_of_match);

static struct platform_driver udmabuf_platform_driver = {
	.probe = udmabuf_platform_probe,
	.remove = udmabuf_compat_platform_remove,
	.driver = {
		.name = UDMABUF_DRIVER_NAME,
		.of_match_table = udmabuf_of_match,
		.probe_type = PROBE_FORCE_SYNCHRONOUS,
	},
};

/* ------------------------------------------------------------------------
 * Buffers the module makes: platform devices of its own, or bound buffers
 */

/* The platform devices the module registered; unregistered on delete and at exit. */
struct udmabuf_owned_pdev {
	struct list_head node;
	struct platform_device *pdev;
};

static LIST_HEAD(udmabuf_owned_pdevs);	/* guarded by udmabuf_minors_lock */

static const char *const udmabuf_mmap_mode_props[] = {
	[UDMABUF_MMAP_OFF] = "quirk-mmap-off",
	[UDMABUF_MMAP_ON] = "quirk-mmap-on",
	[UDMABUF_MMAP_AUTO] = "quirk-mmap-auto",
	[UDMABUF_MMAP_PAGE] = "quirk-mmap-page",
};

/**
 * struct udmabuf_spec - a buffer the module makes by itself
 * @name: name, or NULL for "udmabuf<minor>" (or the platform device's name)
 * @minor: minor number, or -1 for the first free one
 * @minor_reserved: @minor was reserved at load (parameter buffers)
 * @size: size in bytes
 * @dma_mask_bits: DMA mask width, 0 for the dma_mask_bit parameter
 * @mmap_mode: UDMABUF_MMAP_*, 0 for the quirk_mmap_mode parameter
 * @parent: the device the buffer is bound to, or NULL
 * @creator: the maker is a module that holds a use (in-kernel create)
 * @has_phys: the buffer is memory outside RAM at @phys (§14); not bound
 * @phys: see @has_phys
 */
struct udmabuf_spec {
	const char *name;
	int minor;
	bool minor_reserved;
	u64 size;
	int dma_mask_bits;
	int mmap_mode;
	struct device *parent;
	bool creator;
	bool has_phys;
	u64 phys;
};

static struct udmabuf *udmabuf_make_platform(const struct udmabuf_spec *spec)
{
	struct udmabuf_pdata pdata = {
		.minor = spec->minor,
		.minor_reserved = spec->minor_reserved,
		.size = spec->size,
		.dma_mask_bits = spec->dma_mask_bits ?: dma_mask_bit,
		.mmap_mode = spec->mmap_mode,
		.creator = spec->creator,
		.has_phys = spec->has_phys,
		.phys = spec->phys,
		.maker_waiting = true,
	};
	struct platform_device_info info = {
		.name = UDMABUF_DRIVER_NAME,
		.id = spec->minor_reserved ? spec->minor : PLATFORM_DEVID_AUTO,
		.data = &pdata,
		.size_data = sizeof(pdata),
	};
	struct udmabuf_owned_pdev *owned;
	struct platform_device *pdev;
	struct udmabuf_pdata *result;
	struct udmabuf *buf;
	bool deleted;
	int err;

	if (spec->name)
		strscpy(pdata.name, spec->name, sizeof(pdata.name));
	owned = kzalloc(sizeof(*owned), GFP_KERNEL);
	if (!owned)
		return ERR_PTR(-ENOMEM);
	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev)) {
		err = PTR_ERR(pdev);
		pr_err("u-dma-buf: cannot register a platform device: %d\n",
		       err);
		kfree(owned);
		/*
		 * The request is always valid: -EINVAL is 6.1's
		 * platform_device_add() ignoring a failed dev_set_name(), which
		 * device_add() then refuses as a nameless device.
		 */
		return ERR_PTR(err == -EINVAL ? -ENOMEM : err);
	}
	/* Under the device lock, which a later probe (a sysfs bind) takes. */
	device_lock(&pdev->dev);
	result = dev_get_platdata(&pdev->dev);
	err = result->probe_err;
	buf = result->buf;
	if (result->maker_waiting) {
		/* The driver core failed before the probe; it said why. */
		pr_err("u-dma-buf: the driver core did not bind %s\n",
		       dev_name(&pdev->dev));
		result->maker_waiting = false;
		err = -ENOMEM;
	}
	device_unlock(&pdev->dev);
	if (err) {
		platform_device_unregister(pdev);
		kfree(owned);
		return ERR_PTR(err);
	}
	owned->pdev = pdev;
	/*
	 * A delete that came before the device was on the list unbound it
	 * like a device-tree node; unregister it here instead.
	 */
	mutex_lock(&udmabuf_minors_lock);
	deleted = !buf->published;
	if (!deleted)
		list_add_tail(&owned->node, &udmabuf_owned_pdevs);
	mutex_unlock(&udmabuf_minors_lock);
	if (deleted) {
		platform_device_unregister(pdev);
		kfree(owned);
	}
	return buf;
}

/* Take @pdev off the owned list; NULL if the module did not register it. */
static struct platform_device *udmabuf_take_owned_pdev(struct platform_device *pdev)
{
	struct udmabuf_owned_pdev *owned;

	lockdep_assert_held(&udmabuf_minors_lock);
	list_for_each_entry(owned, &udmabuf_owned_pdevs, node) {
		if (owned->pdev == pdev) {
			list_del(&owned->node);
			kfree(owned);
			return pdev;
		}
	}
	return NULL;
}

/*
 * A buffer bound to a parent device is allocated for that device, with the
 * DMA mask, coherency and IOMMU mapping the kernel gave it; nothing of the
 * parent is changed.
 */
static struct udmabuf *udmabuf_make_bound(const struct udmabuf_spec *spec)
{
	struct device *parent = spec->parent;
	struct udmabuf_request req;
	char name[UDMABUF_NAME_MAX];
	struct udmabuf *buf;

	if (!parent->dma_mask || !*parent->dma_mask) {
		pr_err("u-dma-buf: %s has no DMA mask, so it is not set up for DMA and cannot have a buffer\n",
		       dev_name(parent));
		return ERR_PTR(-EINVAL);
	}
	if (spec->dma_mask_bits) {
		pr_err("u-dma-buf: a buffer bound to %s uses that device's DMA mask; leave dma-mask out\n",
		       dev_name(parent));
		return ERR_PTR(-EINVAL);
	}
	udmabuf_request_init(&req, spec->size);
	req.minor = spec->minor;
	req.minor_reserved = spec->minor_reserved;
	if (spec->mmap_mode)
		req.mmap_mode = spec->mmap_mode;
	req.parent = parent;
	req.dma_parent = parent;
	req.creator = spec->creator;
	req.name = spec->name;
	if (!req.name && req.minor >= 0) {
		snprintf(name, sizeof(name), "udmabuf%d", req.minor);
		req.name = name;
	}
	buf = udmabuf_create(&req);
	if (!IS_ERR(buf) && info_enable)
		pr_info("u-dma-buf: %s installed.\n", dev_name(&buf->dev));
	return buf;
}

/* The buffer, with a reference to its device for the caller, or an ERR_PTR. */
static struct udmabuf *udmabuf_make(const struct udmabuf_spec *spec)
{
	if (spec->mmap_mode < 0 || spec->mmap_mode > UDMABUF_MMAP_PAGE) {
		pr_err("u-dma-buf: invalid mmap mode %d: it must be 1..4\n",
		       spec->mmap_mode);
		return ERR_PTR(-EINVAL);
	}
	if (spec->parent)
		return udmabuf_make_bound(spec);
	return udmabuf_make_platform(spec);
}

static void udmabuf_destroy_bound(struct udmabuf *buf)
{
	char name[UDMABUF_NAME_MAX];

	strscpy(name, dev_name(&buf->dev), sizeof(name));
	udmabuf_destroy(buf);
	if (info_enable)
		pr_info("u-dma-buf: %s removed.\n", name);
}

/*
 * Remove a buffer of any origin unless it is in use: by anyone, or besides
 * the caller's own use as its @creator, which is then given back.  It is
 * unpublished under the lock that open() takes, so no new user can appear
 * after the check; only the caller that unpublished it destroys it.
 */
static int udmabuf_delete(struct udmabuf *buf, bool creator)
{
	struct platform_device *pdev, *unregister = NULL;

	lockdep_assert_held(&udmabuf_minors_lock);
	if (kref_read(&buf->uses) > 1 + creator) {
		pr_warn("u-dma-buf %s: in use (open, mapped, exported or held by the module that made it), not deleted\n",
			dev_name(&buf->dev));
		mutex_unlock(&udmabuf_minors_lock);
		return -EBUSY;
	}
	if (udmabuf_pages_pinned(buf)) {
		pr_warn("u-dma-buf %s: pages still in use (a pipe, O_DIRECT or io_uring), not deleted\n",
			dev_name(&buf->dev));
		mutex_unlock(&udmabuf_minors_lock);
		return -EBUSY;
	}
	buf->published = false;
	if (creator)
		list_del_init(&buf->creator_node);
	pdev = buf->pdev;
	if (pdev) {
		unregister = udmabuf_take_owned_pdev(pdev);
		get_device(&pdev->dev);
	}
	mutex_unlock(&udmabuf_minors_lock);

	if (unregister) {
		platform_device_unregister(unregister);
	} else if (pdev) {
		/* A device-tree node: unbind it, as sysfs unbind would. */
		device_release_driver(&pdev->dev);
	} else {
		udmabuf_destroy_bound(buf);
	}
	if (pdev)
		put_device(&pdev->dev);
	if (creator)
		udmabuf_put(buf);
	return 0;
}

/* Unpublish a buffer bound to @parent (to any parent if NULL); NULL if none. */
static struct udmabuf *udmabuf_detach_bound(struct device *parent)
{
	struct udmabuf *buf;
	int id;

	mutex_lock(&udmabuf_minors_lock);
	idr_for_each_entry(&udmabuf_minors, buf, id) {
		if (buf->published && !buf->pdev &&
		    (!parent || buf->dma_dev == parent)) {
			buf->published = false;
			break;
		}
	}
	mutex_unlock(&udmabuf_minors_lock);
	return buf;
}

/*
 * Every buffer bound to @parent loses its DMA address now, whatever state it
 * is in: published, being made, or being removed by someone else.  Its device
 * is deleted here too, before the parent's sysfs directory (which holds its
 * own) goes: a removal that has unpublished the buffer may not have got to it.
 */
static void udmabuf_parent_gone(struct device *parent)
{
	struct udmabuf_dying *dying = kmalloc(sizeof(*dying), GFP_KERNEL);
	struct udmabuf *buf;
	int id;

	mutex_lock(&udmabuf_minors_lock);
	if (dying) {
		dying->dev = parent;
		list_add(&dying->node, &udmabuf_dying_parents);
	} else {
		pr_warn("u-dma-buf: out of memory: a buffer for %s made during its removal is not refused\n",
			dev_name(parent));
	}
	idr_for_each_entry(&udmabuf_minors, buf, id) {
		if (READ_ONCE(buf->dma_dev) != parent || parent == &buf->dev)
			continue;
		udmabuf_unmap_for_parent(buf, true);
		if (device_is_registered(&buf->dev))
			device_del(&buf->dev);
	}
	mutex_unlock(&udmabuf_minors_lock);
}

/* The end of a removal or unbind: @parent is no longer dying (or is gone). */
static void udmabuf_parent_done(struct device *parent, bool all)
{
	struct udmabuf_dying *dying, *next;

	mutex_lock(&udmabuf_minors_lock);
	list_for_each_entry_safe(dying, next, &udmabuf_dying_parents, node) {
		if (!all && dying->dev != parent)
			continue;
		list_del(&dying->node);
		kfree(dying);
		if (!all)
			break;
	}
	mutex_unlock(&udmabuf_minors_lock);
}

/*
 * When a parent goes away (removal or driver unbind), its buffers go first,
 * and their mapping for it before this returns; until the removal or
 * unbind ends, no buffer is made for it.
 */
static int udmabuf_parent_notify(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	struct udmabuf *buf;

	switch (action) {
	case BUS_NOTIFY_DEL_DEVICE:
	case BUS_NOTIFY_UNBIND_DRIVER:
		udmabuf_parent_gone(data);
		while ((buf = udmabuf_detach_bound(data)))
			udmabuf_destroy_bound(buf);
		return NOTIFY_OK;
	case BUS_NOTIFY_REMOVED_DEVICE:
	case BUS_NOTIFY_UNBOUND_DRIVER:
		udmabuf_parent_done(data, false);
		return NOTIFY_OK;
	}
	return NOTIFY_DONE;
}

/* Buses a buffer can be bound to, by the names used in bind= and bus=. */
struct udmabuf_bus {
	const char *name;
	udmabuf_bus_type *type;
	struct notifier_block nb;
};

static struct udmabuf_bus udmabuf_buses[] = {
	{ "platform", &platform_bus_type },
#ifdef CONFIG_PCI
	{ "pci", &pci_bus_type },
#endif
#ifdef CONFIG_ARM_AMBA
	{ "amba", &amba_bustype },
#endif
};

/* "<bus>/<device>" or "<device>" (platform bus); a reference is returned. */
static struct device *udmabuf_find_parent(const char *bus_name,
					  const char *dev_name)
{
	struct device *dev;
	int i;

	for (i = 0; i < ARRAY_SIZE(udmabuf_buses); i++) {
		if (strcmp(udmabuf_buses[i].name, bus_name))
			continue;
		dev = bus_find_device_by_name(udmabuf_buses[i].type, NULL,
					      dev_name);
		if (!dev) {
			pr_err("u-dma-buf: no device %s on bus %s\n", dev_name,
			       bus_name);
			return ERR_PTR(-ENODEV);
		}
		return dev;
	}
	pr_err("u-dma-buf: unknown bus %s: use platform, pci or amba (as this kernel has them)\n",
	       bus_name);
	return ERR_PTR(-EINVAL);
}

static struct device *udmabuf_find_parent_path(const char *path)
{
	char bus[16];
	const char *slash = strchr(path, '/');

	if (!slash)
		return udmabuf_find_parent("platform", path);
	if (slash - path >= sizeof(bus)) {
		pr_err("u-dma-buf: unknown bus in %s\n", path);
		return ERR_PTR(-EINVAL);
	}
	strscpy(bus, path, slash - path + 1);
	return udmabuf_find_parent(bus, slash + 1);
}

static void udmabuf_remove_all(void)
{
	struct udmabuf_owned_pdev *owned, *next;
	struct udmabuf *buf;
	LIST_HEAD(owned_pdevs);

	mutex_lock(&udmabuf_minors_lock);
	list_splice_init(&udmabuf_owned_pdevs, &owned_pdevs);
	mutex_unlock(&udmabuf_minors_lock);
	list_for_each_entry_safe_reverse(owned, next, &owned_pdevs, node) {
		platform_device_unregister(owned->pdev);
		kfree(owned);
	}
	while ((buf = udmabuf_detach_bound(NULL)))
		udmabuf_destroy_bound(buf);
}

/* ------------------------------------------------------------------------
 * The manager: /dev/u-dma-buf-mgr
 */

#define UDMABUF_MGR_LINE_MAX	1024
#define UDMABUF_MGR_MAX_TOKENS	16

/* Per open file: the command being accumulated across writes. */
struct udmabuf_mgr {
	struct file *file;		/* whose opener's rights count */
	struct mutex lock;		/* guards the fields below */
	char line[UDMABUF_MGR_LINE_MAX + 1];
	size_t len;
	bool discarding;
};

/*
 * Whoever opened the manager decides, never whoever writes or closes it
 * later: an fd opened by root may be handed to a helper, one opened by
 * anyone else gives nothing to root's writes.
 */
static bool udmabuf_mgr_allowed(struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

static int udmabuf_mgr_open(struct inode *inode, struct file *file)
{
	struct udmabuf_mgr *mgr = kzalloc(sizeof(*mgr), GFP_KERNEL);

	if (!mgr)
		return -ENOMEM;
	mgr->file = file;
	mutex_init(&mgr->lock);
	file->private_data = mgr;
	return 0;
}

/* '!' would become '/' in the device node's path. */
static bool udmabuf_valid_name(const char *name)
{
	return strlen(name) < UDMABUF_NAME_MAX && !strchr(name, '!') &&
	       strcmp(name, ".") &&
	       strcmp(name, "..") && strcmp(name, UDMABUF_MGR_NAME);
}

/* One "create" option; the size may be given bare or as size=. */
static int udmabuf_mgr_option(const char *token, struct udmabuf_spec *spec,
			      const char **bus, const char **device)
{
	u64 value;
	int mode;

	if (str_has_prefix(token, "bus=")) {
		*bus = token + 4;
		return 0;
	}
	if (str_has_prefix(token, "device=")) {
		*device = token + 7;
		return 0;
	}
	if (str_has_prefix(token, "dma-mask=")) {
		if (kstrtou64(token + 9, 0, &value) ||
		    value < UDMABUF_DMA_MASK_MIN || value > UDMABUF_DMA_MASK_MAX) {
			pr_err("u-dma-buf-mgr: %s: the DMA mask width must be %d..%d\n",
			       token, UDMABUF_DMA_MASK_MIN, UDMABUF_DMA_MASK_MAX);
			return -EINVAL;
		}
		spec->dma_mask_bits = value;
		return 0;
	}
	if (str_has_prefix(token, "phys=")) {
		if (kstrtou64(token + 5, 0, &spec->phys)) {
			pr_err("u-dma-buf-mgr: %s: not an address\n", token);
			return -EINVAL;
		}
		spec->has_phys = true;
		return 0;
	}
	for (mode = UDMABUF_MMAP_OFF; mode <= UDMABUF_MMAP_PAGE; mode++) {
		if (!strcmp(token, udmabuf_mmap_mode_props[mode])) {
			spec->mmap_mode = mode;
			return 0;
		}
	}
	if (str_has_prefix(token, "size="))
		token += 5;
	if (udmabuf_parse_size(token, &spec->size)) {
		pr_err("u-dma-buf-mgr: unknown option or bad size: %s\n", token);
		return -EINVAL;
	}
	return 0;
}

/*
 * A buffer over memory outside RAM reaches any physical address that is not
 * RAM, so it takes what /dev/mem takes: CAP_SYS_RAWIO, of the opener, and a
 * kernel that is not locked down.
 */
static int udmabuf_mgr_check_phys(struct udmabuf_mgr *mgr,
				  const struct udmabuf_spec *spec,
				  const char *device)
{
	if (device) {
		pr_err("u-dma-buf-mgr: create %s: phys= is memory outside RAM, which cannot be bound to a device\n",
		       spec->name);
		return -EINVAL;
	}
	if (!file_ns_capable(mgr->file, &init_user_ns, CAP_SYS_RAWIO)) {
		pr_err("u-dma-buf-mgr: create %s: phys= needs CAP_SYS_RAWIO\n",
		       spec->name);
		return -EPERM;
	}
	if (security_locked_down(LOCKDOWN_DEV_MEM)) {
		pr_err("u-dma-buf-mgr: create %s: phys= is refused while the kernel is locked down (as /dev/mem)\n",
		       spec->name);
		return -EPERM;
	}
	return 0;
}

static int udmabuf_mgr_create(struct udmabuf_mgr *mgr, char **tokens,
			      int count)
{
	struct udmabuf_spec spec = { .minor = -1 };
	const char *bus = NULL, *device = NULL;
	struct udmabuf *buf;
	int i, err;

	if (count < 2 || !udmabuf_valid_name(tokens[1])) {
		pr_err("u-dma-buf-mgr: create needs a name (at most %d characters, no '/' or '!'): create <name> <size> [options]\n",
		       UDMABUF_NAME_MAX - 1);
		return -EINVAL;
	}
	spec.name = tokens[1];
	for (i = 2; i < count; i++) {
		err = udmabuf_mgr_option(tokens[i], &spec, &bus, &device);
		if (err)
			return err;
	}
	if (!spec.size && spec.has_phys) {
		/* As %pa prints it, without truncating to phys_addr_t. */
		pr_err("u-dma-buf-mgr: create %s: the memory at 0x%0*llx is empty: the size is missing or 0\n",
		       spec.name, (int)sizeof(phys_addr_t) * 2, spec.phys);
		return -EINVAL;
	}
	if (!spec.size) {
		pr_err("u-dma-buf-mgr: create %s: the size is missing or 0\n",
		       spec.name);
		return -EINVAL;
	}
	if (bus && !device) {
		pr_err("u-dma-buf-mgr: create %s: bus=%s needs device=\n",
		       spec.name, bus);
		return -EINVAL;
	}
	if (spec.has_phys) {
		err = udmabuf_mgr_check_phys(mgr, &spec, device);
		if (err)
			return err;
	}
	if (device) {
		spec.parent = udmabuf_find_parent(bus ?: "platform", device);
		if (IS_ERR(spec.parent))
			return PTR_ERR(spec.parent);
	}
	buf = udmabuf_make(&spec);
	if (spec.parent)
		put_device(spec.parent);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	put_device(&buf->dev);
	pr_info("u-dma-buf-mgr: create %s size=%llu\n", spec.name, spec.size);
	return 0;
}

static int udmabuf_mgr_delete(char **tokens, int count)
{
	struct udmabuf *buf;
	int err;

	if (count != 2) {
		pr_err("u-dma-buf-mgr: usage: delete <name>\n");
		return -EINVAL;
	}
	mutex_lock(&udmabuf_minors_lock);
	buf = udmabuf_find(tokens[1], -1);
	if (!buf) {
		mutex_unlock(&udmabuf_minors_lock);
		pr_err("u-dma-buf-mgr: delete %s: no such buffer\n", tokens[1]);
		return -ENODEV;
	}
	err = udmabuf_delete(buf, false);
	if (!err)
		pr_info("u-dma-buf-mgr: delete %s\n", tokens[1]);
	return err;
}

static int udmabuf_mgr_run(struct udmabuf_mgr *mgr)
{
	char *tokens[UDMABUF_MGR_MAX_TOKENS];
	char *rest = mgr->line, *token;
	int count = 0;

	mgr->line[mgr->len] = '\0';
	while ((token = strsep(&rest, " \t"))) {
		if (!*token)
			continue;
		if (count == ARRAY_SIZE(tokens)) {
			pr_err("u-dma-buf-mgr: too many words in one command\n");
			return -EINVAL;
		}
		tokens[count++] = token;
	}
	if (!count)
		return 0;
	if (!strcmp(tokens[0], "create"))
		return udmabuf_mgr_create(mgr, tokens, count);
	if (!strcmp(tokens[0], "delete"))
		return udmabuf_mgr_delete(tokens, count);
	pr_err("u-dma-buf-mgr: unknown command %s: use create or delete\n",
	       tokens[0]);
	return -EINVAL;
}

/* Runs the command accumulated so far, if any, and starts a new one. */
static int udmabuf_mgr_end_command(struct udmabuf_mgr *mgr)
{
	int err = udmabuf_mgr_run(mgr);

	mgr->len = 0;
	return err;
}

/*
 * Text accumulates until '\n', ';' or NUL ends a command.  A failing command
 * fails the write with its error and the text after it in that write is
 * dropped.  A command that grows past UDMABUF_MGR_LINE_MAX fails the write
 * too, and is dropped up to its end, in this write or the following ones.
 */
static ssize_t udmabuf_mgr_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct udmabuf_mgr *mgr = file->private_data;
	bool stop = false;
	char chunk[128];
	size_t done = 0;
	int err = 0;

	if (!udmabuf_mgr_allowed(file))
		return -EPERM;
	mutex_lock(&mgr->lock);
	while (done < count && !stop) {
		size_t n = min(count - done, sizeof(chunk)), i;

		if (copy_from_user(chunk, ubuf + done, n)) {
			err = -EFAULT;
			break;
		}
		for (i = 0; i < n && !stop; i++) {
			char c = chunk[i];
			bool end = c == '\n' || c == ';' || c == '\0';

			if (mgr->discarding) {
				if (end) {
					mgr->discarding = false;
					stop = err;
				}
			} else if (end) {
				err = udmabuf_mgr_end_command(mgr);
				stop = err;
			} else if (mgr->len == UDMABUF_MGR_LINE_MAX) {
				pr_err("u-dma-buf-mgr: command longer than %d bytes, discarded\n",
				       UDMABUF_MGR_LINE_MAX);
				mgr->len = 0;
				mgr->discarding = true;
				err = -EINVAL;
			} else {
				mgr->line[mgr->len++] = c;
			}
		}
		done += n;
	}
	mutex_unlock(&mgr->lock);
	return err ? err : count;
}

/*
 * A command still unterminated at close runs now (if the opener may); its
 * error can only be logged.
 */
static int udmabuf_mgr_release(struct inode *inode, struct file *file)
{
	struct udmabuf_mgr *mgr = file->private_data;

	if (mgr->len && udmabuf_mgr_allowed(file))
		udmabuf_mgr_end_command(mgr);
	mutex_destroy(&mgr->lock);
	kfree(mgr);
	return 0;
}

static const struct file_operations udmabuf_mgr_fops = {
	.owner = THIS_MODULE,
	.open = udmabuf_mgr_open,
	.write = udmabuf_mgr_write,
	.release = udmabuf_mgr_release,
	.llseek = noop_llseek,
};

static struct miscdevice udmabuf_mgr_device = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = UDMABUF_MGR_NAME,
	.fops = &udmabuf_mgr_fops,
	.mode = 0600,
};

/* ------------------------------------------------------------------------
 * In-kernel API for other modules (u-dma-buf-funcs.h)
 *
 * The functions take and return the buffer's class device.  A buffer made by
 * u_dma_buf_device_create() holds a use for its creator until
 * u_dma_buf_device_remove() (or module exit), and is on udmabuf_creators
 * meanwhile: so user space cannot delete it under its creator, its memory
 * outlives an unrefusable removal (unbind, parent removal) until the
 * creator's remove, and the pointer the creator holds stays unique: it can
 * only name that buffer, never a new one made in its memory.
 */

/* The created buffer whose device is @dev, or NULL; @dev is only compared. */
static struct udmabuf *udmabuf_creator_find(struct device *dev)
{
	struct udmabuf *buf;

	lockdep_assert_held(&udmabuf_minors_lock);
	list_for_each_entry(buf, &udmabuf_creators, creator_node)
		if (&buf->dev == dev)
			return buf;
	return NULL;
}

/* Module exit: the creators are gone (they used our symbols); so are their uses. */
static void udmabuf_creators_release_all(void)
{
	struct udmabuf *buf, *next;
	LIST_HEAD(bufs);

	mutex_lock(&udmabuf_minors_lock);
	list_splice_init(&udmabuf_creators, &bufs);
	mutex_unlock(&udmabuf_minors_lock);
	list_for_each_entry_safe(buf, next, &bufs, creator_node) {
		list_del_init(&buf->creator_node);
		udmabuf_put(buf);
	}
}

/**
 * u_dma_buf_device_create() - create a buffer
 * @name: buffer name, or NULL for "udmabuf<id>" (or an automatic name)
 * @id: minor number, or negative for the first free one
 * @size: size in bytes
 * @option: bits 7..0 DMA mask width (0: dma_mask_bit; not with @parent),
 *	bits 12..10 mmap mode (0: quirk_mmap_mode)
 * @parent: device to allocate for (its DMA mask, coherency, IOMMU), or NULL
 *
 * The caller holds a use of the buffer until it passes the pointer to
 * u_dma_buf_device_remove() with success or -ENODEV: user space cannot
 * delete it meanwhile, and an unbind or the parent's removal only takes its
 * name; the memory stays until that remove.
 *
 * Return: the buffer's device, or an ERR_PTR.
 */
struct device *u_dma_buf_device_create(const char *name, int id, size_t size,
				       u64 option, struct device *parent)
{
	struct udmabuf_spec spec = {
		.name = name,
		.minor = id < 0 ? -1 : id,
		.size = size,
		.dma_mask_bits = option & 0xff,
		.mmap_mode = (option >> 10) & 7,
		.parent = parent,
		.creator = true,
	};
	struct udmabuf *buf;

	if (name && !udmabuf_valid_name(name)) {
		pr_err("u-dma-buf: in-kernel create: invalid name %s (at most %d characters, no '/' or '!')\n",
		       name, UDMABUF_NAME_MAX - 1);
		return ERR_PTR(-EINVAL);
	}
	buf = udmabuf_make(&spec);
	if (IS_ERR(buf))
		return ERR_CAST(buf);
	/* The creator's use keeps the buffer; the maker's reference goes. */
	put_device(&buf->dev);
	return &buf->dev;
}
EXPORT_SYMBOL_GPL(u_dma_buf_device_create);

/**
 * u_dma_buf_device_search() - find a buffer by name and/or minor number
 * @name: name, or NULL for any
 * @id: minor number, or negative for any
 *
 * The pointer is not held for the caller: it is valid until the buffer is
 * removed, and a module that lets user space delete the buffer (and create
 * others) meanwhile should use only the pointers it created.
 *
 * Return: the buffer's device, or ERR_PTR(-ENODEV).
 */
struct device *u_dma_buf_device_search(const char *name, int id)
{
	struct udmabuf *buf;

	mutex_lock(&udmabuf_minors_lock);
	buf = udmabuf_find(name, id);
	mutex_unlock(&udmabuf_minors_lock);
	return buf ? &buf->dev : ERR_PTR(-ENODEV);
}
EXPORT_SYMBOL_GPL(u_dma_buf_device_search);

/**
 * u_dma_buf_device_remove() - remove a buffer that is not in use
 * @dev: the buffer's device
 *
 * The creator's use of a created buffer is given back on success and on
 * -ENODEV (removed already by an unbind or its parent's removal); @dev must
 * not be used after either.
 *
 * Return: 0, -ENODEV for no such buffer, -EBUSY while it is in use.
 */
int u_dma_buf_device_remove(struct device *dev)
{
	struct udmabuf *buf;

	mutex_lock(&udmabuf_minors_lock);
	buf = udmabuf_creator_find(dev);
	if (buf && !buf->published) {
		list_del_init(&buf->creator_node);
		mutex_unlock(&udmabuf_minors_lock);
		udmabuf_put(buf);
		return -ENODEV;
	}
	if (buf)
		return udmabuf_delete(buf, true);	/* unlocks */
	buf = udmabuf_find_by_device(dev);
	if (buf)
		return udmabuf_delete(buf, false);	/* unlocks */
	mutex_unlock(&udmabuf_minors_lock);
	return -ENODEV;
}
EXPORT_SYMBOL_GPL(u_dma_buf_device_remove);

/* The buffer of @dev with a reference held, or NULL. */
static struct udmabuf *udmabuf_get_by_device(struct device *dev)
{
	struct udmabuf *buf;

	mutex_lock(&udmabuf_minors_lock);
	buf = udmabuf_find_by_device(dev);
	if (buf)
		udmabuf_get(buf);
	mutex_unlock(&udmabuf_minors_lock);
	return buf;
}

/**
 * u_dma_buf_device_getmap() - the memory of a buffer
 * @dev: the buffer's device
 * @size: size in bytes, or NULL
 * @virt: kernel address, or NULL
 * @dma_addr: DMA address, or NULL
 *
 * Return: 0 or -ENODEV.
 */
int u_dma_buf_device_getmap(struct device *dev, size_t *size, void **virt,
			    dma_addr_t *dma_addr)
{
	struct udmabuf *buf = udmabuf_get_by_device(dev);
	int err = 0;

	if (!buf)
		return -ENODEV;
	if (size)
		*size = buf->size;
	if (virt)
		*virt = buf->vaddr;
	if (dma_addr)
		err = udmabuf_get_dma_addr(buf, dma_addr);
	udmabuf_put(buf);
	return err;
}
EXPORT_SYMBOL_GPL(u_dma_buf_device_getmap);

/**
 * u_dma_buf_device_sync() - store a sync range and sync it
 * @dev: the buffer's device
 * @cmd: 1 for the CPU, 2 for the device, 0 to only store
 * @dir: 0 bidirectional, 1 to device, 2 from device, other: unchanged
 * @offset: sync offset to store
 * @size: sync size to store, 0 or negative: unchanged
 *
 * Everything is validated before anything is stored.
 *
 * Return: 0, -ENODEV or -EINVAL.
 */
int u_dma_buf_device_sync(struct device *dev, int cmd, int dir, u64 offset,
			  ssize_t size)
{
	struct udmabuf *buf;
	u64 new_size;
	int err = 0;

	if (cmd < 0 || cmd > 2)
		return -EINVAL;
	buf = udmabuf_get_by_device(dev);
	if (!buf)
		return -ENODEV;
	mutex_lock(&buf->lock);
	new_size = size > 0 ? size : buf->sync_size;
	if (offset > buf->size || new_size > buf->size - offset) {
		udmabuf_user_err(buf, "in-kernel sync range offset=%llu size=%llu is outside the buffer\n",
				 offset, new_size);
		err = -EINVAL;
	} else {
		buf->sync_offset = offset;
		buf->sync_size = new_size;
		if (dir >= UDMABUF_DIR_BIDIRECTIONAL &&
		    dir <= UDMABUF_DIR_FROM_DEVICE)
			buf->sync_direction = dir;
		if (cmd)
			err = udmabuf_sync_command(buf, cmd == 2, 1);
	}
	mutex_unlock(&buf->lock);
	udmabuf_put(buf);
	return err;
}
EXPORT_SYMBOL_GPL(u_dma_buf_device_sync);

/* ------------------------------------------------------------------------
 * Parameter buffers
 */

static char *bind;
module_param(bind, charp, 0444);
MODULE_PARM_DESC(bind,
		 "parent device of every udmabufN without udmabufN_bind: [<bus>/]<device>, bus platform, pci or amba");

static char *udmabuf_param_binds[UDMABUF_PARAM_BUFFERS];
module_param_named(udmabuf0_bind, udmabuf_param_binds[0], charp, 0444);
MODULE_PARM_DESC(udmabuf0_bind, "parent device of udmabuf0: [<bus>/]<device>");
module_param_named(udmabuf1_bind, udmabuf_param_binds[1], charp, 0444);
MODULE_PARM_DESC(udmabuf1_bind, "parent device of udmabuf1: [<bus>/]<device>");
module_param_named(udmabuf2_bind, udmabuf_param_binds[2], charp, 0444);
MODULE_PARM_DESC(udmabuf2_bind, "parent device of udmabuf2: [<bus>/]<device>");
module_param_named(udmabuf3_bind, udmabuf_param_binds[3], charp, 0444);
MODULE_PARM_DESC(udmabuf3_bind, "parent device of udmabuf3: [<bus>/]<device>");
module_param_named(udmabuf4_bind, udmabuf_param_binds[4], charp, 0444);
MODULE_PARM_DESC(udmabuf4_bind, "parent device of udmabuf4: [<bus>/]<device>");
module_param_named(udmabuf5_bind, udmabuf_param_binds[5], charp, 0444);
MODULE_PARM_DESC(udmabuf5_bind, "parent device of udmabuf5: [<bus>/]<device>");
module_param_named(udmabuf6_bind, udmabuf_param_binds[6], charp, 0444);
MODULE_PARM_DESC(udmabuf6_bind, "parent device of udmabuf6: [<bus>/]<device>");
module_param_named(udmabuf7_bind, udmabuf_param_binds[7], charp, 0444);
MODULE_PARM_DESC(udmabuf7_bind, "parent device of udmabuf7: [<bus>/]<device>");

/* Keep minors N of the udmabufN parameters from device-tree nodes. */
static int udmabuf_reserve_param_minors(void)
{
	int i, minor;

	for (i = 0; i < UDMABUF_PARAM_BUFFERS; i++) {
		if (!udmabuf_param_sizes[i])
			continue;
		mutex_lock(&udmabuf_minors_lock);
		minor = idr_alloc(&udmabuf_minors, NULL, i, i + 1, GFP_KERNEL);
		mutex_unlock(&udmabuf_minors_lock);
		if (minor < 0)
			return minor;
	}
	return 0;
}

static int udmabuf_create_param_buffer(int index)
{
	const char *path = udmabuf_param_binds[index] ?: bind;
	struct udmabuf_spec spec = {
		.minor = index,
		.minor_reserved = true,
		.size = udmabuf_param_sizes[index],
	};
	struct udmabuf *buf;

	if (path) {
		spec.parent = udmabuf_find_parent_path(path);
		if (IS_ERR(spec.parent)) {
			pr_err("u-dma-buf: udmabuf%d: cannot bind to %s\n",
			       index, path);
			return PTR_ERR(spec.parent);
		}
	}
	buf = udmabuf_make(&spec);
	if (spec.parent)
		put_device(spec.parent);
	if (IS_ERR(buf)) {
		pr_err("u-dma-buf: udmabuf%d=%llu failed (%ld), module not loaded\n",
		       index, udmabuf_param_sizes[index], PTR_ERR(buf));
		return PTR_ERR(buf);
	}
	put_device(&buf->dev);
	return 0;
}

static int udmabuf_create_param_buffers(void)
{
	int i, err;

	for (i = 0; i < UDMABUF_PARAM_BUFFERS; i++) {
		if (!udmabuf_param_sizes[i])
			continue;
		err = udmabuf_create_param_buffer(i);
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Module init and exit
 */

static int udmabuf_check_params(void)
{
	if (dma_mask_bit < UDMABUF_DMA_MASK_MIN ||
	    dma_mask_bit > UDMABUF_DMA_MASK_MAX) {
		pr_err("u-dma-buf: dma_mask_bit=%d is invalid: it must be %d..%d\n",
		       dma_mask_bit, UDMABUF_DMA_MASK_MIN, UDMABUF_DMA_MASK_MAX);
		return -EINVAL;
	}
	if (quirk_mmap_mode < UDMABUF_MMAP_OFF ||
	    quirk_mmap_mode > UDMABUF_MMAP_PAGE) {
		pr_err("u-dma-buf: quirk_mmap_mode=%d is invalid: it must be 1 (off), 2 (on), 3 (auto) or 4 (page)\n",
		       quirk_mmap_mode);
		return -EINVAL;
	}
	return 0;
}

static void udmabuf_unwatch_parents(int count)
{
	while (count--)
		bus_unregister_notifier(udmabuf_buses[count].type,
					&udmabuf_buses[count].nb);
	udmabuf_parent_done(NULL, true);
}

static int udmabuf_watch_parents(void)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(udmabuf_buses); i++) {
		udmabuf_buses[i].nb.notifier_call = udmabuf_parent_notify;
		err = bus_register_notifier(udmabuf_buses[i].type,
					    &udmabuf_buses[i].nb);
		if (err) {
			pr_err("u-dma-buf: cannot watch bus %s: %d\n",
			       udmabuf_buses[i].name, err);
			udmabuf_unwatch_parents(i);
			return err;
		}
	}
	return 0;
}

/*
 * The nodes open last: a file opened while a later step fails would keep
 * this module's code after the failed load has freed it.
 */
static int __init udmabuf_init(void)
{
	int err = udmabuf_check_params();

	if (err)
		return err;
	err = alloc_chrdev_region(&udmabuf_devt, 0, UDMABUF_MAX_MINORS,
				  UDMABUF_DRIVER_NAME);
	if (err) {
		pr_err("u-dma-buf: cannot allocate %d minor numbers: %d\n",
		       UDMABUF_MAX_MINORS, err);
		return err;
	}
	cdev_init(&udmabuf_cdev, &udmabuf_fops);
	err = class_register(&udmabuf_class);
	if (err) {
		pr_err("u-dma-buf: cannot register class %s: %d\n",
		       UDMABUF_DRIVER_NAME, err);
		goto err_region;
	}
	err = udmabuf_watch_parents();
	if (err)
		goto err_class;
	err = udmabuf_reserve_param_minors();
	if (err)
		goto err_watch;
	err = platform_driver_register(&udmabuf_platform_driver);
	if (err) {
		pr_err("u-dma-buf: cannot register the platform driver: %d\n",
		       err);
		goto err_watch;
	}
	err = udmabuf_create_param_buffers();
	if (err)
		goto err_buffers;
	err = misc_register(&udmabuf_mgr_device);
	if (err) {
		pr_err("u-dma-buf: cannot register /dev/%s: %d\n",
		       UDMABUF_MGR_NAME, err);
		goto err_buffers;
	}
	err = cdev_add(&udmabuf_cdev, udmabuf_devt, UDMABUF_MAX_MINORS);
	if (err) {
		pr_err("u-dma-buf: cannot add the character device: %d\n", err);
		goto err_mgr;
	}
	if (info_enable & UDMABUF_INFO_CONFIG)
		pr_info("u-dma-buf: version %s, %d minors, quirk_mmap_mode=%d, dma_mask_bit=%d, CMA=%d, OF=%d\n",
			UDMABUF_VERSION, UDMABUF_MAX_MINORS, quirk_mmap_mode,
			dma_mask_bit, IS_ENABLED(CONFIG_DMA_CMA),
			IS_ENABLED(CONFIG_OF));
	return 0;

err_mgr:
	misc_deregister(&udmabuf_mgr_device);
err_buffers:
	udmabuf_remove_all();
	platform_driver_unregister(&udmabuf_platform_driver);
err_watch:
	udmabuf_unwatch_parents(ARRAY_SIZE(udmabuf_buses));
err_class:
	class_unregister(&udmabuf_class);
err_region:
	unregister_chrdev_region(udmabuf_devt, UDMABUF_MAX_MINORS);
	idr_destroy(&udmabuf_minors);
	return err;
}

static void __exit udmabuf_exit(void)
{
	misc_deregister(&udmabuf_mgr_device);
	udmabuf_remove_all();
	udmabuf_creators_release_all();
	platform_driver_unregister(&udmabuf_platform_driver);
	udmabuf_unwatch_parents(ARRAY_SIZE(udmabuf_buses));
	class_unregister(&udmabuf_class);
	cdev_del(&udmabuf_cdev);
	unregister_chrdev_region(udmabuf_devt, UDMABUF_MAX_MINORS);
	idr_destroy(&udmabuf_minors);
}

module_init(udmabuf_init);
module_exit(udmabuf_exit);

MODULE_DESCRIPTION("Physically contiguous DMA buffers for user-space drivers");
MODULE_AUTHOR("u-dma-buf developers");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_VERSION(UDMABUF_VERSION);
