// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A module that uses every function u-dma-buf exports (INTERFACE.md §10b) when it is
 * loaded, and prints one kernel log line per check:
 *
 *   udmabuf_kapi_test: ok - <what>
 *   udmabuf_kapi_test: not ok - <what>: <expected ... got ...>
 *   udmabuf_kapi_test: ok - <what> # SKIP <why>
 *   udmabuf_kapi_test: done
 *
 * Init returns 0 whatever the results, so that the suite reads the lines.
 *
 * Parameters:
 *   pci=<address>   a PCI device to use as a parent (the QEMU edu device)
 *   keep=<name>     leave a buffer <name> (64 KiB) for user space until
 *   remove=<name>   (written at run time) searches <name> and removes it; logs
 *                   "udmabuf_kapi_test: remove <name>: <errno>"; the kept buffer is
 *                   removed through the pointer its create returned
 *                   On unload, the kept buffer is removed through that pointer too:
 *                   "udmabuf_kapi_test: exit remove: <errno>"
 *   recheck=1       (written at run time, after user space deleted the kept buffer)
 *                   checks that the creator's pointer names no buffer any more, not
 *                   even a new one of the same name; logs check lines and "recheck done"
 *   edu_driver=1    also registers a PCI driver "udmabuf_kapi_edu" for the QEMU edu
 *                   device (1234:11e8), as an FPGA driver would be: its probe creates
 *                   "kapi-edu" bound to the device, its remove removes it again and
 *                   logs "udmabuf_kapi_test: driver remove: <errno>"
 *   edu_mode=N      the mmap mode of kapi-edu (1 = off: coherent memory)
 *   keep_pci=1      the keep= buffer is created bound to the pci= parent
 *   keep_size=N     the size of the keep= buffer (default 64 KiB)
 *   touch=1         the kept buffer is filled with a pattern through getmap's address at
 *                   create, and probe=1 reads it back through that address
 *   probe=1         (written at run time) uses the creator's pointer to the kept buffer:
 *                   logs "udmabuf_kapi_test: probe: getmap=<errno> sync=<errno>
 *                   data=<ok|bad at N|unchecked>"
 *   checks=0        at load, skip the checks above (those of every function): only
 *                   what the other parameters ask for runs
 *   sync=<name> <cmd> <dir> <offset> <size>
 *                   (written at run time) searches <name> and calls
 *                   u_dma_buf_device_sync() with the four numbers; logs
 *                   "udmabuf_kapi_test: sync <name>: <errno>"
 *   noname=1        at load: u_dma_buf_device_create(NULL, -1, 1 MiB, 0, pci= parent),
 *                   named udmabuf<minor> (INTERFACE.md §10b), then removed; check lines
 *                   prefixed "noname: "
 *
 * A pointer is used after the remove that returned 0 for it never (the API does not
 * allow it); a pointer whose buffer user space deleted stays the creator's until its
 * remove returns -ENODEV.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "u-dma-buf-funcs.h"

#define PFX "udmabuf_kapi_test: "
#define SIZE (64 * 1024)
#define ID 200

static char *pci;
module_param(pci, charp, 0444);
MODULE_PARM_DESC(pci, "PCI address of a parent device for the bound-buffer checks");

static char *keep;
module_param(keep, charp, 0444);
MODULE_PARM_DESC(keep, "name of a buffer to leave for user space");

static bool edu_driver;
module_param(edu_driver, bool, 0444);
MODULE_PARM_DESC(edu_driver, "register a PCI driver for the QEMU edu device");

static int edu_mode;
module_param(edu_mode, int, 0444);
MODULE_PARM_DESC(edu_mode, "mmap mode of kapi-edu (0: the default, 1..4)");

static bool keep_pci;
module_param(keep_pci, bool, 0444);
MODULE_PARM_DESC(keep_pci, "create the keep= buffer bound to the pci= parent");

static ulong keep_size = SIZE;
module_param(keep_size, ulong, 0444);
MODULE_PARM_DESC(keep_size, "size of the keep= buffer in bytes");

