// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A kernel importer of a u-dma-buf dma-buf (INTERFACE.md §9), as V4L2, DRM or
 * IIO would be.  When loaded it takes the dma-buf behind file descriptor fd of
 * the process that loads it, attaches a platform device of its own (64-bit DMA
 * mask), maps the scatter-gather table and checks its DMA address and length,
 * vmaps the buffer and checks the bytes user space wrote, optionally writes a
 * pattern back, and lets everything go.  One kernel log line per check:
 *
 *   udmabuf_import_test: ok - <what>
 *   udmabuf_import_test: not ok - <what>: <expected ... got ...>
 *   udmabuf_import_test: done
 *
 * Init returns 0 whatever the results, so that the suite reads the lines.
 *
 * Parameters: fd, size (expected dma-buf size), addr (expected DMA address of
 * its first byte), seed (the pattern user space wrote, tests/guest/tap.h
 * pat()), wseed (a pattern to write back through the vmap; 0: none).
 *
 * hold=1: another mode.  Init attaches and maps as above, checks nothing of the
 * contents, and keeps the attachment mapped until the module is unloaded, so that
 * user space can DMA_BUF_IOCTL_SYNC the dma-buf while an importer holds a mapping
 * (INTERFACE.md §9: START/END sync every importer's current mapping).  It logs
 *
 *   udmabuf_import_test: hold: dev=<importer device> nents=<n> need_sync=<0|1>
 *
 * need_sync 1 when a sync of that mapping reaches the DMA API's out-of-line
 * functions on this kernel: always before 6.11 (dma_sync_sg_for_cpu() etc. are
 * called for every device), since then only when dma_dev_need_sync() says so (the
 * inline wrappers skip the call for a coherent device that bounced nothing).
 *
 * edu=1: another mode.  Init only registers a PCI driver "udmabuf_import_edu" for the
 * QEMU edu device (1234:11e8) that does nothing: with a driver bound, the DMA-API debug
 * code checks at the driver's unbind that no mapping of edu is left.  This module does
 * not depend on u-dma-buf, so u-dma-buf can be unloaded while the driver is there.
 *
 * With edu=1, writing 1 to /sys/module/udmabuf_import_test/parameters/stall arms a
 * stall of edu's next driver unbind: a PCI bus notifier that runs before u-dma-buf's
 * logs "stall: waiting" and waits (at most 10 s) until u-dma-buf enters
 * udmabuf_destroy_bound() (a kprobe), then logs "stall: released" or "stall: timed
 * out".  A removal of edu run at SCHED_FIFO then preempts a manager delete right
 * between its unpublishing the buffer and its deleting the device, and so finds the
 * buffer half removed: the window of a delete racing the parent's removal.
 *
 * With edu=1, writing 1 to .../parameters/stall_late arms a stall of edu's next removal
 * after u-dma-buf's notifier has run: a notifier of BUS_NOTIFY_DEL_DEVICE with a lower
 * priority logs "stall_late: waiting" and waits (at most 10 s) until 1 is written to
 * .../parameters/release, then logs "stall_late: released" or "stall_late: timed out".
 * Meanwhile edu is still on its bus: a buffer made for it then would outlive its sysfs
 * directory.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/version.h>

#define PFX "udmabuf_import_test: "

static int fd = -1;
module_param(fd, int, 0444);
MODULE_PARM_DESC(fd, "dma-buf file descriptor of the loading process");
static unsigned long size;
module_param(size, ulong, 0444);
MODULE_PARM_DESC(size, "expected size of the dma-buf in bytes");
static unsigned long long addr;
module_param(addr, ullong, 0444);
MODULE_PARM_DESC(addr, "expected DMA address of the first byte");
static uint seed;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "seed of the pattern user space wrote");
static uint wseed;
module_param(wseed, uint, 0444);
MODULE_PARM_DESC(wseed, "seed of a pattern to write back (0: none)");
static bool hold;
module_param(hold, bool, 0444);
MODULE_PARM_DESC(hold, "keep the attachment mapped until the module is unloaded");

static bool edu;
module_param(edu, bool, 0444);
MODULE_PARM_DESC(edu, "only register a plain PCI driver for the QEMU edu device");

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};

