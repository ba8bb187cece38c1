#!/bin/sh
# 90-ioctl: the ten ioctls (INTERFACE.md §8, §13.1, §13.3, §13.6) against sysfs, every flag
# field, every invalid argument and EXPORT through the ioctl ABI, by ioctl_test for the
# guest's own ABI and its 32-bit ABI (i386 on amd64, armhf on arm64), on buffers made by
# parameters (several DMA masks and mmap modes) and by the manager.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

OF=0
[ -d /sys/firmware/devicetree/base ] && OF=1
# On armhf the guest's own ABI is the 32-bit one: the native runs are all there is.
case $ARCH in
amd64) ABI32=i386 ;;
armhf) ABI32= ;;
*) ABI32=armhf ;;
esac

# Can this kernel run the 32-bit build?  Without arguments it prints its usage and exits 2
# (a kernel without 32-bit support fails the exec, and the shell then reads the file as a
# script, which may also exit 2: the usage line tells them apart).
RUN32=
if [ -z "$ABI32" ]; then
	RUN32=native
elif [ ! -x "$BIN/32/ioctl_test" ]; then
	RUN32="no 32-bit build of ioctl_test (see the build lines)"
elif ! "$BIN/32/ioctl_test" 2>&1 | grep -q '^usage: ioctl_test'; then
	RUN32="this kernel cannot run $ABI32 programs (no 32-bit compat)"
fi

# both DEV32 DEV64 MASK MODE: ioctl_test on two fresh buffers of the same kind, one per ABI.
both() {
	run_tap "$BIN/ioctl_test" "$2" "$3" "$4" "$OF"
	if [ "$RUN32" = native ]; then
		return 0
	elif [ -z "$RUN32" ]; then
		run_tap "$BIN/32/ioctl_test" "$1" "$3" "$4" "$OF"
	else
		skip "$ABI32 ioctl_test on $1" "$RUN32"
	fi
}

mgr() {
	printf '%s\n' "$1" >/dev/u-dma-buf-mgr 2>/tmp/mgr.err
}

# --- parameter buffers, default DMA mask (32) and mmap mode (auto) ---------------------
kmark
if must_load "insmod udmabuf0..3 (64K, 5000 bytes), default dma_mask_bit and quirk_mmap_mode" \
	udmabuf0=64K udmabuf1=64K udmabuf2=5000 udmabuf3=5000 info_enable=0; then
	both udmabuf1 udmabuf0 32 3
	both udmabuf3 udmabuf2 32 3

	# --- manager buffers: each mode, other DMA masks --------------------------------
	for spec in "page 64K quirk-mmap-page dma-mask=40 4" "on 16K quirk-mmap-on dma-mask=64 2" \
		"auto 8K quirk-mmap-auto dma-mask=36 3" "off 16K quirk-mmap-off 1"; do
		# shellcheck disable=SC2086
		set -- $spec
		name=$1 size=$2 opt=$3
		if [ $# = 5 ]; then mask=${4#dma-mask=} opt="$3 $4" mode=$5; else mask=32 mode=$4; fi
		made=OK
		for abi in 64 32; do
			mgr "create mgr-$name-$abi $size $opt" || made="create mgr-$name-$abi: $(cat /tmp/mgr.err)"
		done
		if [ "$made" = OK ]; then
			ok "manager: create two buffers of $size with $opt"
			both "mgr-$name-32" "mgr-$name-64" "$mask" "$mode"
		else
			not_ok "manager: create two buffers of $size with $opt" "expected success got $made" \
				"log: $(klog | tail -n 3)"
		fi
		for abi in 64 32; do
			[ -e "/dev/mgr-$name-$abi" ] || continue
			mgr "delete mgr-$name-$abi" ||
				not_ok "manager: delete mgr-$name-$abi after ioctl_test (no export left behind)" \
					"expected success got $(cat /tmp/mgr.err)"
		done
	done
	must_unload "rmmod after ioctl_test on parameter and manager buffers (no dma-buf left behind)"
fi
check_log_clean "no kernel warning from the ioctls on default and manager buffers"

# --- parameter buffers with another DMA mask and each mmap mode --------------------------
for mode in 1 2 4; do
	mask=$((36 + mode * 4))
	kmark
	if must_load "insmod udmabuf0,1=16K dma_mask_bit=$mask quirk_mmap_mode=$mode" \
		udmabuf0=16K udmabuf1=16K dma_mask_bit=$mask quirk_mmap_mode=$mode info_enable=0; then
		both udmabuf1 udmabuf0 "$mask" "$mode"
		must_unload "rmmod after ioctl_test with quirk_mmap_mode=$mode (no dma-buf left behind)"
	fi
	check_log_clean "no kernel warning from the ioctls with dma_mask_bit=$mask quirk_mmap_mode=$mode"
done

finish