static bool touch;
module_param(touch, bool, 0444);
MODULE_PARM_DESC(touch, "fill the kept buffer with a pattern; probe=1 reads it back");

static bool checks = true;
module_param(checks, bool, 0444);
MODULE_PARM_DESC(checks, "run the checks of every function at load (default 1)");

static bool noname;
module_param(noname, bool, 0444);
MODULE_PARM_DESC(noname, "check create(NULL, -1, 1 MiB, 0, pci= parent)");

/* The buffer made for keep=, until it is removed; its memory as getmap gave it. */
static struct device *keep_dev;
static u8 *keep_virt;
static size_t keep_len;

static int failures;
/* Prefix of the check names ("" or "<buffer>: "), so that repeated checks differ. */
static const char *prefix = "";

static void report(bool pass, const char *what, const char *fmt, ...)
{
	struct va_format vaf;
	va_list ap;

	if (pass) {
		pr_info(PFX "ok - %s%s\n", prefix, what);
		return;
	}
	failures++;
	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	pr_info(PFX "not ok - %s%s: %pV\n", prefix, what, &vaf);
	va_end(ap);
}

static long err_of(const struct device *dev)
{
	return IS_ERR(dev) ? PTR_ERR(dev) : 0;
}

static u8 pattern(size_t i)
{
	return (u8)(i * 7 + (i >> 12) + 1);
}

static int remove_param_set(const char *val, const struct kernel_param *kp)
{
	char name[64];
	struct device *dev;
	int err;

	strscpy(name, val, sizeof(name));
	strim(name);
	if (keep_dev && !strcmp(name, keep)) {
		err = u_dma_buf_device_remove(keep_dev);
		if (err != -EBUSY) {
			keep_dev = NULL;
			keep_virt = NULL;
		}
	} else {
		dev = u_dma_buf_device_search(name, -1);
		err = IS_ERR(dev) ? PTR_ERR(dev) : u_dma_buf_device_remove(dev);
	}
	pr_info(PFX "remove %s: %d\n", name, err);
	return 0;
}

static const struct kernel_param_ops remove_param_ops = {
	.set = remove_param_set,
};
module_param_cb(remove, &remove_param_ops, NULL, 0200);
MODULE_PARM_DESC(remove, "write a buffer name: search it and remove it");

static int sync_param_set(const char *val, const struct kernel_param *kp)
{
	char name[64];
	struct device *dev;
	int cmd, dir, err;
	long long size;
	u64 offset;

	if (sscanf(val, "%63s %d %d %llu %lld", name, &cmd, &dir, &offset, &size) != 5)
		return -EINVAL;
	dev = u_dma_buf_device_search(name, -1);
	err = IS_ERR(dev) ? PTR_ERR(dev) : u_dma_buf_device_sync(dev, cmd, dir, offset, size);
	pr_info(PFX "sync %s: %d\n", name, err);
	return 0;
}

static const struct kernel_param_ops sync_param_ops = {
	.set = sync_param_set,
};
module_param_cb(sync, &sync_param_ops, NULL, 0200);
MODULE_PARM_DESC(sync, "write \"<name> <cmd> <dir> <offset> <size>\": u_dma_buf_device_sync() of it");

/*
 * probe=1: what the creator of the kept buffer can still do through its pointer, and
 * whether the memory getmap gave it at create still holds what it wrote there: the
 * memory must stay the creator's until its remove (INTERFACE.md §13.16).
 */
static int probe_param_set(const char *val, const struct kernel_param *kp)
{
	size_t i, bad = keep_len;
	char data[32] = "unchecked";
	int gerr, serr;

	if (!keep_dev) {
		pr_info(PFX "probe: no kept buffer\n");
		return -ENODEV;
	}
	gerr = u_dma_buf_device_getmap(keep_dev, NULL, NULL, NULL);
	serr = u_dma_buf_device_sync(keep_dev, U_DMA_BUF_SYNC_FOR_CPU, 0, 0, 0);
	if (keep_virt) {
		for (i = 0; i < keep_len; i++) {
			if (keep_virt[i] != pattern(i)) {
				bad = i;
				break;
			}
		}
		if (bad == keep_len)
			strscpy(data, "ok", sizeof(data));
		else
			snprintf(data, sizeof(data), "bad at %zu", bad);
	}
	pr_info(PFX "probe: getmap=%d sync=%d data=%s\n", gerr, serr, data);
	return 0;
}

