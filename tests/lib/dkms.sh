# DKMS on the host: `dkms add` and `dkms build` of the repo (its dkms.conf) for a kernel
# that is not running, against the unpacked headers, in private trees under the run
# directory (the host's /var/lib/dkms is not touched).
# shellcheck shell=bash

# dkms_package_version: PACKAGE_VERSION from the module's dkms.conf.
dkms_package_version() {
	sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$MODULE_SRC/dkms.conf" | head -n 1
}

# dkms_add_build ARCH RELEASE DIR: builds the module with dkms in DIR.  A foreign
# architecture (armhf) is a cross build: dkms has no cross-compile option and does not
# pass ARCH to the dkms.conf's make, so ARCH and CROSS_COMPILE go in the environment
# (make takes them from there) and `-a` names the architecture of the dkms tree.
dkms_add_build() {
	local arch=$1 krel=$2 dir=$3 version trees cross=()
	[[ -e $MODULE_SRC/dkms.conf ]] || die "$MODULE_SRC/dkms.conf does not exist"
	version=$(dkms_package_version)
	[[ -n $version ]] || die "$MODULE_SRC/dkms.conf has no PACKAGE_VERSION"
	rm -rf "$dir"
	copy_module_sources "$dir/source/u-dma-buf-$version"
	trees=(--dkmstree "$dir/tree" --sourcetree "$dir/source")
	mkdir -p "$dir/tree"
	dkms add -m u-dma-buf -v "$version" "${trees[@]}"
	case $arch in
	amd64) ;;
	armhf) cross=(env ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf-) ;;
	*) die "dkms_add_build: no DKMS build for $arch" ;;
	esac
	[[ $arch == amd64 ]] || trees+=(-a "$arch")
	"${cross[@]}" dkms build -m u-dma-buf -v "$version" -k "$krel" --kernelsourcedir "$(kernel_headers "$arch" "$krel")" "${trees[@]}"
	find "$dir/tree/u-dma-buf/$version/$krel" -name 'u-dma-buf.ko*' | grep -q . ||
		die "dkms build reported success but made no u-dma-buf.ko under $dir/tree"
}
