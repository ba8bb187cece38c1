#!/bin/sh
# 93-threads: 8 threads for 30 s mix SET_SYNC (valid and invalid), GET_SYNC, the encoded
# sync ioctls, sync_for_cpu/sync_for_device through sysfs, read()/write(), mmap and EXPORT
# on one buffer (INTERFACE.md §12.5): GET_SYNC never shows a combination that was never
# set, every call gives the expected result, and the kernel reports nothing.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

SECONDS_=${U_DMA_BUF_THREADS_SECONDS:-30}
kmark
if must_load "insmod udmabuf0=256K for the threads test" udmabuf0=256K info_enable=0; then
	run_tap "$BIN/threads_test" udmabuf0 "$SECONDS_"
	must_unload "rmmod after the threads test"
fi
check_log_clean "no kernel warning (lockdep, BUG, WARNING) from the threads test"

finish