static const struct kernel_param_ops probe_param_ops = {
	.set = probe_param_set,
};
module_param_cb(probe, &probe_param_ops, NULL, 0200);
MODULE_PARM_DESC(probe, "write 1: use the creator's pointer to the kept buffer");

/* Memory through getmap's virtual address, and both syncs. */
static void check_memory(struct device *dev, const char *label)
{
	size_t size = 0, i, bad = SIZE;
	void *virt = NULL;
	dma_addr_t dma = 0;
	u8 *p;
	int err;

	err = u_dma_buf_device_getmap(dev, NULL, NULL, NULL);
	report(err == 0, "getmap with every output NULL", "expected 0 got %d", err);
	err = u_dma_buf_device_getmap(dev, &size, &virt, &dma);
	report(err == 0 && size == SIZE && virt,
	       label, "getmap: expected 0, size %u, an address; got %d, size %zu, %s",
	       SIZE, err, size, virt ? "an address" : "NULL");
	if (err || !virt)
		return;
	err = u_dma_buf_device_getmap(dev, &size, NULL, NULL);
	report(err == 0 && size == SIZE, "getmap with only the size", "expected 0 and %u got %d and %zu",
	       SIZE, err, size);
	p = virt;
	for (i = 0; i < size; i++)
		p[i] = pattern(i);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_DEVICE, 1, 0, size);
	report(err == 0, "sync for the device (to device, whole buffer)", "expected 0 got %d", err);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_CPU, 2, 0, size);
	report(err == 0, "sync for the CPU (from device, whole buffer)", "expected 0 got %d", err);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_DEVICE, 0, 4096, 8192);
	report(err == 0, "sync for the device of a part (offset 4096, 8192 bytes, bidirectional)",
	       "expected 0 got %d", err);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_CPU, 0, 4096, 8192);
	report(err == 0, "sync for the CPU of a part (offset 4096, 8192 bytes)", "expected 0 got %d", err);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_DEVICE, 1, size + 1, 1);
	report(err == -EINVAL, "sync with the offset past the end -> -EINVAL", "expected %d got %d",
	       -EINVAL, err);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_CPU, 2, 4096, size);
	report(err == -EINVAL, "sync with offset + size past the end -> -EINVAL", "expected %d got %d",
	       -EINVAL, err);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_CPU, 2, U64_MAX - 10, 4096);
	report(err == -EINVAL, "sync with an offset near 2^64 -> -EINVAL", "expected %d got %d",
	       -EINVAL, err);
	err = u_dma_buf_device_sync(dev, 3, 0, 0, size);
	report(err == -EINVAL, "sync with cmd 3 -> -EINVAL", "expected %d got %d", -EINVAL, err);
	err = u_dma_buf_device_sync(dev, U_DMA_BUF_SYNC_FOR_CPU, 0, 0, size);
	report(err == 0, "sync for the CPU after the refused ones", "expected 0 got %d", err);
	for (i = 0; i < size; i++) {
		if (p[i] != pattern(i)) {
			bad = i;
			break;
		}
	}
	report(bad == SIZE, "data written through getmap's address reads back after the syncs",
	       "expected the pattern got byte %zu = 0x%02x", bad, bad < size ? p[bad] : 0);
	memset(p, 0, size);
}