static struct pci_driver edu_pci_driver = {
	.name = "udmabuf_import_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};

/* What hold=1 keeps. */
static struct dma_buf *held_buf;
static struct platform_device *held_pdev;
static struct dma_buf_attachment *held_attach;
static struct sg_table *held_sgt;

static void report(bool pass, const char *what, const char *fmt, ...)
{
	struct va_format vaf;
	va_list ap;

	if (pass) {
		pr_info(PFX "ok - %s\n", what);
		return;
	}
	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	pr_info(PFX "not ok - %s: %pV\n", what, &vaf);
	va_end(ap);
}

static bool stall;
module_param(stall, bool, 0644);
MODULE_PARM_DESC(stall, "with edu=1: stall edu's next unbind until u-dma-buf destroys a buffer");

static DECLARE_COMPLETION(stall_release);
static bool stalling;

static int stall_kprobe_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (READ_ONCE(stalling))
		complete(&stall_release);
	return 0;
}

static struct kprobe stall_kprobe = {
	.symbol_name = "udmabuf_destroy_bound",
	.pre_handler = stall_kprobe_pre,
};

static bool stall_kprobe_on;

static int stall_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct device *dev = data;
	unsigned long left;

	if (action != BUS_NOTIFY_UNBIND_DRIVER || !READ_ONCE(stall) ||
	    to_pci_dev(dev)->vendor != 0x1234 || to_pci_dev(dev)->device != 0x11e8)
		return NOTIFY_DONE;
	WRITE_ONCE(stall, false);
	reinit_completion(&stall_release);
	WRITE_ONCE(stalling, true);
	pr_info(PFX "stall: waiting\n");
	left = wait_for_completion_timeout(&stall_release, 10 * HZ);
	WRITE_ONCE(stalling, false);
	pr_info(PFX "stall: %s\n", left ? "released" : "timed out");
	return NOTIFY_OK;
}

/* Before u-dma-buf's notifier, which has the default priority 0. */
static struct notifier_block stall_nb = {
	.notifier_call = stall_notify,
	.priority = 1,
};

static bool stall_late;
module_param(stall_late, bool, 0644);
MODULE_PARM_DESC(stall_late, "with edu=1: stall edu's next removal after u-dma-buf's notifier");

static DECLARE_COMPLETION(stall_late_release);

static int release_param_set(const char *val, const struct kernel_param *kp)
{
	complete(&stall_late_release);
	return 0;
}

static const struct kernel_param_ops release_param_ops = {
	.set = release_param_set,
};
module_param_cb(release, &release_param_ops, NULL, 0200);
MODULE_PARM_DESC(release, "write 1: let the stalled removal of stall_late go on");

static int stall_late_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct device *dev = data;
	unsigned long left;

	if (action != BUS_NOTIFY_DEL_DEVICE || !READ_ONCE(stall_late) ||
	    to_pci_dev(dev)->vendor != 0x1234 || to_pci_dev(dev)->device != 0x11e8)
		return NOTIFY_DONE;
	WRITE_ONCE(stall_late, false);
	reinit_completion(&stall_late_release);
	pr_info(PFX "stall_late: waiting\n");
	left = wait_for_completion_timeout(&stall_late_release, 10 * HZ);
	pr_info(PFX "stall_late: %s\n", left ? "released" : "timed out");
	return NOTIFY_OK;
}

/* After u-dma-buf's notifier. */
static struct notifier_block stall_late_nb = {
	.notifier_call = stall_late_notify,
	.priority = -1,
};

static void stall_init(void)
{
	int err = register_kprobe(&stall_kprobe);

	report(!err, "edu: kprobe on udmabuf_destroy_bound", "expected 0 got %d", err);
	stall_kprobe_on = !err;
	err = bus_register_notifier(&pci_bus_type, &stall_nb);
	report(!err, "edu: PCI bus notifier for the stall", "expected 0 got %d", err);
	err = bus_register_notifier(&pci_bus_type, &stall_late_nb);
	report(!err, "edu: PCI bus notifier for the late stall", "expected 0 got %d", err);
}

static void stall_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &stall_late_nb);
	bus_unregister_notifier(&pci_bus_type, &stall_nb);
	if (stall_kprobe_on)
		unregister_kprobe(&stall_kprobe);
}

