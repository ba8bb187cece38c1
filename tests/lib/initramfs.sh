# The guest's initramfs: busybox, /init (guest-init.sh), the modules the 9p root needs,
# and /t as tests/README.md describes it.
# shellcheck shell=bash

# What PYROOT needs besides what each kernel has built in (research table: virtio and
# virtio_pci are built in on 6.12, modules on 6.1), and virtio_blk for the scratch disk
# (loaded with them when the kernel has it: a kernel without it boots without /dev/vda;
# a boot without PYROOT gets virtio_pci and virtio_blk alone).
PYROOT_MODULES=(virtio_pci 9pnet_virtio 9p overlay)
PYROOT_OPTIONAL_MODULES=(virtio_blk)

# module_file MODDIR NAME: the file of module NAME (- and _ are the same in module names).
module_file() {
	local moddir=$1 name=$2 file
	file=$(find "$moddir/kernel" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) -print -quit)
	[[ -n $file ]] || die "module $name is neither built into the kernel nor in $moddir"
	echo "$file"
}

# module_available MODDIR NAME: built in or a module file.
module_available() {
	module_builtin "$1" "$2" ||
		[[ -n $(find "$1/kernel" \( -name "$2.ko*" -o -name "${2//_/-}.ko*" \) -print -quit 2>/dev/null) ]]
}

module_builtin() {
	grep -qE "/(${2//_/[-_]})\.ko\$" "$1/modules.builtin"
}

# modules_in_load_order MODDIR NAME...: NAME and what it depends on, dependencies first,
# without the modules that are built in.
modules_in_load_order() {
	local moddir=$1 name
	shift
	local -A seen=()
	local order=()
	for name in "$@"; do
		add_module_with_dependencies "$moddir" "$name"
	done
	((${#order[@]} == 0)) || printf '%s\n' "${order[@]}"
}

# add_module_with_dependencies MODDIR NAME: appends NAME's dependencies, then NAME, to the
# caller's `order`, once each (the caller's `seen` remembers them).
add_module_with_dependencies() {
	local moddir=$1 name=$2 deps dep
	[[ -z ${seen[$name]:-} ]] || return 0
	seen[$name]=1
	module_builtin "$moddir" "$name" && return 0
	deps=$(modinfo -F depends "$(module_file "$moddir" "$name")")
	for dep in ${deps//,/ }; do
		add_module_with_dependencies "$moddir" "$dep"
	done
	order+=("$name")
}

# unpack_module FILE OUT: busybox insmod reads only uncompressed modules.
unpack_module() {
	case $1 in
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# make_initramfs OUT ARCH SERIES RELEASE KO BINDIR PYROOT_TAG SUITE_TIMEOUT SUITE...
# SUITE is a file name in $GUEST_DIR without .sh; PYROOT_TAG is empty for no PYROOT.
# Optional settings from the environment:
#   INITRAMFS_MODDIR    the kernel's /lib/modules/<release> (default: the Debian kernel's)
#   INITRAMFS_KMODS     a directory whose *.ko go to /t/kmod (KMOD in the guest)
#   INITRAMFS_DT        1 for a device-tree boot (DT=1 in the guest)
#   INITRAMFS_KMEMLEAK  1: after the last suite the guest prints a kmemleak scan
#   INITRAMFS_PHYS      "ADDRESS SIZE" of memory outside System RAM (boot.sh phys_range):
#                       PHYS_BASE and PHYS_SIZE in the guest (empty without it)
make_initramfs() {
	local out=$1 arch=$2 series=$3 krel=$4 ko=$5 bindir=$6 pyroot_tag=$7 suite_timeout=$8
	shift 8
	local stage=$out.d moddir name phys_base="" phys_size=""
	read -r phys_base phys_size <<<"${INITRAMFS_PHYS:-}" || true
	moddir=${INITRAMFS_MODDIR:-$(kernel_modules "$arch" "$krel")}
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,dev,proc,sys,tmp,lib/modules/harness,t/bin,t/guest,t/kmod}
	if [[ -n ${INITRAMFS_KMODS:-} ]]; then
		find "$INITRAMFS_KMODS" -maxdepth 1 -name '*.ko' -exec cp {} "$stage/t/kmod/" \;
	fi
	cp "$(busybox_for "$arch")" "$stage/bin/busybox"
	cp "$HARNESS_LIB/guest-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	mknod -m 600 "$stage/dev/console" c 5 1
	cp "$ko" "$stage/t/u-dma-buf.ko"
	cp -a "$bindir"/. "$stage/t/bin/"
	cp -a "$GUEST_DIR"/. "$stage/t/guest/"
	# The user-space side (the Python package and the examples) for the userspace suite.
	local extra
	for extra in python examples; do
		if [[ -d $REPO_TOP/$extra ]]; then cp -a "$REPO_TOP/$extra" "$stage/t/$extra"; fi
	done
	if [[ -n $pyroot_tag ]]; then
		local wanted=("${PYROOT_MODULES[@]}")
		for name in "${PYROOT_OPTIONAL_MODULES[@]}"; do
			module_available "$moddir" "$name" && wanted+=("$name")
		done
		modules_in_load_order "$moddir" "${wanted[@]}" >"$stage/lib/modules/harness/order"
		while read -r name; do
			unpack_module "$(module_file "$moddir" "$name")" "$stage/lib/modules/harness/$name.ko"
		done <"$stage/lib/modules/harness/order"
		# Where PYROOT has the NumPy 2 tree, for the userspace suite (lib/pyroot.sh).
		if declare -F pyroot_numpy2_path >/dev/null; then
			pyroot_numpy2_path "$arch" >"$stage/t/pyroot-numpy2"
		fi
	elif module_available "$moddir" virtio_blk && module_available "$moddir" virtio_pci; then
		# No PYROOT (armhf): the scratch disk's driver all the same, in the same list
		# (guest-init.sh loads it for the disk alone).
		modules_in_load_order "$moddir" virtio_pci virtio_blk >"$stage/lib/modules/harness/order"
		while read -r name; do
			unpack_module "$(module_file "$moddir" "$name")" "$stage/lib/modules/harness/$name.ko"
		done <"$stage/lib/modules/harness/order"
	fi
	# A longer fuzz run on request (tests/guest/96-fuzz.sh reads it).
	if [[ -n ${U_DMA_BUF_FUZZ_SECONDS:-} ]]; then
		echo "$U_DMA_BUF_FUZZ_SECONDS" >"$stage/t/fuzz-seconds"
	fi
	cat >"$stage/t/harness.conf" <<-CONF
		ARCH='$arch'
		KVER='$series'
		KREL='$krel'
		SUITES='$*'
		SUITE_TIMEOUT='$suite_timeout'
		PYROOT_TAG='$pyroot_tag'
		DT='${INITRAMFS_DT:-0}'
		KMEMLEAK='${INITRAMFS_KMEMLEAK:-0}'
		PHYS_BASE='$phys_base'
		PHYS_SIZE='$phys_size'
	CONF
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$out"
	rm -rf "$stage"
}