static void check_parent(void)
{
	struct device *parent, *dev, *found;
	dma_addr_t dma = 0;
	size_t size = 0;
	void *virt = NULL;
	int err;

	if (!pci || !*pci) {
		pr_info(PFX "ok - create with a PCI parent # SKIP no pci= parameter\n");
		return;
	}
	parent = bus_find_device_by_name(&pci_bus_type, NULL, pci);
	if (!parent) {
		report(false, "the pci= parent exists", "expected PCI device %s got none", pci);
		return;
	}
	dev = u_dma_buf_device_create("kapi-pci", -1, SIZE, 0, parent);
	report(!IS_ERR(dev), "create kapi-pci with the PCI parent", "expected a device got %ld",
	       err_of(dev));
	if (!IS_ERR(dev)) {
		report(dev->parent == parent, "kapi-pci's parent device is the PCI device",
		       "expected %s got %s", dev_name(parent),
		       dev->parent ? dev_name(dev->parent) : "none");
		found = u_dma_buf_device_search("kapi-pci", -1);
		report(found == dev, "search kapi-pci by name", "expected the device got %ld",
		       err_of(found));
		err = u_dma_buf_device_getmap(dev, &size, &virt, &dma);
		report(err == 0 && size == SIZE && virt && dma + SIZE - 1 <= dma_get_mask(parent),
		       "getmap of kapi-pci: memory the parent can reach (within its DMA mask)",
		       "got %d, size %zu, dma %pad, mask %llx", err, size, &dma,
		       dma_get_mask(parent));
		prefix = "kapi-pci: ";
		check_memory(dev, "getmap with every output: size, address");
		prefix = "";
		err = u_dma_buf_device_remove(dev);
		report(err == 0, "remove kapi-pci", "expected 0 got %d", err);
	}
	dev = u_dma_buf_device_create("kapi-pci2", -1, SIZE, U_DMA_BUF_OPTION_DMA_MASK(40), parent);
	if (IS_ERR(dev))
		pr_info(PFX "ok - create with a parent and a DMA mask is refused (%ld): the parent's mask rules\n",
			PTR_ERR(dev));
	else
		pr_info(PFX "ok - create with a parent and a DMA mask works (the option is ignored)\n");
	if (!IS_ERR(dev))
		u_dma_buf_device_remove(dev);
	put_device(parent);
}

/* The pci= parent with a reference held, or NULL (a failed check is reported). */
static struct device *pci_parent(void)
{
	struct device *parent;

	if (!pci || !*pci)
		return NULL;
	parent = bus_find_device_by_name(&pci_bus_type, NULL, pci);
	if (!parent)
		report(false, "the pci= parent exists", "expected PCI device %s got none", pci);
	return parent;
}

/*
 * noname=1: no name and any minor, bound to a parent: the kernel-doc promises
 * "udmabuf<id> (or an automatic name)" for a NULL name (issue 10, finding 12).
 */
static void check_noname(void)
{
	struct device *parent, *dev;
	char want[32];
	size_t size = 0;
	int err;

	prefix = "noname: ";
	parent = pci_parent();
	if (!parent) {
		pr_info(PFX "ok - %screate(NULL, -1, 1 MiB, 0, parent) # SKIP no pci= parent\n", prefix);
		prefix = "";
		return;
	}
	dev = u_dma_buf_device_create(NULL, -1, 1024 * 1024, 0, parent);
	report(!IS_ERR(dev), "u_dma_buf_device_create(NULL, -1, 1 MiB, 0, PCI parent) gives a buffer",
	       "expected a device got %ld", err_of(dev));
	if (!IS_ERR(dev)) {
		snprintf(want, sizeof(want), "udmabuf%d", MINOR(dev->devt));
		report(!strcmp(dev_name(dev), want), "the buffer is named udmabuf<its minor>",
		       "expected %s got %s", want, dev_name(dev));
		pr_info(PFX "# noname: the buffer is %s\n", dev_name(dev));
		report(dev->parent == parent, "its parent device is the PCI device", "expected %s got %s",
		       dev_name(parent), dev->parent ? dev_name(dev->parent) : "none");
		err = u_dma_buf_device_getmap(dev, &size, NULL, NULL);
		report(!err && size == 1024 * 1024, "getmap: 1 MiB", "expected 0 and %u got %d and %zu",
		       1024 * 1024, err, size);
		err = u_dma_buf_device_remove(dev);
		report(err == 0, "remove it", "expected 0 got %d", err);
	}
	put_device(parent);
	prefix = "";
}