/* The byte pattern of tests/guest/tap.h pat(). */
static u8 pat(u64 i, unsigned int s)
{
	u64 x = (i + 1) * 0x9E3779B97F4A7C15ull + s * 0xD1B54A32D192ED03ull;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (u8)x;
}

static struct sg_table *import_map(struct dma_buf_attachment *attach)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
#else
	return dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
#endif
}

static void import_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_BIDIRECTIONAL);
#else
	dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
#endif
}

static int import_vmap(struct dma_buf *dmabuf, struct iosys_map *m)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return dma_buf_vmap_unlocked(dmabuf, m);
#else
	return dma_buf_vmap(dmabuf, m);
#endif
}

static void import_vunmap(struct dma_buf *dmabuf, struct iosys_map *m)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	dma_buf_vunmap_unlocked(dmabuf, m);
#else
	dma_buf_vunmap(dmabuf, m);
#endif
}

static void check_sgt(struct device *dev, struct sg_table *sgt)
{
	unsigned int i, longest = 0, max_seg = dma_get_max_seg_size(dev);
	struct scatterlist *sg;
	dma_addr_t next = 0;
	u64 total = 0;
	bool contiguous = true;

	for_each_sgtable_sg(sgt, sg, i)
		longest = max(longest, sg->length);
	report(longest <= max_seg,
	       "no sg entry is longer than the importer device's maximum segment size",
	       "expected at most %u got %u", max_seg, longest);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (i && sg_dma_address(sg) != next)
			contiguous = false;
		next = sg_dma_address(sg) + sg_dma_len(sg);
		total += sg_dma_len(sg);
	}
	report(sgt->nents >= 1 && sg_dma_address(sgt->sgl) == addr,
	       "the sg table's first DMA address is the exported range's address", "expected 0x%llx got 0x%llx (%u entries)",
	       addr, (unsigned long long)sg_dma_address(sgt->sgl), sgt->nents);
	report(total == size, "the sg table's DMA lengths add up to the dma-buf size",
	       "expected %lu got %llu", size, total);
	report(contiguous, "the sg table's DMA segments are contiguous", "expected one run got gaps in %u entries",
	       sgt->nents);
}

static void check_bytes(struct dma_buf *dmabuf)
{
	struct iosys_map m;
	unsigned long i, bad = size;
	u8 *p;
	int err;

	err = dma_buf_begin_cpu_access(dmabuf, DMA_BIDIRECTIONAL);
	report(!err, "dma_buf_begin_cpu_access", "expected 0 got %d", err);
	err = import_vmap(dmabuf, &m);
	report(!err && !m.is_iomem && m.vaddr, "dma_buf_vmap gives a kernel address", "expected 0 got %d", err);
	if (err || m.is_iomem || !m.vaddr)
		goto end;
	p = m.vaddr;
	for (i = 0; i < size; i++) {
		if (p[i] != pat(i, seed)) {
			bad = i;
			break;
		}
	}
	report(bad == size, "the bytes seen through the vmap are those user space wrote",
	       "expected 0x%02x at %lu got 0x%02x", bad < size ? pat(bad, seed) : 0, bad,
	       bad < size ? p[bad] : 0);
	if (wseed)
		for (i = 0; i < size; i++)
			p[i] = pat(i, wseed);
	import_vunmap(dmabuf, &m);
end:
	err = dma_buf_end_cpu_access(dmabuf, DMA_BIDIRECTIONAL);
	report(!err, "dma_buf_end_cpu_access", "expected 0 got %d", err);
}

static bool importer_needs_sync(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return dma_dev_need_sync(dev);
#else
	return true;
#endif
}

static void hold_release(void)
{
	if (held_sgt)
		import_unmap(held_attach, held_sgt);
	if (held_attach)
		dma_buf_detach(held_buf, held_attach);
	if (held_pdev)
		platform_device_unregister(held_pdev);
	if (held_buf)
		dma_buf_put(held_buf);
	held_sgt = NULL;
	held_attach = NULL;
	held_pdev = NULL;
	held_buf = NULL;
}

