// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A module that reports how a virtual address is mapped, from the page tables
 * themselves: QEMU TCG models no caches, so only the page-table entries show
 * whether a mapping is cached or not (INTERFACE.md §5.1).
 *
 * Parameters (0600, root only):
 *   uaddr=<address>  a user address of the writing process: the write walks
 *                    current->mm's page tables (under mmap_read_lock) in the
 *                    writer's context and stores the result; a read returns it:
 *                    "addr=0x<a> level=<pgd|p4d|pud|pmd|pte> present=<0|1>
 *                     pfn=0x<pfn> type=<memory type> special=<0|1|->
 *                     vma=<pfnmap,mixedmap,io|-|none>"
 *                    (pfn, type and special only for a present entry).
 *   buffer=<name>    the kernel's own address of u-dma-buf buffer <name>
 *                    (u_dma_buf_device_search(), u_dma_buf_device_getmap()): the
 *                    write walks the kernel page tables and stores the result; a
 *                    read returns it:
 *                    "buffer=<name> region=<linear|vmalloc|other> level=<...>
 *                     present=<0|1> pfn=0x<pfn> type=<memory type>"
 *                    (no kernel address is shown).
 *
 * special=1 is a page-frame entry (remap_pfn_range(), vmf_insert_pfn()),
 * special=0 an ordinary refcounted page (vm_insert_page(s)); "-" for a huge
 * leaf, whose kind the kernel does not record on every version.
 *
 * Memory types: arm64, from the entry's AttrIndx: normal-wb (MT_NORMAL),
 * normal-wb-tagged (MT_NORMAL_TAGGED), normal-nc (MT_NORMAL_NC), and the two
 * Device types that pgprot_noncached() (device-nGnRnE) and pgprot_device()
 * (device-nGnRE) give;
 * x86, from the PWT/PCD/PAT bits (_PAGE_PAT_LARGE in a huge leaf): wb, uc-, uc,
 * wc, wt, wp.  Anything else is "unknown-0x<bits>".  A write that fails
 * (bad number, no such buffer) returns the error and stores "error=<errno>".
 */
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>

#ifdef CONFIG_ARM64
#include <asm/memory.h>
#include <asm/sysreg.h>
#endif

#include "u-dma-buf-funcs.h"

#define RESULT_MAX	256
#define NAME_MAX_LEN	64

/* One page-table walk: the deepest entry reached. */
struct pte_walk {
	const char *level;	/* the level of that entry */
	bool present;
	bool huge;		/* a leaf at pud or pmd level */
	unsigned long pfn;	/* of the address itself */
	u64 val;		/* the entry */
	int special;		/* 1, 0, or -1 when unknown */
};

/* Written under the module's kernel_param_lock (parameter set and get). */
static char uaddr_result[RESULT_MAX] = "none";
static char buffer_result[RESULT_MAX] = "none";

#ifdef CONFIG_X86
static const char *pte_memtype(u64 val, bool huge, char *tmp, size_t len)
{
	static const struct {
		enum page_cache_mode mode;
		const char *name;
	} modes[] = {
		{ _PAGE_CACHE_MODE_WB, "wb" },
		{ _PAGE_CACHE_MODE_UC_MINUS, "uc-" },
		{ _PAGE_CACHE_MODE_UC, "uc" },
		{ _PAGE_CACHE_MODE_WC, "wc" },
		{ _PAGE_CACHE_MODE_WT, "wt" },
		{ _PAGE_CACHE_MODE_WP, "wp" },
	};
	u64 bits = (huge ? protval_large_2_4k(val) : val) & _PAGE_CACHE_MASK;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if (bits == cachemode2protval(modes[i].mode))
			return modes[i].name;
	snprintf(tmp, len, "unknown-0x%llx", bits);
	return tmp;
}
#elif defined(CONFIG_ARM64)
static const char *pte_memtype(u64 val, bool huge, char *tmp, size_t len)
{
	/* Device memory: the AttrIndx that pgprot_noncached()/_device() set. */
	const struct {
		u64 attr;
		const char *name;
	} types[] = {
		{ PTE_ATTRINDX(MT_NORMAL), "normal-wb" },
		{ PTE_ATTRINDX(MT_NORMAL_TAGGED), "normal-wb-tagged" },
		{ PTE_ATTRINDX(MT_NORMAL_NC), "normal-nc" },
		{ pgprot_val(pgprot_noncached(__pgprot(0))) & PTE_ATTRINDX_MASK,
		  "device-nGnRnE" },
		{ pgprot_val(pgprot_device(__pgprot(0))) & PTE_ATTRINDX_MASK,
		  "device-nGnRE" },
	};
	/* AttrIndx has the same place in block (huge) and page entries. */
	u64 attr = val & PTE_ATTRINDX_MASK;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (attr == types[i].attr)
			return types[i].name;
	snprintf(tmp, len, "unknown-0x%llx", attr);
	return tmp;
}
#else
static const char *pte_memtype(u64 val, bool huge, char *tmp, size_t len)
{
	return "unsupported-arch";
}
#endif