/* keep=: the buffer left for user space (bound to pci= with keep_pci=1). */
static void create_keep(void)
{
	struct device *parent = NULL, *c;
	size_t i, size = 0;
	void *virt = NULL;
	int err;

	if (keep_pci) {
		parent = pci_parent();
		if (!parent)
			return;
	}
	c = u_dma_buf_device_create(keep, -1, keep_size, 0, parent);
	report(!IS_ERR(c), "create the buffer kept for user space", "expected a device got %ld",
	       err_of(c));
	if (parent)
		put_device(parent);
	if (IS_ERR(c))
		return;
	keep_dev = c;
	if (!touch)
		return;
	err = u_dma_buf_device_getmap(c, &size, &virt, NULL);
	report(!err && virt && size == keep_size, "getmap of the kept buffer",
	       "expected 0, an address, %lu got %d, %s, %zu", keep_size, err,
	       virt ? "an address" : "NULL", size);
	if (err || !virt)
		return;
	keep_virt = virt;
	keep_len = size;
	for (i = 0; i < size; i++)
		keep_virt[i] = pattern(i);
	err = u_dma_buf_device_sync(c, U_DMA_BUF_SYNC_FOR_DEVICE, 0, 0, 0);
	report(!err, "sync of the kept buffer for the device after the pattern", "expected 0 got %d", err);
}

/* The buffer a driver of the edu device creates for its device. */
static struct device *edu_buf;

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	edu_buf = u_dma_buf_device_create("kapi-edu", -1, SIZE,
					  U_DMA_BUF_OPTION_MMAP_MODE(edu_mode), &pdev->dev);
	report(!IS_ERR(edu_buf), "driver probe: create kapi-edu bound to the edu device",
	       "expected a device got %ld", err_of(edu_buf));
	if (IS_ERR(edu_buf)) {
		edu_buf = NULL;
		return 0;
	}
	report(edu_buf->parent == &pdev->dev, "driver probe: kapi-edu's parent is the edu device",
	       "got %s", edu_buf->parent ? dev_name(edu_buf->parent) : "none");
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	int err = -ENODEV;

	/* u-dma-buf removed it already when the driver was unbound: -ENODEV. */
	if (edu_buf)
		err = u_dma_buf_device_remove(edu_buf);
	pr_info(PFX "driver remove: %d\n", err);
	edu_buf = NULL;
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};

