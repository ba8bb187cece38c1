#!/usr/bin/env bash
# The debug kernel: Debian's linux-source-6.1 built for x86_64 from tinyconfig +
# kvm_guest.config + debug-kernel.config (KASAN, lockdep, kmemleak, DMA-API debug,
# DEBUG_VM, UBSAN, CMA), with everything the harness guest needs built in.
#
#   tests/lib/debug-kernel.sh      builds it once, then prints the path of its env file
#
# The build is cached under $U_DMA_BUF_CACHE/debug-kernel/<version>/ (the source
# package's version; older versions are removed).  Its stamp holds a hash of the config
# fragment and of the recipe below: when that changes, the kept tree is configured again
# and rebuilt incrementally (kbuild rebuilds what the changed options touch).  The env file has what tests/lib/kernel.sh tells of a Debian kernel:
# ARCH, KVER, KREL, KERNEL_HEADERS (the build tree, after modules_prepare: external
# modules build against it with M=), KERNEL_IMAGE, KERNEL_MODULES.  Progress goes to
# stderr, the env file path alone to stdout.  Run as root: it installs build packages.
set -euo pipefail

# shellcheck source=tests/lib/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"

DK_FRAGMENT=$HARNESS_LIB/debug-kernel.config
# Bump when the recipe below changes in a way that makes older builds wrong.
DK_RECIPE=2
DK_PACKAGES=(make gcc-12 flex bison libelf-dev bc libssl-dev dwarves xz-utils kmod cpio)
DK_MAKE=(make ARCH=x86_64)

progress() {
	echo "debug-kernel: $*" >&2
}

