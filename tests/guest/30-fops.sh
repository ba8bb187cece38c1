#!/bin/sh
# 30-fops: the device node's file operations (INTERFACE.md §4, §12.2, §12.3, §13.10),
# under every mmap strategy, plus dd at the end of the buffer.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

# A size that is not a page multiple (20000: 5 pages, the last one partly used) and 1 MiB.
if must_load "insmod udmabuf0=20000 udmabuf1=1M" udmabuf0=20000 udmabuf1=1M info_enable=0; then
	run_tap "$BIN/fops" udmabuf0
	run_tap "$BIN/fops" udmabuf1

	# dd stops at the end with ENOSPC (coreutils and busybox both report it). A write
	# that returns 0 at the end (the established driver) makes dd loop: bounded.
	n=$(($(attr udmabuf1 size) / 4096))
	timeout 30 dd if=/dev/zero of=/dev/udmabuf1 bs=4096 count=$((n + 1)) 2>/tmp/dd.err
	st=$?
	if [ $st -ne 0 ] && grep -q "No space left on device" /tmp/dd.err && grep -q "^$n+0 records out" /tmp/dd.err; then
		ok "dd of one block more than the buffer writes $n blocks and fails with ENOSPC"
	else
		not_ok "dd of one block more than the buffer writes $n blocks and fails with ENOSPC" \
			"expected a non-zero exit, $n+0 records out and 'No space left on device' got exit $st:" \
			"$(cat /tmp/dd.err)"
	fi
	must_unload "rmmod after the fops tests"
fi

for q in 1 2 4; do
	if must_load "insmod udmabuf0=20000 quirk_mmap_mode=$q" udmabuf0=20000 quirk_mmap_mode=$q info_enable=0; then
		run_tap "$BIN/fops" udmabuf0 quirk_mmap_mode=$q
		must_unload "rmmod after the fops tests with quirk_mmap_mode=$q"
	fi
done

finish
