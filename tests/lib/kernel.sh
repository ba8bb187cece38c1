# Debian kernels for the guests: the newest ABI of a series, fetched with apt-get download
# and unpacked with dpkg -x, so that no maintainer script runs and nothing is installed on
# the host.  Cached under $CACHE_DIR/kernels/<arch>-<release>/.
# shellcheck shell=bash

# kernel_meta_package ARCH SERIES: the package whose dependency names the newest release.
kernel_meta_package() {
	case $2 in
	6.1) echo "linux-image-$1" ;;
	6.12) echo "linux-image-6.12-$1" ;;
	*) die "unknown kernel series '$2' (known: 6.1, 6.12)" ;;
	esac
}

# kernel_release ARCH SERIES: the newest release of the series in the package lists, such
# as 6.1.0-56-amd64 or 6.12.117+deb12-arm64.
kernel_release() {
	local arch=$1 series=$2 meta krel
	meta=$(kernel_meta_package "$arch" "$series")
	krel=$(apt-cache depends "$meta:$arch" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([^ :]*\).*/\1/p' | head -n 1)
	if [[ $krel != "$series".* ]]; then
		krel=$(apt-cache search --names-only "^linux-image-${series//./\\.}\.[0-9]+[-+][0-9a-z+]+-$arch-unsigned\$" |
			sed -n "s/^linux-image-\([^ ]*\)-unsigned .*/\1/p" | sort -V | tail -n 1)
	fi
	[[ $krel == "$series".* ]] ||
		die "no Debian $arch kernel of series $series in the package lists (meta package $meta); check that apt-get update works"
	echo "$krel"
}

kernel_dir() { echo "$CACHE_DIR/kernels/$1-$2"; }
kernel_root() { echo "$(kernel_dir "$1" "$2")/root"; }
kernel_headers() { echo "$(kernel_root "$1" "$2")/usr/src/linux-headers-$2"; }
kernel_image() { echo "$(kernel_root "$1" "$2")/boot/vmlinuz-$2"; }
kernel_modules() { echo "$(kernel_root "$1" "$2")/lib/modules/$2"; }

# kernel_fetch ARCH RELEASE: image, headers, common headers and the host's kbuild tools,
# unpacked and made usable from where they are.
kernel_fetch() {
	[[ -e $(kernel_dir "$1" "$2")/complete ]] && return 0
	with_lock "kernel-$1-$2" kernel_fetch_locked "$1" "$2"
}

kernel_fetch_locked() {
	local arch=$1 krel=$2 dir root headers abi kbuild deb
	dir=$(kernel_dir "$arch" "$krel")
	[[ -e $dir/complete ]] && return 0
	rm -rf "$dir"
	abi=${krel%-"$arch"}
	# The kbuild tools (fixdep, modpost) run on the host: take the host's architecture.
	kbuild=$(apt-cache depends "linux-headers-$krel:$arch" |
		sed -n 's/^ *Depends: <\{0,1\}\(linux-kbuild-[^ :>]*\).*/\1/p' | head -n 1)
	[[ -n $kbuild ]] || die "cannot tell which linux-kbuild package linux-headers-$krel:$arch needs"
	echo "fetching $arch $krel (kbuild: $kbuild)"
	apt_download "$dir/debs" "linux-image-$krel-unsigned:$arch" "linux-headers-$krel:$arch" \
		"linux-headers-$abi-common" "$kbuild"
	root=$(kernel_root "$arch" "$krel")
	for deb in "$dir"/debs/*.deb; do
		dpkg -x "$deb" "$root"
	done
	rm -rf "$dir/debs"
	# The headers Makefile includes the common headers by absolute path, and the build
	# link is absolute: point both into the unpacked tree.
	headers=$(kernel_headers "$arch" "$krel")
	sed -i "s|^include /usr/src/|include $root/usr/src/|" "$headers/Makefile"
	grep -q "^include $root/usr/src/" "$headers/Makefile" ||
		die "$headers/Makefile has no 'include /usr/src/...' line to repoint; the Debian headers layout changed"
	ln -sfn "$headers" "$(kernel_modules "$arch" "$krel")/build"
	touch "$dir/complete"
	kernel_prune_old "$arch" "$krel"
}

# The env file of a kernel tells the harness what it needs to build for the kernel and
# boot it, one KEY=value a line (no quotes, no spaces in values).  tests/lib/debug-kernel.sh
# prints the path of one such file for the kernel it builds.
#   KERNEL_NAME     the label (arm64-6.12, debug)
#   ARCH            the guest architecture: amd64 or arm64
#   KVER            the series: 6.1, 6.12
#   KREL            the release, uname -r in the guest
#   KERNEL_HEADERS  the tree external modules build against (make -C <it> M=...)
#   KERNEL_IMAGE    the image QEMU boots (-kernel)
#   KERNEL_MODULES  the kernel's /lib/modules/<release> (modules.builtin, kernel/...)
# Other keys are allowed and ignored.
KERNEL_ENV_KEYS=(ARCH KVER KREL KERNEL_HEADERS KERNEL_IMAGE KERNEL_MODULES)

# kernel_env_file ARCH RELEASE: writes the env file of a fetched Debian kernel and prints
# its path.
kernel_env_file() {
	local arch=$1 krel=$2 file
	file=$(kernel_dir "$arch" "$krel")/kernel.env
	cat >"$file.$$" <<-ENV
		KERNEL_NAME=$arch-$(cut -d. -f1,2 <<<"$krel")
		ARCH=$arch
		KVER=$(cut -d. -f1,2 <<<"$krel")
		KREL=$krel
		KERNEL_HEADERS=$(kernel_headers "$arch" "$krel")
		KERNEL_IMAGE=$(kernel_image "$arch" "$krel")
		KERNEL_MODULES=$(kernel_modules "$arch" "$krel")
	ENV
	mv -f "$file.$$" "$file"
	echo "$file"
}

# load_kernel_env FILE: KENV[KEY] = the values of an env file; dies when one of
# KERNEL_ENV_KEYS is missing or a path in it does not exist.
load_kernel_env() {
	local file=$1 line key value
	declare -gA KENV=()
	[[ -r $file ]] || die "kernel env file '$file' cannot be read"
	while IFS= read -r line || [[ -n $line ]]; do
		[[ $line =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] || continue
		key=${BASH_REMATCH[1]}
		value=${BASH_REMATCH[2]}
		if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
			value=${BASH_REMATCH[1]}
		fi
		KENV[$key]=$value
	done <"$file"
	for key in "${KERNEL_ENV_KEYS[@]}"; do
		[[ -n ${KENV[$key]:-} ]] || die "kernel env file $file has no $key"
	done
	[[ ${KENV[ARCH]} == amd64 || ${KENV[ARCH]} == arm64 ]] ||
		die "kernel env file $file: ARCH=${KENV[ARCH]} (expected amd64 or arm64)"
	for key in KERNEL_HEADERS KERNEL_IMAGE KERNEL_MODULES; do
		[[ -e ${KENV[$key]} ]] || die "kernel env file $file: $key=${KENV[$key]} does not exist"
	done
}

# kernel_prune_old ARCH RELEASE: drops the cached older releases of the same series.
kernel_prune_old() {
	local arch=$1 krel=$2 series old
	series=$(cut -d. -f1,2 <<<"$krel")
	for old in "$CACHE_DIR/kernels/$arch-$series".*; do
		[[ -d $old && $old != "$(kernel_dir "$arch" "$krel")" ]] || continue
		echo "removing the older kernel $old"
		rm -rf "$old"
	done
}

# busybox_for ARCH: a static busybox for the guest.
busybox_for() {
	case $1 in
	amd64) echo /bin/busybox ;;
	arm64) echo "$CACHE_DIR/busybox-arm64/root/bin/busybox" ;;
	esac
}

busybox_fetch() {
	[[ $1 == amd64 || -e $(busybox_for "$1") ]] && return 0
	with_lock busybox-arm64 busybox_fetch_arm64
}

busybox_fetch_arm64() {
	local dir=$CACHE_DIR/busybox-arm64
	[[ -e $(busybox_for arm64) ]] && return 0
	rm -rf "$dir"
	apt_download "$dir/debs" busybox-static:arm64
	dpkg -x "$dir"/debs/*.deb "$dir/root"
	rm -rf "$dir/debs"
}