/*
 * Walk the page tables from the top-level entry of @addr down to the leaf.
 * The caller keeps the tables alive: the mm's mmap lock for user addresses;
 * kernel tables of the linear map and vmalloc space are never freed under a
 * live allocation.
 */
#if defined(CONFIG_X86) || defined(CONFIG_ARM64)
static void pte_walk(pgd_t *pgdp, unsigned long addr, struct pte_walk *w)
{
	p4d_t *p4dp;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t pte;

	memset(w, 0, sizeof(*w));
	w->special = -1;
	w->level = "pgd";
	if (pgd_none(READ_ONCE(*pgdp)) || pgd_bad(READ_ONCE(*pgdp)))
		return;
	p4dp = p4d_offset(pgdp, addr);
	w->level = "p4d";
	if (p4d_none(READ_ONCE(*p4dp)) || p4d_bad(READ_ONCE(*p4dp)))
		return;
	pudp = pud_offset(p4dp, addr);
	pud = READ_ONCE(*pudp);
	w->level = "pud";
	if (pud_none(pud))
		return;
	if (pud_leaf(pud)) {
		w->present = pud_present(pud);
		w->huge = true;
		w->val = pud_val(pud);
		w->pfn = pud_pfn(pud) + ((addr & ~PUD_MASK) >> PAGE_SHIFT);
		return;
	}
	if (pud_bad(pud))
		return;
	pmdp = pmd_offset(pudp, addr);
	pmd = READ_ONCE(*pmdp);
	w->level = "pmd";
	if (pmd_none(pmd))
		return;
	if (pmd_leaf(pmd)) {
		w->present = pmd_present(pmd);
		w->huge = true;
		w->val = pmd_val(pmd);
		w->pfn = pmd_pfn(pmd) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
		return;
	}
	if (pmd_bad(pmd))
		return;
	pte = ptep_get(pte_offset_kernel(pmdp, addr));
	w->level = "pte";
	if (pte_none(pte))
		return;
	w->present = pte_present(pte);
	w->val = pte_val(pte);
	w->pfn = pte_pfn(pte);
	w->special = !!pte_special(pte);
}
#else
/* Other architectures' tables (32-bit ARM's two levels...) are not read. */
static void pte_walk(pgd_t *pgdp, unsigned long addr, struct pte_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->special = -1;
	w->level = "unsupported";
}
#endif

/* " present=1 pfn=0x.. type=.." or " present=0" */
static int pte_describe(char *buf, size_t len, const struct pte_walk *w)
{
	char tmp[32];

	if (!w->present)
		return scnprintf(buf, len, " level=%s present=0", w->level);
	return scnprintf(buf, len, " level=%s present=1 pfn=0x%lx type=%s",
			 w->level, w->pfn,
			 pte_memtype(w->val, w->huge, tmp, sizeof(tmp)));
}

static int uaddr_set(const char *val, const struct kernel_param *kp)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct pte_walk w;
	unsigned long addr;
	unsigned long flags = 0;
	bool have_vma;
	size_t n;
	int err;

	err = kstrtoul(val, 0, &addr);
	if (!err && !mm)
		err = -EINVAL;
	if (err) {
		snprintf(uaddr_result, sizeof(uaddr_result), "error=%d", err);
		return err;
	}
	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	have_vma = vma && vma->vm_start <= addr;
	if (have_vma)
		flags = vma->vm_flags;
	pte_walk(pgd_offset(mm, addr), addr, &w);
	mmap_read_unlock(mm);

	n = scnprintf(uaddr_result, sizeof(uaddr_result), "addr=0x%lx", addr);
	n += pte_describe(uaddr_result + n, sizeof(uaddr_result) - n, &w);
	if (w.present)
		n += scnprintf(uaddr_result + n, sizeof(uaddr_result) - n,
			       " special=%s", w.special < 0 ? "-" :
			       w.special ? "1" : "0");
	if (!have_vma)
		scnprintf(uaddr_result + n, sizeof(uaddr_result) - n,
			  " vma=none");
	else if (!(flags & (VM_PFNMAP | VM_MIXEDMAP | VM_IO)))
		scnprintf(uaddr_result + n, sizeof(uaddr_result) - n, " vma=-");
	else
		scnprintf(uaddr_result + n, sizeof(uaddr_result) - n,
			  " vma=%s%s%s%s%s",
			  flags & VM_PFNMAP ? "pfnmap" : "",
			  (flags & VM_PFNMAP) && (flags & (VM_MIXEDMAP | VM_IO)) ?
			  "," : "",
			  flags & VM_MIXEDMAP ? "mixedmap" : "",
			  (flags & VM_MIXEDMAP) && (flags & VM_IO) ? "," : "",
			  flags & VM_IO ? "io" : "");
	return 0;
}

