# Debian kernels for the guests: the newest ABI of a series, fetched with apt-get download
# and unpacked with dpkg -x, so that no maintainer script runs and nothing is installed on
# the host.  Cached under $CACHE_DIR/kernels/<arch>-<release>/.
# shellcheck shell=bash

# kernel_flavour ARCH: the flavour that ends Debian's release names (6.1.0-56-amd64,
# 6.1.0-50-armmp).
kernel_flavour() {
	case $1 in
	armhf) echo armmp ;;
	*) echo "$1" ;;
	esac
}

# kernel_meta_package ARCH SERIES: the package whose dependency names the newest release.
kernel_meta_package() {
	case $1-$2 in
	armhf-6.1) echo linux-image-armmp ;;
	armhf-*) die "no armhf kernel of series '$2' (known: 6.1)" ;;
	*-6.1) echo "linux-image-$1" ;;
	*-6.12) echo "linux-image-6.12-$1" ;;
	*) die "unknown kernel series '$2' (known: 6.1, 6.12)" ;;
	esac
}

# kernel_image_package ARCH RELEASE: the image package.  amd64 and arm64 images are
# signed for secure boot; the harness takes the unsigned one.  armhf has only one.
kernel_image_package() {
	case $1 in
	armhf) echo "linux-image-$2:$1" ;;
	*) echo "linux-image-$2-unsigned:$1" ;;
	esac
}