/* hold=1: attach and map, and keep both until the module goes. */
static void hold_init(void)
{
	struct dma_buf_attachment *attach;
	struct platform_device *pdev;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	int err;

	dmabuf = dma_buf_get(fd);
	report(!IS_ERR(dmabuf), "hold: dma_buf_get of the loading process's fd", "expected a dma-buf got %ld",
	       PTR_ERR_OR_ZERO(dmabuf));
	if (IS_ERR(dmabuf))
		return;
	held_buf = dmabuf;
	pdev = platform_device_register_simple("udmabuf_import_test", PLATFORM_DEVID_AUTO, NULL, 0);
	report(!IS_ERR(pdev), "hold: register a platform device", "got %ld", PTR_ERR_OR_ZERO(pdev));
	if (IS_ERR(pdev))
		goto fail;
	held_pdev = pdev;
	err = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	report(!err, "hold: the importer device takes a 64-bit DMA mask", "expected 0 got %d", err);
	attach = dma_buf_attach(dmabuf, &pdev->dev);
	report(!IS_ERR(attach), "hold: dma_buf_attach to the importer device", "expected an attachment got %ld",
	       PTR_ERR_OR_ZERO(attach));
	if (IS_ERR(attach))
		goto fail;
	held_attach = attach;
	sgt = import_map(attach);
	report(!IS_ERR_OR_NULL(sgt), "hold: dma_buf_map_attachment gives an sg table", "expected a table got %ld",
	       PTR_ERR_OR_ZERO(sgt));
	if (IS_ERR_OR_NULL(sgt))
		goto fail;
	held_sgt = sgt;
	pr_info(PFX "hold: dev=%s nents=%u need_sync=%d\n", dev_name(&pdev->dev), sgt->nents,
		importer_needs_sync(&pdev->dev));
	return;
fail:
	hold_release();
}

static int __init udmabuf_import_test_init(void)
{
	struct platform_device *pdev;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	int err;

	if (edu) {
		err = pci_register_driver(&edu_pci_driver);
		report(!err, "edu: register the PCI driver udmabuf_import_edu", "expected 0 got %d", err);
		if (err)
			edu = false;
		else
			stall_init();
		goto done;
	}
	if (hold) {
		hold_init();
		goto done;
	}
	dmabuf = dma_buf_get(fd);
	report(!IS_ERR(dmabuf), "dma_buf_get of the loading process's fd", "expected a dma-buf got %ld",
	       PTR_ERR_OR_ZERO(dmabuf));
	if (IS_ERR(dmabuf))
		goto done;
	report(dmabuf->size == size, "the dma-buf has the exported size", "expected %lu got %zu", size,
	       dmabuf->size);
	pdev = platform_device_register_simple("udmabuf_import_test", PLATFORM_DEVID_AUTO, NULL, 0);
	if (IS_ERR(pdev)) {
		report(false, "register a platform device", "got %ld", PTR_ERR(pdev));
		goto put;
	}
	err = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	report(!err, "the importer device takes a 64-bit DMA mask", "expected 0 got %d", err);
	attach = dma_buf_attach(dmabuf, &pdev->dev);
	report(!IS_ERR(attach), "dma_buf_attach to the importer device", "expected an attachment got %ld",
	       PTR_ERR_OR_ZERO(attach));
	if (IS_ERR(attach))
		goto unregister;
	sgt = import_map(attach);
	report(!IS_ERR_OR_NULL(sgt), "dma_buf_map_attachment gives an sg table", "expected a table got %ld",
	       PTR_ERR_OR_ZERO(sgt));
	if (!IS_ERR_OR_NULL(sgt)) {
		check_sgt(&pdev->dev, sgt);
		check_bytes(dmabuf);
		import_unmap(attach, sgt);
	}
	dma_buf_detach(dmabuf, attach);
unregister:
	platform_device_unregister(pdev);
put:
	dma_buf_put(dmabuf);
done:
	pr_info(PFX "done\n");
	return 0;
}

static void __exit udmabuf_import_test_exit(void)
{
	if (edu) {
		stall_exit();
		pci_unregister_driver(&edu_pci_driver);
	}
	hold_release();
}

module_init(udmabuf_import_test_init);
module_exit(udmabuf_import_test_exit);
MODULE_DESCRIPTION("u-dma-buf test: a kernel importer of its dma-buf exports");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_IMPORT_NS(DMA_BUF);