static struct pci_driver edu_pci_driver = {
	.name = "udmabuf_kapi_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};

/*
 * recheck=1, after user space deleted the kept buffer: the creator's pointer then names
 * nothing (-ENODEV everywhere), not even a new buffer of the same name made at once,
 * until its remove gives it back.
 */
static int recheck_param_set(const char *val, const struct kernel_param *kp)
{
	struct device *old = keep_dev, *new, *found;
	size_t size = 0;
	int err;

	if (!old) {
		pr_info(PFX "recheck: no kept buffer\n");
		return -ENODEV;
	}
	prefix = "recheck: ";
	found = u_dma_buf_device_search(keep, -1);
	report(PTR_ERR_OR_ZERO(found) == -ENODEV, "search of the deleted buffer -> -ENODEV",
	       "expected %d got %ld", -ENODEV, err_of(found));
	err = u_dma_buf_device_getmap(old, &size, NULL, NULL);
	report(err == -ENODEV, "getmap through the creator's pointer to the deleted buffer -> -ENODEV",
	       "expected %d got %d", -ENODEV, err);
	err = u_dma_buf_device_sync(old, U_DMA_BUF_SYNC_FOR_CPU, 0, 0, 4096);
	report(err == -ENODEV, "sync through the creator's pointer to the deleted buffer -> -ENODEV",
	       "expected %d got %d", -ENODEV, err);
	new = u_dma_buf_device_create(keep, -1, SIZE, 0, NULL);
	report(!IS_ERR(new) && new != old,
	       "its name can be created again at once, as another device than the creator holds",
	       "expected a new device got %ld", err_of(new));
	err = u_dma_buf_device_remove(old);
	report(err == -ENODEV, "remove through the pointer to the deleted buffer -> -ENODEV",
	       "expected %d got %d", -ENODEV, err);
	keep_dev = NULL;
	keep_virt = NULL;
	if (!IS_ERR(new)) {
		found = u_dma_buf_device_search(keep, -1);
		report(found == new, "the new buffer of that name is left alone by that remove",
		       "expected the new device got %ld", err_of(found));
		err = u_dma_buf_device_remove(new);
		report(err == 0, "remove the new buffer", "expected 0 got %d", err);
	}
	prefix = "";
	pr_info(PFX "recheck done\n");
	return 0;
}

static const struct kernel_param_ops recheck_param_ops = {
	.set = recheck_param_set,
};
module_param_cb(recheck, &recheck_param_ops, NULL, 0200);
MODULE_PARM_DESC(recheck, "write 1 after user space deleted the kept buffer");

static int __init kapi_test_init(void)
{
	struct device *a, *b, *c, *found;
	dma_addr_t dma = 0;
	size_t size = 0;
	void *virt = NULL;
	int err, minor;

	if (!checks)
		goto extra;
	/* create without a parent */
	a = u_dma_buf_device_create("kapi0", -1, SIZE, 0, NULL);
	report(!IS_ERR(a), "create kapi0 (any minor, no parent)", "expected a device got %ld",
	       err_of(a));
	if (IS_ERR(a))
		goto parent;
	report(!strcmp(dev_name(a), "kapi0"), "kapi0's device is named kapi0", "got %s",
	       dev_name(a));
	minor = MINOR(a->devt);

	b = u_dma_buf_device_create(NULL, ID, 2 * SIZE,
				    U_DMA_BUF_OPTION_DMA_MASK(32) | U_DMA_BUF_OPTION_MMAP_MODE(2), NULL);
	report(!IS_ERR(b), "create with no name, minor 200, DMA mask 32, mmap mode 2",
	       "expected a device got %ld", err_of(b));
	if (!IS_ERR(b)) {
		report(!strcmp(dev_name(b), "udmabuf200") && MINOR(b->devt) == ID,
		       "the unnamed buffer is udmabuf200 with minor 200", "got %s minor %d",
		       dev_name(b), MINOR(b->devt));
		err = u_dma_buf_device_getmap(b, &size, &virt, &dma);
		report(err == 0 && size == 2 * SIZE && dma + size - 1 <= DMA_BIT_MASK(32),
		       "udmabuf200 (DMA mask 32) lies below 4 GiB", "got %d, size %zu, dma %pad",
		       err, size, &dma);
	}
	c = u_dma_buf_device_create("kapi0", -1, SIZE, 0, NULL);
	report(PTR_ERR_OR_ZERO(c) == -EEXIST, "create of an existing name -> -EEXIST",
	       "expected %d got %ld", -EEXIST, err_of(c));
	c = u_dma_buf_device_create("kapi-dup-minor", ID, SIZE, 0, NULL);
	report(IS_ERR(c), "create with a minor in use fails", "expected an error got %s",
	       IS_ERR(c) ? "" : dev_name(c));
	if (IS_ERR(c))
		pr_info(PFX "# create with minor 200 in use: %ld\n", PTR_ERR(c));
	c = u_dma_buf_device_create("kapi/slash", -1, SIZE, 0, NULL);
	report(PTR_ERR_OR_ZERO(c) == -EINVAL, "create of a name with '/' -> -EINVAL",
	       "expected %d got %ld", -EINVAL, err_of(c));
	c = u_dma_buf_device_create("kapi-zero", -1, 0, 0, NULL);
	report(PTR_ERR_OR_ZERO(c) == -EINVAL, "create of size 0 -> -EINVAL", "expected %d got %ld",
	       -EINVAL, err_of(c));
	c = u_dma_buf_device_create("kapi-mask", -1, SIZE, U_DMA_BUF_OPTION_DMA_MASK(11), NULL);
	report(PTR_ERR_OR_ZERO(c) == -EINVAL, "create with DMA mask 11 -> -EINVAL",
	       "expected %d got %ld", -EINVAL, err_of(c));
	if (!IS_ERR(c))
		u_dma_buf_device_remove(c);
	c = u_dma_buf_device_create("kapi-id", 256, SIZE, 0, NULL);
	report(IS_ERR(c), "create with minor 256 fails", "expected an error got %s",
	       IS_ERR(c) ? "" : dev_name(c));
	if (!IS_ERR(c))
		u_dma_buf_device_remove(c);

	/* search */
	found = u_dma_buf_device_search("kapi0", -1);
	report(found == a, "search kapi0 by name", "expected the device got %ld", err_of(found));
	found = u_dma_buf_device_search(NULL, minor);
	report(found == a, "search kapi0 by its minor", "expected the device got %ld",
	       err_of(found));
	found = u_dma_buf_device_search("kapi0", minor);
	report(found == a, "search kapi0 by name and minor", "expected the device got %ld",
	       err_of(found));
	found = u_dma_buf_device_search("kapi0", ID);
	report(PTR_ERR_OR_ZERO(found) == -ENODEV, "search by name with another buffer's minor -> -ENODEV",
	       "expected %d got %ld", -ENODEV, err_of(found));
	found = u_dma_buf_device_search("kapi-nosuch", -1);
	report(PTR_ERR_OR_ZERO(found) == -ENODEV, "search of an unknown name -> -ENODEV",
	       "expected %d got %ld", -ENODEV, err_of(found));
	found = u_dma_buf_device_search(NULL, 255);
	report(PTR_ERR_OR_ZERO(found) == -ENODEV, "search of an unused minor -> -ENODEV",
	       "expected %d got %ld", -ENODEV, err_of(found));

	/* getmap, memory, sync */
	prefix = "kapi0: ";
	check_memory(a, "getmap with every output: size, address");
	prefix = "";

	/* remove */
	err = u_dma_buf_device_remove(a);
	report(err == 0, "remove kapi0", "expected 0 got %d", err);
	found = u_dma_buf_device_search("kapi0", -1);
	report(PTR_ERR_OR_ZERO(found) == -ENODEV, "search of the removed kapi0 -> -ENODEV",
	       "expected %d got %ld", -ENODEV, err_of(found));
	a = u_dma_buf_device_create("kapi0", -1, SIZE, 0, NULL);
	report(!IS_ERR(a), "the name kapi0 can be created again at once", "expected a device got %ld",
	       err_of(a));
	if (!IS_ERR(a)) {
		err = u_dma_buf_device_remove(a);
		report(err == 0, "remove the new kapi0", "expected 0 got %d", err);
	}
	if (!IS_ERR(b)) {
		err = u_dma_buf_device_remove(b);
		report(err == 0, "remove udmabuf200", "expected 0 got %d", err);
	}
parent:
	check_parent();
extra:
	if (noname)
		check_noname();
	if (keep && *keep)
		create_keep();
	if (edu_driver) {
		err = pci_register_driver(&edu_pci_driver);
		report(err == 0, "register the edu PCI driver", "expected 0 got %d", err);
		if (err)
			edu_driver = false;
	}
	pr_info(PFX "done: %d failed\n", failures);
	return 0;
}

static void __exit kapi_test_exit(void)
{
	if (edu_driver)
		pci_unregister_driver(&edu_pci_driver);
	if (keep_dev) {
		keep_virt = NULL;
		pr_info(PFX "exit remove: %d\n", u_dma_buf_device_remove(keep_dev));
	}
}

module_init(kapi_test_init);
module_exit(kapi_test_exit);
MODULE_DESCRIPTION("Checks of the u-dma-buf in-kernel API");
MODULE_LICENSE("Dual BSD/GPL");
