#!/bin/sh
# 43-memtype: the memory type of every user mapping, read from the page tables (issue 17).
# QEMU TCG models no caches, so data read back cannot tell a cached mapping from an
# uncached one; tests/kmod/udmabuf_pte_test walks this process's page tables and reports
# the entry's memory type, whether it maps an ordinary page or a page frame, and the vma's
# flags ($BIN/memtype sums that up over every page of a mapping).  Checked for each mmap
# mode x sync_mode 0..7 x O_SYNC (INTERFACE.md §5.1, §6), the dma-buf mapping of an export
# with and without O_SYNC (§8, §9), and the kernel's own address of each buffer (§12.10).
#
# The expected memory type (INTERFACE.md §5.1; §12.8 for arm64; the module's
# udmabuf_arch_flavour() for x86, where PAT keeps RAM write-back whatever a mapping asks):
#
#   flavour (§5.1)       | arm64      | amd64
#   ---------------------+------------+------
#   cached               | normal-wb  | wb
#   non-cached (1, 5)    | normal-nc  | wb
#   write-combine (2, 6) | normal-nc  | wb
#   DMA-coherent (3, 7)  | normal-nc  | wb
#
#   flavour: sync_mode bit 2 or O_SYNC asks for the flavour of bits 1..0 (0 = cached);
#   neither: cached.  An export: O_SYNC in its flags = non-cached, else cached.
#   Mode off (coherent memory, dma_mmap_coherent) on a device that is not DMA-coherent
#   (sysfs dma_coherent 0): the DMA API's uncached mapping (normal-nc on arm64) whatever
#   was asked; on a coherent device the flavour above.
#
# The expected kind (§6): mode off maps through dma_mmap_coherent(), page frames here
# (remap_pfn_range: kind=pfn, vma=pfnmap,io; no IOMMU in these guests).  Every other mode,
# "auto" included ("zero-copy I/O works by default"), maps ordinary pages (each page
# refcounted: kind=page, vma=mixedmap): from CMA, or from the page allocator split into
# pages (lib.sh pages_for).  Page i always
# maps frame phys_addr/4096 + i (no IOMMU: the DMA address is the physical one, §12.7).
#
# The kernel's own address: linear map, cached (arm64: normal-wb or, in a kernel with MTE
# support, normal-wb-tagged), for memory with pages (read()/write() go
# through it, §12.10); mode off on a non-coherent device: the DMA API's uncached remap in
# vmalloc space (arm64 cannot change its linear map), else the linear map, cached.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

KMOD=${KMOD:-/t/kmod}
KO=$KMOD/udmabuf_pte_test.ko
PTE=udmabuf_pte_test
SIZE=16384
mc() { "$BIN/mgr_cmd" "$@"; }
mt() { "$BIN/memtype" "$@"; }

case $ARCH in
arm64) CACHED=normal-wb UNCACHED=normal-nc KCACHED='normal-wb(-tagged)?' ;;
amd64) CACHED=wb UNCACHED=wb KCACHED=wb ;;
*)
	skip "memory types of the mappings" "no expectation table for ARCH=$ARCH"
	finish
	;;
esac

if [ ! -e "$KO" ]; then
	skip "memory types of the mappings" "no $KO in this guest (the harness builds tests/kmod/*/ into \$KMOD)"
	finish
fi
must_load "insmod with no buffer" info_enable=0 || finish
r=$("$BIN/modctl" load "$KO")
if [ "$r" != OK ]; then
	not_ok "insmod $PTE" "expected OK got $r" "log: $(klog | tail -n 5)"
	must_unload rmmod
	finish
fi
ok "insmod $PTE"

# flavour_name SYNC_MODE O_SYNC: cached, non-cached, write-combine or DMA-coherent
flavour_name() {
	if [ $(($1 & 3)) -eq 0 ] || { [ "$2" = 0 ] && [ $(($1 & 4)) -eq 0 ]; }; then
		echo cached
		return
	fi
	case $(($1 & 3)) in
	1) echo non-cached ;;
	2) echo write-combine ;;
	3) echo DMA-coherent ;;
	esac
}
# type_of FLAVOUR MODE COHERENT: the memory type the table above gives
type_of() {
	if [ "$2" = off ] && [ "$3" = 0 ]; then
		echo "$UNCACHED"
	elif [ "$1" = cached ]; then
		echo "$CACHED"
	else
		echo "$UNCACHED"
	fi
}
# kind_of MODE: "kind=... vma=..." that §6 gives
kind_of() {
	if [ "$1" != off ] && pages_for $((SIZE >> 10)); then
		echo "kind=page vma=mixedmap"
	else
		echo "kind=pfn vma=pfnmap,io"
	fi
}
# kind_words MODE: the same in words, for the names of the checks
kind_words() {
	case $(kind_of "$1") in
	kind=page*) echo "ordinary pages" ;;
	*) echo "page frames" ;;
	esac
}

for mode in off on auto page; do
	b=mt-$mode
	r=$(mc "w:create $b $SIZE quirk-mmap-$mode\n")
	if [ "$r" != OK ]; then
		not_ok "create $b $SIZE quirk-mmap-$mode" "expected OK got $r" "log: $(klog | tail -n 3)"
		continue
	fi
	coh=$(attr "$b" dma_coherent)
	diag "$b: dma_coherent=$coh CmaTotal=$(meminfo CmaTotal) kB"
	kind=$(kind_of $mode)
	words=$(kind_words $mode)
	for sm in 0 1 2 3 4 5 6 7; do
		wr "$b" sync_mode $sm >/dev/null
		for os in 0 1; do
			fl=$(flavour_name $sm $os)
			ty=$(type_of "$fl" $mode "$coh")
			osw=without
			[ $os = 1 ] && osw=with
			check "mode $mode (dma_coherent=$coh), sync_mode $sm, open $osw O_SYNC (asks $fl): every page is $ty, $words of phys_addr" \
				"type=$ty $kind pfns=phys" "$(mt node "$b" $os)"
		done
	done

	# The dma-buf mapping of an export: O_SYNC in the export's flags asks for non-cached.
	wr "$b" sync_mode 1 >/dev/null
	for os in 0 1; do
		fl=cached
		osw=without
		[ $os = 1 ] && fl=non-cached osw=with
		ty=$(type_of $fl $mode "$coh")
		check "mode $mode (dma_coherent=$coh): mmap of an export $osw O_SYNC (asks $fl): every page is $ty, $words of phys_addr" \
			"type=$ty $kind pfns=phys" "$(mt export "$b" $os)"
	done

	# The kernel's own address of the buffer.
	# (the linear map of an arm64 kernel with MTE support is MT_NORMAL_TAGGED: write-back
	# Normal memory too, tagged only where the CPU has MTE)
	if [ $mode = off ] && [ "$coh" = 0 ]; then
		reg=vmalloc ty=$UNCACHED what="an uncached remap in vmalloc space"
	else
		reg=linear ty=$KCACHED what="the linear map, cached"
	fi
	check_match "mode $mode (dma_coherent=$coh): the kernel's address of the buffer is $what ($ty)" \
		"region=$reg type=$ty" "$(mt kernel "$b")"

	check "delete $b" OK "$(mc "w:delete $b\n")"
done

check "rmmod $PTE" OK "$("$BIN/modctl" unload $PTE)"
check_log_clean "no kernel warning from the mappings and the page-table walks"
must_unload rmmod
finish
