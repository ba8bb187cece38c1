# Shared helpers of the host-side test harness: paths, messages, test results, steps,
# host packages.  Sourced by tests/run and tests/demo, never run on its own.
# shellcheck shell=bash

shopt -s inherit_errexit
HARNESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_TOP=$(cd "$HARNESS_LIB/../.." && pwd)
CACHE_DIR=${U_DMA_BUF_CACHE:-${HOME:-/root}/.cache/u-dma-buf-test}
# The module sources and the guest suites under test; the overrides let the harness be
# developed against a stand-in module or suite kept outside the repo.
MODULE_SRC=${U_DMA_BUF_SRC:-$REPO_TOP}
# shellcheck disable=SC2034
GUEST_DIR=${U_DMA_BUF_GUEST_DIR:-$REPO_TOP/tests/guest}
# Test kernel modules: every directory here with a Kbuild file (tests/lib/build.sh).
# shellcheck disable=SC2034
KMOD_DIR=${U_DMA_BUF_KMOD_DIR:-$REPO_TOP/tests/kmod}

# Everything the harness runs on the host.  gcc-12-multilib, never gcc-multilib: the
# gcc-multilib meta package conflicts with the arm64 cross compiler.
# shellcheck disable=SC2034
HOST_PACKAGES=(qemu-system-x86 qemu-system-arm busybox-static cpio kmod xz-utils pciutils
	device-tree-compiler dwarves make gcc-12 gcc-12-aarch64-linux-gnu libc6-dev-arm64-cross
	gcc-12-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user
	gcc-12-multilib python3-numpy mmdebstrap sparse perl dkms)

APT_OPTIONS=(-o DPkg::Lock::Timeout=600 -o APT::Get::Assume-Yes=true)

# Set by each job: the prefix of its test lines and the file its results go to.
JOB_LABEL=${JOB_LABEL:-}
RESULTS_FILE=${RESULTS_FILE:-/dev/null}
JOB_LOG=${JOB_LOG:-/dev/null}

die() {
	echo "error: $*" >&2
	exit 1
}

now() {
	date +%s.%N
}

# seconds_since START: wall time since START (from now), one decimal.
seconds_since() {
	awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'
}

# note TEXT: a diagnostic line of the current job.
note() {
	echo "# ${JOB_LABEL:+$JOB_LABEL: }$*"
}

# diag_lines: indent stdin as TAP diagnostics.
diag_lines() {
	sed 's/^/#   /'
}

# record STATUS TEXT: one test result.  STATUS is pass, fail or skip.
record() {
	local status=$1 text=${JOB_LABEL:+$JOB_LABEL: }$2
	case $status in
	pass) echo "ok - $text" ;;
	fail) echo "not ok - $text" ;;
	skip) echo "ok - $text" ;;
	*) die "record: unknown status $status" ;;
	esac
	printf '%s\t%s\n' "$status" "$text" >>"$RESULTS_FILE"
}

test_pass() { record pass "$1"; }
test_fail() { record fail "$1"; }
# test_skip TEXT WHY
test_skip() { record skip "$1 # SKIP $2"; }

# step FUNCTION ARGS...: runs FUNCTION in a subshell with errexit, its output appended to
# the job log, and sets STEP_RC.  Call it as a plain command (not after if, ||, &&, !):
# bash ignores errexit inside anything called in such a context.
step() {
	set +e
	(
		set -e
		"$@"
	) >>"$JOB_LOG" 2>&1
	STEP_RC=$?
	set -e
}

# step_failed WHAT: records WHAT as a failed test with the end of the job log when the
# last step failed; its status tells the caller whether to stop.
step_failed() {
	((STEP_RC)) || return 1
	test_fail "$1 (exit status $STEP_RC; log: $JOB_LOG)"
	tail -n 20 "$JOB_LOG" | diag_lines
	return 0
}

# with_lock NAME COMMAND...: runs COMMAND while holding the harness lock NAME, so that
# parallel jobs (and parallel runs) do not download or extract the same thing twice.
with_lock() {
	local name=$1
	shift
	mkdir -p "$CACHE_DIR/locks"
	(
		flock 9
		"$@"
	) 9>"$CACHE_DIR/locks/$name.lock"
}

