# Booting a guest in QEMU.
# shellcheck shell=bash

# The guest's RAM; a job sets it from its label (guest_memory_of: 512M for armhf-6.1).
QEMU_MEMORY=1G
# A DMA master for the tests; the default 28-bit mask cannot reach arm64 RAM (at 1 GiB).
QEMU_DMA_MASTER=(-device "edu,dma_mask=0xffffffff")
KERNEL_ARGS="panic=-1 quiet log_buf_len=8M"
# Memory that Linux does not manage (INTERFACE.md §14): an ARM guest (virt: RAM at
# 0x40000000) gets PHYS_EXTRA_MB more RAM from QEMU than Linux uses (mem= on the command
# line), so [0x40000000 + QEMU_MEMORY, + PHYS_EXTRA_MB MiB) is memory outside System RAM;
# the guest learns it as PHYS_BASE/PHYS_SIZE (phys_range, tests/lib/initramfs.sh).  An
# amd64 guest gets a PCI ivshmem-plain device instead, whose 1 MiB memory BAR (backed by
# the host file PHYS_BACKING, seeded with PHYS_BACKING_SEED at PHYS_BACKING_SEED_OFFSET)
# plays a card's memory; tests/lib/collect.sh check_phys_backing reads the file afterwards.
PHYS_EXTRA_MB=16
PHYS_BACKING_SIZE=1M
PHYS_BACKING_SEED=u-dma-buf-ivshmem-seed
PHYS_BACKING_SEED_OFFSET=524288

# memory_mb SIZE: a QEMU -m size (512M, 1G) in MiB.
memory_mb() {
	case $1 in
	*G) echo $((${1%G} * 1024)) ;;
	*M) echo "${1%M}" ;;
	*) die "memory_mb: cannot read the memory size '$1'" ;;
	esac
}

# phys_range ARCH: "ADDRESS SIZE" (hex) of the guest's memory outside System RAM, or
# nothing where there is none (amd64: the guest finds the ivshmem BAR itself).
phys_range() {
	case $1 in
	arm64 | armhf)
		printf '0x%x 0x%x\n' $((0x40000000 + $(memory_mb "$QEMU_MEMORY") * 1048576)) \
			$((PHYS_EXTRA_MB * 1048576))
		;;
	esac
}

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
	local memory=$QEMU_MEMORY
	# ARM: PHYS_EXTRA_MB more, left to no one by the mem= of qemu_command.
	[[ $arch == amd64 ]] || memory=$(($(memory_mb "$QEMU_MEMORY") + PHYS_EXTRA_MB))M
	words+=(-m "$memory" -smp 1 -nographic -no-reboot -nic none "${QEMU_DMA_MASTER[@]}")
	for word in "${words[@]}"; do
		printf '%s\n' "$word"
	done
}

# qemu_command ARCH KERNEL INITRD PYROOT_DIR ACCEL [DTB]: the QEMU command line, one word
# a line.  DTB replaces the machine's own device tree (arm64, armhf).
qemu_command() {
	local arch=$1 kernel=$2 initrd=$3 pyroot=$4 accel=$5 dtb=${6:-} word
	local words=() mem backing
	mapfile -t words < <(qemu_machine "$arch" "$accel")
	mem="mem=$(memory_mb "$QEMU_MEMORY")M"
	case $arch in
	amd64) words+=(-append "console=ttyS0 $KERNEL_ARGS") ;;
	arm64) words+=(-append "console=ttyAMA0 cma=128M $mem $KERNEL_ARGS") ;;
	armhf) words+=(-append "console=ttyAMA0 cma=64M $mem $KERNEL_ARGS") ;;
	esac
	if [[ $arch == amd64 ]]; then
		# The "card's memory BAR" (PHYS_* above): a fresh seeded file at each boot.
		backing=${initrd%/*}/phys-backing.img
		truncate -s 0 "$backing"
		truncate -s "$PHYS_BACKING_SIZE" "$backing"
		printf '%s' "$PHYS_BACKING_SEED" |
			dd of="$backing" bs=1 seek="$PHYS_BACKING_SEED_OFFSET" conv=notrunc status=none
		words+=(-object "memory-backend-file,id=physmem,share=on,mem-path=$backing,size=$PHYS_BACKING_SIZE"
			-device "ivshmem-plain,memdev=physmem")
	fi
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