static int uaddr_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", uaddr_result);
}

static const struct kernel_param_ops uaddr_param_ops = {
	.set = uaddr_set,
	.get = uaddr_get,
};

module_param_cb(uaddr, &uaddr_param_ops, NULL, 0600);
MODULE_PARM_DESC(uaddr, "user address of the writer to look up; read: the result");

/* The kernel's page tables, for walking a kernel address. */
#ifdef CONFIG_ARM64
static pgd_t *kernel_pgd(unsigned long addr)
{
	/*
	 * init_mm is not exported; TTBR1_EL1 holds the physical address of
	 * swapper_pg_dir.  The bits above 47 of a 52-bit table address would
	 * be folded into bits 5..2: not with the guests' RAM, all below 2^48.
	 */
	u64 ttbr = read_sysreg(ttbr1_el1) & ~TTBR_ASID_MASK & ~TTBR_CNP_BIT;

	return pgd_offset_pgd((pgd_t *)__va(ttbr & PAGE_MASK), addr);
}
#endif

static void kernel_walk(unsigned long addr, struct pte_walk *w)
{
#ifdef CONFIG_X86
	unsigned int level;
	pte_t *ptep = lookup_address(addr, &level);

	memset(w, 0, sizeof(*w));
	w->special = -1;
	w->level = level == PG_LEVEL_1G ? "pud" :
		   level == PG_LEVEL_2M ? "pmd" : "pte";
	if (!ptep || pte_none(*ptep))
		return;
	w->present = pte_present(*ptep);
	w->huge = level != PG_LEVEL_4K;
	w->val = pte_val(*ptep);
	w->pfn = ((pte_val(*ptep) & PTE_PFN_MASK & page_level_mask(level)) +
		  (addr & ~page_level_mask(level))) >> PAGE_SHIFT;
#elif defined(CONFIG_ARM64)
	pte_walk(kernel_pgd(addr), addr, w);
#else
	memset(w, 0, sizeof(*w));
	w->level = "unsupported-arch";
#endif
}

static int buffer_set(const char *val, const struct kernel_param *kp)
{
	char name[NAME_MAX_LEN];
	struct pte_walk w;
	struct device *dev;
	void *vaddr = NULL;
	const char *region;
	int err;
	size_t n;

	if (strscpy(name, val, sizeof(name)) < 0) {
		err = -EINVAL;
		goto fail;
	}
	strim(name);
	dev = u_dma_buf_device_search(name, -1);
	if (IS_ERR(dev)) {
		err = PTR_ERR(dev);
		goto fail;
	}
	err = u_dma_buf_device_getmap(dev, NULL, &vaddr, NULL);
	if (!err && !vaddr)
		err = -ENXIO;
	if (err)
		goto fail;
	if (is_vmalloc_addr(vaddr))
		region = "vmalloc";
	else if (virt_addr_valid(vaddr))
		region = "linear";
	else
		region = "other";
	kernel_walk((unsigned long)vaddr, &w);
	n = scnprintf(buffer_result, sizeof(buffer_result),
		      "buffer=%s region=%s", name, region);
	pte_describe(buffer_result + n, sizeof(buffer_result) - n, &w);
	return 0;

fail:
	snprintf(buffer_result, sizeof(buffer_result), "error=%d", err);
	return err;
}

static int buffer_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", buffer_result);
}

static const struct kernel_param_ops buffer_param_ops = {
	.set = buffer_set,
	.get = buffer_get,
};

module_param_cb(buffer, &buffer_param_ops, NULL, 0600);
MODULE_PARM_DESC(buffer, "u-dma-buf buffer whose kernel address to look up; read: the result");

MODULE_DESCRIPTION("u-dma-buf test: memory types of user mappings and kernel addresses");
MODULE_LICENSE("Dual BSD/GPL");