require_root() {
	[[ $(id -u) == 0 ]] || die "run as root: the harness installs Debian packages and runs dpkg -x"
}

# host_setup PACKAGE...: adds the arm64 and armhf architectures, refreshes the package
# lists once and installs the packages that are missing.  Never removes a package.  A
# failed index (seen: bookworm-security armhf, "unexpected size" while the mirror syncs)
# is only a warning: the harness then uses the newest kernel of the lists it has.
host_setup() {
	local missing=() pkg arch
	for arch in arm64 armhf; do
		if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
			dpkg --add-architecture "$arch"
		fi
	done
	echo "# apt-get update"
	if ! apt-get "${APT_OPTIONS[@]}" update >"$CACHE_DIR/apt-update.log" 2>&1; then
		echo "# warning: apt-get update failed (see $CACHE_DIR/apt-update.log); using the package lists as they are"
	fi
	for pkg in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
			missing+=("$pkg")
		fi
	done
	((${#missing[@]})) || return 0
	echo "# installing: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTIONS[@]}" install --no-install-recommends --no-remove "${missing[@]}" >"$CACHE_DIR/apt-install.log" 2>&1; then
		tail -n 20 "$CACHE_DIR/apt-install.log" >&2
		die "apt-get install of ${missing[*]} failed (full output: $CACHE_DIR/apt-install.log). If apt wants to remove gcc-multilib, replace it with gcc-12-multilib, which gives the same gcc -m32 and does not conflict with gcc-12-aarch64-linux-gnu"
	fi
}

# apt_download DIR PACKAGE...: apt-get download into DIR, which _apt must own, or apt
# warns that the download is unsandboxed.
apt_download() {
	local dir=$1
	shift
	mkdir -p "$dir"
	chown _apt "$dir"
	(
		cd "$dir"
		with_lock apt apt-get "${APT_OPTIONS[@]}" download "$@"
	)
}

# copy_module_sources DEST: the module's build inputs (sources, Makefile, Kbuild,
# dkms.conf, include/) from MODULE_SRC, without anything built there.
copy_module_sources() {
	local dest=$1 path
	rm -rf "$dest"
	mkdir -p "$dest"
	for path in "$MODULE_SRC"/*.c "$MODULE_SRC"/*.h "$MODULE_SRC"/Makefile "$MODULE_SRC"/Kbuild \
		"$MODULE_SRC"/dkms.conf "$MODULE_SRC"/include; do
		[[ -e $path ]] && cp -a "$path" "$dest/"
	done
	return 0
}

# Kernel labels: <arch>-<series> (a Debian kernel, amd64-6.12), <arch>-<series>-dt (the
# same kernel booted with the device tree of tests/lib/dt.sh: arm64 and armhf),
# <arch>-<series>-1g (armhf only: the same kernel with 1 GiB of RAM instead of 512 MiB)
# and debug (the kernel that tests/lib/debug-kernel.sh builds; its architecture is in its
# env file).
# guest_arch_of LABEL / kernel_series_of LABEL: arm64-6.12-dt -> arm64 / 6.12
guest_arch_of() { echo "${1%%-*}"; }
kernel_series_of() {
	local rest=${1#*-}
	rest=${rest%-dt}
	echo "${rest%-1g}"
}
# guest_memory_of LABEL: the guest's RAM (QEMU -m).  1 GiB, except armhf without -1g or
# -dt: 512 MiB, all of it lowmem (a 1 GiB armhf guest has 256 MiB of highmem).
guest_memory_of() {
	case $1 in
	armhf-*-1g | armhf-*-dt) echo 1G ;;
	armhf-*) echo 512M ;;
	*) echo 1G ;;
	esac
}
# label_is_dt LABEL: a device-tree boot.
label_is_dt() { [[ $1 == *-dt ]]; }

# suite_name FILE: tests/guest/10-params.sh -> params
suite_name() {
	local base
	base=$(basename "$1" .sh)
	echo "${base#[0-9][0-9]-}"
}

# suite_is_dt FILE: a device-tree suite (NN-dt-<name>.sh), which runs only in the -dt boots;
# every other suite runs only in the other boots.
suite_is_dt() {
	[[ $(suite_name "$1") == dt-* ]]
}