dk_packages() {
	local missing=() pkg
	for pkg in "${DK_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
	done
	((${#missing[@]})) || return 0
	progress "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive with_lock apt apt-get "${APT_OPTIONS[@]}" install \
		--no-install-recommends --no-remove "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# dk_source_version: the candidate version of linux-source-6.1 (apt-get update if the
# package lists do not know it yet).
dk_source_version() {
	local version
	version=$(apt-cache policy linux-source-6.1 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [[ -z $version || $version == "(none)" ]]; then
		progress "apt-get update (the package lists have no linux-source-6.1)"
		with_lock apt apt-get "${APT_OPTIONS[@]}" update >&2 || true
		version=$(apt-cache policy linux-source-6.1 2>/dev/null | sed -n 's/^ *Candidate: //p')
	fi
	[[ -n $version && $version != "(none)" ]] ||
		die "no linux-source-6.1 in the package lists; check that apt-get update works"
	echo "$version"
}

# dk_check_config CONFIG: every line of the fragment holds in CONFIG.
dk_check_config() {
	local config=$1 line name bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" && continue
			name=${line%%=*}
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			grep -q "^$name=" "$config" || continue
			;;
		*) continue ;;
		esac
		echo "debug-kernel: wanted '$line', got '$(grep -E "^(# )?${name}[= ]" "$config" || echo "$name absent")'" >&2
		bad=1
	done <"$DK_FRAGMENT"
	((bad == 0)) || die "the kernel config lacks options of $DK_FRAGMENT (a dependency is missing: see 'make menuconfig' in $(dirname "$config"))"
}

dk_build() {
	local dir=$1 version=$2 hash=$3 tree=$1/linux start krel
	[[ -e $dir/complete && $(cat "$dir/complete") == "$hash" ]] && return 0
	start=$(now)
	rm -f "$dir/complete"
	if [[ ! -e $dir/unpacked ]]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		progress "fetching linux-source-6.1 $version"
		apt_download "$dir/debs" "linux-source-6.1=$version" >&2
		progress "unpacking"
		dpkg -x "$dir"/debs/linux-source-6.1_*.deb "$dir/pkg"
		mkdir -p "$tree"
		tar -xJf "$dir/pkg/usr/src/linux-source-6.1.tar.xz" -C "$tree" --strip-components=1
		rm -rf "$dir/debs" "$dir/pkg"
		touch "$dir/unpacked"
	else
		progress "reusing the tree in $tree (incremental build)"
	fi

	# gcc-12 by default (the harness installs gcc-12, not necessarily gcc), also for
	# external modules built later with a plain make -C <tree> M=..., so that kbuild
	# sees the compiler the kernel was built with.
	# shellcheck disable=SC2016 # $(CROSS_COMPILE) is make's, not the shell's
	sed -i -e 's/^CC\t\t= \$(CROSS_COMPILE)gcc$/CC\t\t= $(CROSS_COMPILE)gcc-12/' \
		-e 's/^HOSTCC\t= gcc$/HOSTCC\t= gcc-12/' "$tree/Makefile"
	# shellcheck disable=SC2016
	if ! grep -q '^CC.*= \$(CROSS_COMPILE)gcc-12$' "$tree/Makefile" ||
		! grep -q '^HOSTCC.*= gcc-12$' "$tree/Makefile"; then
		die "cannot make gcc-12 the default compiler in $tree/Makefile (its CC/HOSTCC lines changed)"
	fi
	progress "configuring (tinyconfig + kvm_guest.config + $(basename "$DK_FRAGMENT"))"
	"${DK_MAKE[@]}" -C "$tree" tinyconfig >&2
	"${DK_MAKE[@]}" -C "$tree" kvm_guest.config >&2
	(cd "$tree" && scripts/kconfig/merge_config.sh -m .config "$DK_FRAGMENT") >&2
	"${DK_MAKE[@]}" -C "$tree" olddefconfig >&2
	dk_check_config "$tree/.config"

	progress "building bzImage and modules (nice -n 10 make -j2: the longest step; see the build time printed at the end)"
	nice -n 10 "${DK_MAKE[@]}" -C "$tree" -j2 bzImage modules >"$dir/build.log" 2>&1 || {
		tail -n 40 "$dir/build.log" >&2
		die "the kernel build failed; full log: $dir/build.log"
	}
	krel=$("${DK_MAKE[@]}" -s -C "$tree" kernelrelease)
	"${DK_MAKE[@]}" -C "$tree" modules_prepare >>"$dir/build.log" 2>&1 ||
		die "modules_prepare failed; see $dir/build.log"
	rm -rf "$dir/install"
	"${DK_MAKE[@]}" -C "$tree" INSTALL_MOD_PATH="$dir/install" modules_install >>"$dir/build.log" 2>&1 ||
		die "modules_install failed; see $dir/build.log"
	ln -sfn "$tree" "$dir/install/lib/modules/$krel/build"
	cp "$tree/arch/x86/boot/bzImage" "$dir/bzImage"
	cat >"$dir/debug.env" <<-ENV
		KERNEL_NAME=debug
		ARCH=amd64
		KVER=6.1
		KREL=$krel
		KERNEL_HEADERS=$tree
		KERNEL_IMAGE=$dir/bzImage
		KERNEL_MODULES=$dir/install/lib/modules/$krel
		SOURCE_VERSION=$version
		BUILD_SECONDS=$(seconds_since "$start")
	ENV
	echo "$hash" >"$dir/complete"
	progress "built $krel in $(seconds_since "$start") s"
}

main() {
	local version hash dir old
	require_root
	dk_packages
	version=$(dk_source_version)
	hash=$( (echo "recipe $DK_RECIPE"; cat "$DK_FRAGMENT") | sha256sum | cut -c1-16)
	dir=$CACHE_DIR/debug-kernel/$version
	if [[ ! -e $dir/complete || $(cat "$dir/complete") != "$hash" ]]; then
		mkdir -p "$CACHE_DIR/debug-kernel"
		with_lock debug-kernel dk_build "$dir" "$version" "$hash"
		for old in "$CACHE_DIR"/debug-kernel/*/; do
			old=${old%/}
			[[ $old == "$dir" ]] && continue
			progress "removing the older build $old"
			rm -rf "$old"
		done
	fi
	echo "$dir/debug.env"
}

main "$@"
