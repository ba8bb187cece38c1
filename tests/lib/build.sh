# Host-side builds: the module with the repo's own Makefile against unpacked headers, and
# the guest's static C programs.
# shellcheck shell=bash

# module_make_args ARCH RELEASE: what the repo's Makefile is given to build for a kernel.
module_make_args() {
	echo "KERNEL_SRC=$(kernel_headers "$1" "$2")"
	case $1 in
	amd64) echo ARCH=x86 ;;
	arm64) printf '%s\n' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- ;;
	esac
}

# build_module ARCH RELEASE DIR [MAKE_ARGS...]: copies the module sources to DIR and runs
# the repo's Makefile there; the output is in DIR/build.log.
build_module() {
	local arch=$1 krel=$2 dir=$3 args
	shift 3
	mapfile -t args < <(module_make_args "$arch" "$krel")
	copy_module_sources "$dir"
	[[ -e $dir/Makefile ]] || die "$MODULE_SRC has no Makefile"
	echo "make ${args[*]} $*"
	make -C "$dir" "${args[@]}" "$@" 2>&1 | tee "$dir/build.log"
	[[ -e $dir/u-dma-buf.ko ]] || die "the build made no u-dma-buf.ko in $dir"
}

# build_warnings LOG: the compiler's warning and error lines of a build log.
build_warnings() {
	grep -E 'warning:|error:' "$1" || true
}

guest_cc() {
	case $1 in
	amd64) echo gcc-12 ;;
	arm64) echo aarch64-linux-gnu-gcc-12 ;;
	esac
}

# build_guest_programs ARCH OUT: every $GUEST_DIR/*.c, static for the guest, one test
# each (JOB_LABEL is the architecture).
build_guest_programs() {
	local arch=$1 out=$2 src name cc log
	cc=$(guest_cc "$arch")
	rm -rf "$out"
	mkdir -p "$out"
	for src in "$GUEST_DIR"/*.c; do
		[[ -e $src ]] || continue
		name=$(basename "$src" .c)
		log=$out/$name.log
		if "$cc" -O2 -Wall -Wextra -Werror -static -pthread -I"$MODULE_SRC/include" \
			-o "$out/$name" "$src" >"$log" 2>&1; then
			test_pass "build guest program $name.c"
			rm -f "$log"
		else
			test_fail "build guest program $name.c ($cc)"
			diag_lines <"$log"
		fi
	done
}
