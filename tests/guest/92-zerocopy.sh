#!/bin/sh
# 92-zerocopy: I/O that pins the pages of a mapping (INTERFACE.md §6): O_DIRECT write and
# read between a mapping and the scratch virtio disk, io_uring writes (plain and from a
# registered buffer) and vmsplice, data verified, in each mmap mode.  Modes on, auto and
# page map ordinary pages (CMA, or the page allocator split into pages): everything works.
# Mode off (dma_mmap_coherent) and memory without per-page reference counts (a buffer
# beyond the page allocator without CMA in lowmem) are page-frame mappings: EFAULT.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

BLK=/dev/vda
if [ ! -b $BLK ]; then
	skip "zero-copy I/O (O_DIRECT, io_uring, vmsplice) on buffer mappings" "no $BLK (the boot has no scratch disk)"
	finish
fi

mgr() {
	printf '%s\n' "$1" >/dev/u-dma-buf-mgr 2>/tmp/mgr.err
}

# expect MODE: what pinning a mapping of a 256 KiB buffer in MODE gives: ordinary pages,
# from CMA (works-cma: a long-term pin is a known limitation there) or from the page
# allocator (works) (lib.sh pages_for), except in mode off (coherent memory, page frames).
expect() {
	if ! pages_for 256 || [ "$1" = off ]; then
		echo EFAULT
	elif [ "$CMA_PAGES_KB" -gt 0 ]; then
		echo works-cma
	else
		echo works
	fi
}
diag "CmaTotal $(meminfo CmaTotal) kB, of it for ordinary pages $CMA_PAGES_KB kB, page allocator $BUDDY_MAX_KB kB: modes on, auto and page are expected to give $(expect page) here"

kmark
if must_load "insmod udmabuf0=256K (default mmap mode: auto)" udmabuf0=256K info_enable=0; then
	run_tap "$BIN/zerocopy_test" udmabuf0 $BLK "$(expect auto)" 0
	disk=1
	for mode in on auto page off; do
		if mgr "create zc-$mode 256K quirk-mmap-$mode"; then
			run_tap "$BIN/zerocopy_test" "zc-$mode" $BLK "$(expect $mode)" $((disk * 1048576))
			mgr "delete zc-$mode" ||
				not_ok "delete zc-$mode after the zero-copy I/O (no page left pinned)" \
					"expected success got $(cat /tmp/mgr.err)"
		else
			not_ok "manager: create zc-$mode 256K quirk-mmap-$mode" "expected success got $(cat /tmp/mgr.err)"
		fi
		disk=$((disk + 1))
	done
	must_unload "rmmod after the zero-copy I/O"
fi
check_log_clean "no kernel warning (bad page state, refcount) from zero-copy I/O on buffer mappings"

finish
