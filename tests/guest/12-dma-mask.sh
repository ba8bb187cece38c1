#!/bin/sh
# 12-dma-mask: buffers under a narrow DMA mask lie below it.  Without CMA (amd64) a buffer
# comes from the page allocator and is replaced by pages with reference counts of their own
# (udmabuf_use_own_pages()), allocated in the same zone, which is wider than a 26-bit mask:
# they must be checked against the mask before they are mapped (the DMA API WARNs "DMA addr
# ... overflow" when they are not), and a buffer never lies beyond it.  Early in the boot,
# where the zone's free memory lies both below and above 64 MiB.  With CMA (arm64) the same
# requests take CMA or the page allocator.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mc() { "$BIN/mgr_cmd" "$@"; }

# RAM starts at 1 GiB on the ARM guests: nothing lies below a 26-bit mask there.
if [ "$ARCH" != amd64 ]; then
	skip "buffers under a 26-bit DMA mask" "no RAM below 64 MiB on $ARCH (it starts at 1 GiB)"
	finish
fi
if must_load "insmod for the DMA-mask checks" info_enable=0; then
	kmark
	# A kernel without ZONE_DMA (the debug kernel) reaches no memory with 26 bits.
	if [ "$(mc "w:create adv-mask-probe 4096 dma-mask=26\n")" != OK ] &&
		klog | grep -q 'no memory is reachable with a 26-bit DMA mask'; then
		skip "buffers under a 26-bit DMA mask" "this kernel reaches no memory with a 26-bit mask (no ZONE_DMA): $(klog | tail -n 1)"
		must_unload "rmmod after the DMA-mask checks"
		finish
	fi
	gone adv-mask-probe
	n=0 beyond='' made=0
	while [ $n -lt 100 ]; do
		if [ "$(mc "w:create adv-mask$n 256K dma-mask=26\n")" = OK ]; then
			made=$((made + 1))
			pa=$(attr "adv-mask$n" phys_addr)
			[ $((${pa:-0x4000000} + 262143)) -ge $((1 << 26)) ] && beyond="$beyond adv-mask$n@${pa:-none}"
		fi
		n=$((n + 1))
	done
	check_true "buffers of 256 KiB with dma-mask=26 are made (1..100)" "$made made" test "$made" -gt 0
	check "100 buffers of 256 KiB with dma-mask=26: none lies beyond 64 MiB" "" "$beyond"
	n=0
	while [ $n -lt 100 ]; do
		gone "adv-mask$n"
		n=$((n + 1))
	done
	check_log_clean "no DMA-API warning (DMA addr overflow) from buffers under a narrow mask"
	must_unload "rmmod after the DMA-mask checks"
fi

finish
