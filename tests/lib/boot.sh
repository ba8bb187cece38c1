# Booting a guest in QEMU.
# shellcheck shell=bash

# The guest's RAM; a job sets it from its label (guest_memory_of: 512M for armhf-6.1).
QEMU_MEMORY=1G
# A DMA master for the tests; the default 28-bit mask cannot reach arm64 RAM (at 1 GiB).
QEMU_DMA_MASTER=(-device "edu,dma_mask=0xffffffff")
KERNEL_ARGS="panic=-1 quiet log_buf_len=8M"

# qemu_machine ARCH ACCEL: the words that define the guest machine (and so its device
# tree), one a line: the same for a boot and for the -machine dumpdtb of tests/lib/dt.sh.
qemu_machine() {
	local arch=$1 accel=$2 words=() word
	case $arch in
	amd64)
		words=(qemu-system-x86_64 -accel "$accel")
		[[ $accel == kvm ]] && words+=(-cpu host)
		;;
	arm64)
		words=(qemu-system-aarch64 -M virt -cpu cortex-a53 -accel tcg)
		;;
	armhf)
		# highmem=off: no PCI window (or redistributor) above 4 GiB, where Debian's
		# armmp kernel (no LPAE: 32-bit physical addresses) could not reach it; all
		# of the PCI MMIO, the edu device's BAR with it, is then below 4 GiB.
		words=(qemu-system-arm -M "virt,highmem=off" -cpu cortex-a15 -accel tcg)
		;;
	*) die "qemu_machine: unknown architecture '$arch'" ;;
	esac
	words+=(-m "$QEMU_MEMORY" -smp 1 -nographic -no-reboot -nic none "${QEMU_DMA_MASTER[@]}")
	for word in "${words[@]}"; do
		printf '%s\n' "$word"
	done
}

# qemu_command ARCH KERNEL INITRD PYROOT_DIR ACCEL [DTB]: the QEMU command line, one word
# a line.  DTB replaces the machine's own device tree (arm64, armhf).
qemu_command() {
	local arch=$1 kernel=$2 initrd=$3 pyroot=$4 accel=$5 dtb=${6:-} word
	local words=()
	mapfile -t words < <(qemu_machine "$arch" "$accel")
	case $arch in
	amd64) words+=(-append "console=ttyS0 $KERNEL_ARGS") ;;
	arm64) words+=(-append "console=ttyAMA0 cma=128M $KERNEL_ARGS") ;;
	armhf) words+=(-append "console=ttyAMA0 cma=64M $KERNEL_ARGS") ;;
	esac
	words+=(-kernel "$kernel" -initrd "$initrd")
	[[ -z $dtb ]] || words+=(-dtb "$dtb")
	# A scratch disk for the zero-copy tests: /dev/vda in the guest, empty at each boot.
	truncate -s 0 "${initrd%/*}/disk.img"
	truncate -s 64M "${initrd%/*}/disk.img"
	words+=(-drive "file=${initrd%/*}/disk.img,format=raw,if=virtio")
	if [[ -n $pyroot ]]; then
		words+=(-virtfs "local,path=$pyroot,mount_tag=pyroot,security_model=none,readonly=on,multidevs=remap")
	fi
	for word in "${words[@]}"; do
		printf '%s\n' "$word"
	done
}

# boot_guest LOG TIME_LIMIT QEMU_WORDS...: runs QEMU with the serial console in LOG, and
# sets BOOT_RC (124 when the time limit ended it) and BOOT_SECONDS.
# shellcheck disable=SC2034
boot_guest() {
	local log=$1 limit=$2 start
	shift 2
	start=$(now)
	echo "${*@Q}" >"$log.cmd"
	set +e
	timeout -k 10 "$limit" "$@" </dev/null >"$log" 2>&1 &
	BOOT_PID=$!
	wait "$BOOT_PID"
	BOOT_RC=$?
	set -e
	BOOT_PID=
	BOOT_SECONDS=$(seconds_since "$start")
}

# stop_boot: ends a running boot (the job was interrupted).
stop_boot() {
	[[ -z ${BOOT_PID:-} ]] || kill -TERM "$BOOT_PID" 2>/dev/null || true
}

# kvm_usable: /dev/kvm exists and can be opened.
kvm_usable() {
	[[ -c /dev/kvm ]] && { : <>/dev/kvm; } 2>/dev/null
}
