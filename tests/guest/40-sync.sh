#!/bin/sh
# 40-sync: sync_mode × O_SYNC — data through every access path after the documented
# syncs, and no SIGBUS on non-cached mappings (INTERFACE.md §4, §5, §12.8),
# under every mmap strategy (§6).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

for q in 3 1 2 4; do
	if must_load "insmod udmabuf0=256K quirk_mmap_mode=$q" udmabuf0=256K quirk_mmap_mode=$q info_enable=0; then
		run_tap "$BIN/syncpaths" udmabuf0 "quirk_mmap_mode=$q"
		must_unload "rmmod after the sync tests with quirk_mmap_mode=$q"
	fi
done

finish
