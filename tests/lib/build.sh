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

# guest_cc32 ARCH: the compiler words of the guest's 32-bit ABI (i386 on amd64, armhf on
# arm64), or nothing when there is none; the armhf cross compiler is installed on demand.
guest_cc32() {
	case $1 in
	amd64) echo gcc-12 -m32 -idirafter /usr/include/x86_64-linux-gnu ;;
	arm64)
		command -v arm-linux-gnueabihf-gcc-12 >/dev/null ||
			DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTIONS[@]}" install --no-install-recommends \
				--no-remove gcc-12-arm-linux-gnueabihf libc6-dev-armhf-cross >>"$CACHE_DIR/apt-install.log" 2>&1 ||
			true
		if command -v arm-linux-gnueabihf-gcc-12 >/dev/null; then echo arm-linux-gnueabihf-gcc-12; fi
		;;
	esac
}

# build_guest_program OUT CC...: compiles SRC (the caller's) into OUT, one test.
build_guest_program() {
	local bin=$1 log=$1.log
	shift
	if "$@" -O2 -Wall -Wextra -Werror -static -pthread -I"$MODULE_SRC/include" -I"$MODULE_SRC" \
		-o "$bin" "$src" >"$log" 2>&1; then
		test_pass "build guest program $name.c${bin_label:-}"
		rm -f "$log"
	else
		test_fail "build guest program $name.c${bin_label:-} ($*)"
		diag_lines <"$log"
	fi
}

# build_guest_programs ARCH OUT: every $GUEST_DIR/*.c, static for the guest, one test
# each (JOB_LABEL is the architecture); a program with `build: m32` in its first five
# lines is also built for the 32-bit ABI into OUT/32/.
build_guest_programs() {
	local arch=$1 out=$2 src name cc cc32 bin_label
	cc=$(guest_cc "$arch")
	cc32=$(guest_cc32 "$arch")
	rm -rf "$out"
	mkdir -p "$out/32"
	for src in "$GUEST_DIR"/*.c; do
		[[ -e $src ]] || continue
		name=$(basename "$src" .c)
		bin_label='' build_guest_program "$out/$name" "$cc"
		head -n 5 "$src" | grep -q 'build: m32' || continue
		if [[ -n $cc32 ]]; then
			# shellcheck disable=SC2086
			bin_label=' (32-bit)' build_guest_program "$out/32/$name" $cc32
		else
			test_skip "build guest program $name.c (32-bit)" "no 32-bit compiler for $arch"
		fi
	done
}
