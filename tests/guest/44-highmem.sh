#!/bin/sh
# 44-highmem: buffers larger than the page allocator gives, on a 32-bit kernel whose CMA
# area lies in highmem (issue 11).  dma_alloc_pages() cannot use highmem, so such a buffer
# is coherent memory (as mmap mode off) with one log line that says so, never a refusal
# while CMA is free; it works through write(), read() and a mapping, and gets no DMA-API
# sync (coherent memory needs none).  Skipped where the kernel has no highmem.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mc() { "$BIN/mgr_cmd" "$@"; }
HIGH_KB=$(meminfo HighTotal)
HIGH_KB=${HIGH_KB:-0}
CMA_KB=$(meminfo CmaTotal)
CMA_KB=${CMA_KB:-0}
if [ "$HIGH_KB" -eq 0 ]; then
	skip "buffers from CMA in highmem" "no highmem here (HighTotal ${HIGH_KB} kB)"
	exit 0
fi
if [ "$CMA_KB" -lt 65536 ]; then
	skip "buffers from CMA in highmem" "CmaTotal ${CMA_KB} kB: boot with cma=64M"
	exit 0
fi
if ! must_load "insmod with no buffer" info_enable=1; then
	finish
fi

# The default CMA area, from the boot log: "cma: Reserved 64 MiB at 0x7c000000".
# shellcheck disable=SC2046 # two words: base and size
set -- $(klog_since 0 | sed -n 's/.*cma: Reserved \([0-9]*\) MiB at \(0x[0-9a-f]*\).*/\2 \1/p' | head -n 1)
CMA_BASE=${1:-0} CMA_MB=${2:-0}
for mb in 16 48; do
	name=hm$mb
	kmark
	check "create $name ${mb}M with CMA in highmem (HighTotal $HIGH_KB kB, CMA $CMA_MB MiB at $CMA_BASE): made" \
		OK "$(mc "w:create $name $((mb << 20))\n")"
	[ -e "/dev/$name" ] || continue
	phys=$(attr $name phys_addr)
	check "$name: the memory ($phys) lies in the CMA area" yes \
		"$([ $((phys)) -ge $((CMA_BASE)) ] && [ $((phys + (mb << 20))) -le $((CMA_BASE + (CMA_MB << 20))) ] && echo yes || echo no)"
	n=$(klog | grep -c "u-dma-buf $name: no cached memory .*CMA in highmem.*coherent memory instead" || true)
	check "$name: one log line says it is coherent memory because CMA lies in highmem" 1 "$n"
	check "$name: quirk_mmap_mode reads 1 (off: coherent memory)" 1 "$(attr $name quirk_mmap_mode)"
	check "$name: pattern through write() read back through a mapping and back" OK \
		"$("$BIN/ut" pattern $name $mb)"
	if dma_probe_start; then
		dma_probe_read >/dev/null
		wr $name sync_for_device 1 >/dev/null
		wr $name sync_for_cpu 1 >/dev/null
		check "$name: sync_for_device and sync_for_cpu make no DMA-API sync (coherent memory)" "" \
			"$(dma_probe_read | grep " dev=$name " || true)"
		dma_probe_stop
	else
		skip "$name: no DMA-API sync for coherent memory" "$DMA_PROBE_WHY"
	fi
	check "delete $name" OK "$(mc "w:delete $name\n")"
done
check_log_clean "no kernel warning from the highmem buffers"
finish