# kernel_release ARCH SERIES: the newest release of the series in the package lists, such
# as 6.1.0-56-amd64, 6.12.117+deb12-arm64 or 6.1.0-50-armmp.  (The newest that the lists
# have: when an index failed to download, such as bookworm-security's armhf one, the
# release can be older than the other architectures'.)
kernel_release() {
	local arch=$1 series=$2 meta krel flavour unsigned=-unsigned
	meta=$(kernel_meta_package "$arch" "$series")
	flavour=$(kernel_flavour "$arch")
	[[ $arch != armhf ]] || unsigned=
	krel=$(apt-cache depends "$meta:$arch" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([^ :]*\).*/\1/p' | head -n 1)
	if [[ $krel != "$series".* ]]; then
		krel=$(apt-cache search --names-only "^linux-image-${series//./\\.}\.[0-9]+[-+][0-9a-z+]+-$flavour$unsigned\$" |
			sed -n "s/^linux-image-\([^ ]*\)$unsigned .*/\1/p" | sort -V | tail -n 1)
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

# apt_has PACKAGE=VERSION: the lists have it (apt-cache show prints nothing, and succeeds,
# for a version they do not have).
apt_has() {
	apt-cache show "$1" 2>/dev/null | grep -q '^Version:'
}

kernel_fetch_locked() {
	local arch=$1 krel=$2 dir root headers abi kbuild kbuild_pkg version common deb
	dir=$(kernel_dir "$arch" "$krel")
	[[ -e $dir/complete ]] && return 0
	rm -rf "$dir"
	abi=${krel%-"$(kernel_flavour "$arch")"}
	# The kbuild tools (fixdep, modpost) run on the host: take the host's architecture, of
	# the headers' version (a newer kbuild can be in the lists, from an index the headers'
	# architecture did not get).
	kbuild=$(apt-cache depends "linux-headers-$krel:$arch" |
		sed -n 's/^ *Depends: <\{0,1\}\(linux-kbuild-[^ :>]*\).*/\1/p' | head -n 1)
	[[ -n $kbuild ]] || die "cannot tell which linux-kbuild package linux-headers-$krel:$arch needs"
	version=$(apt-cache show "linux-headers-$krel:$arch" | sed -n 's/^Version: //p' | head -n 1)
	[[ -n $version ]] || die "cannot tell the version of linux-headers-$krel:$arch"
	common=linux-headers-$abi-common
	apt_has "$common=$version" && common+="=$version"
	# The same version where the lists have it (a security update of the kbuild alone
	# leaves only the newer one: then that).
	kbuild_pkg=$kbuild
	apt_has "$kbuild=$version" && kbuild_pkg+="=$version"
	echo "fetching $arch $krel (kbuild: $kbuild_pkg)"
	apt_download "$dir/debs" "$(kernel_image_package "$arch" "$krel")" "linux-headers-$krel:$arch" \
		"$common" "$kbuild_pkg"
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
	[[ $arch != armhf ]] || kernel_armhf_modpost "$dir" "$kbuild" "$version"
	touch "$dir/complete"
	kernel_prune_old "$arch" "$krel"
}

# kernel_armhf_modpost DIR KBUILD VERSION: the host's modpost (amd64) misreads the
# device tables of 32-bit modules (it has the 64-bit layout of struct of_device_id
# built in; any module with an OF match table fails), so the armhf kernel's
# scripts/mod/modpost becomes a wrapper that runs the armhf kbuild package's modpost
# under qemu-arm (qemu-user), with the libraries of libc6-armhf-cross.
kernel_armhf_modpost() {
	local dir=$1 kbuild=$2 version=$3 mod real
	apt_download "$dir/debs-armhf" "$kbuild:armhf=$version"
	dpkg -x "$dir"/debs-armhf/*.deb "$dir/kbuild-armhf"
	rm -rf "$dir/debs-armhf"
	mod=$dir/root/usr/lib/$kbuild/scripts/mod
	# Debian's modpost is itself a wrapper that runs modpost.real-<endianness>-<class>;
	# ARM modules are little-endian 32-bit.
	real=$dir/kbuild-armhf/usr/lib/$kbuild/scripts/mod/modpost.real-lsb-32
	[[ -x $real && -x $mod/modpost ]] || die "no $real or $mod/modpost: the Debian kbuild layout changed"
	command -v qemu-arm >/dev/null || die "qemu-arm is missing (package qemu-user)"
	mv "$mod/modpost" "$mod/modpost.host"
	printf '#!/bin/sh\n# tests/lib/kernel.sh: the armhf modpost under qemu-arm\nexec qemu-arm -L /usr/arm-linux-gnueabihf %s "$@"\n' \
		"$real" >"$mod/modpost"
	chmod 755 "$mod/modpost"
}

# The env file of a kernel tells the harness what it needs to build for the kernel and
# boot it, one KEY=value a line (no quotes, no spaces in values).  tests/lib/debug-kernel.sh
# prints the path of one such file for the kernel it builds.
#   KERNEL_NAME     the label (arm64-6.12, debug)
#   ARCH            the guest architecture: amd64, arm64 or armhf
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
	local arch=$1 krel=$2 file tmp
	file=$(kernel_dir "$arch" "$krel")/kernel.env
	# A name of this process's own: the jobs of two labels of one kernel (arm64-6.1 and
	# arm64-6.1-dt) write the file at the same time.  (Expanded here: in cat's
	# redirection $BASHPID would be cat's.)
	tmp=$file.$BASHPID
	cat >"$tmp" <<-ENV
		KERNEL_NAME=$arch-$(cut -d. -f1,2 <<<"$krel")
		ARCH=$arch
		KVER=$(cut -d. -f1,2 <<<"$krel")
		KREL=$krel
		KERNEL_HEADERS=$(kernel_headers "$arch" "$krel")
		KERNEL_IMAGE=$(kernel_image "$arch" "$krel")
		KERNEL_MODULES=$(kernel_modules "$arch" "$krel")
	ENV
	mv -f "$tmp" "$file"
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
	[[ ${KENV[ARCH]} == amd64 || ${KENV[ARCH]} == arm64 || ${KENV[ARCH]} == armhf ]] ||
		die "kernel env file $file: ARCH=${KENV[ARCH]} (expected amd64, arm64 or armhf)"
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

# busybox_for ARCH: a static busybox for the guest: the host's on amd64, else Debian's
# busybox-static of the guest's architecture.
busybox_for() {
	case $1 in
	amd64) echo /bin/busybox ;;
	*) echo "$CACHE_DIR/busybox-$1/root/bin/busybox" ;;
	esac
}

busybox_fetch() {
	[[ $1 == amd64 || -e $(busybox_for "$1") ]] && return 0
	with_lock "busybox-$1" busybox_fetch_foreign "$1"
}

busybox_fetch_foreign() {
	local arch=$1 dir=$CACHE_DIR/busybox-$1
	[[ -e $(busybox_for "$arch") ]] && return 0
	rm -rf "$dir"
	apt_download "$dir/debs" "busybox-static:$arch"
	dpkg -x "$dir"/debs/*.deb "$dir/root"
	rm -rf "$dir/debs"
}
