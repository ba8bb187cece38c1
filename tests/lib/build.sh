# Host-side builds: the module with the repo's own Makefile against unpacked headers, and
# the guest's static C programs.
# shellcheck shell=bash

# kbuild_args ARCH HEADERS: what the repo's Makefile is given to build for a kernel, one a
# line.
kbuild_args() {
	echo "KERNEL_SRC=$2"
	kbuild_target_args "$1" "$2"
}

# kbuild_target_args ARCH HEADERS: the architecture and compiler words, one a line.  For
# amd64 (native here) the compiler that built the kernel (CONFIG_CC_VERSION_TEXT, such as
# gcc-12), so that kbuild does not warn that the compiler differs; arm64 and armhf builds
# use the cross compiler by its prefix (Debian's headers add the -12).
kbuild_target_args() {
	local cc
	case $1 in
	amd64)
		echo ARCH=x86
		cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ "]*\).*/\1/p' "$2/.config" 2>/dev/null)
		if [[ -n $cc ]] && command -v "$cc" >/dev/null; then
			echo "CC=$cc"
		fi
		;;
	arm64) printf '%s\n' ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- ;;
	armhf) printf '%s\n' ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- ;;
	*) die "kbuild_target_args: unknown architecture '$1'" ;;
	esac
}

# module_make_args ARCH RELEASE: what the repo's Makefile is given to build for a Debian
# kernel.
module_make_args() {
	kbuild_args "$1" "$(kernel_headers "$1" "$2")"
}

# build_module ARCH RELEASE DIR [MAKE_ARGS...]: the module for a Debian kernel (below).
build_module() {
	local arch=$1 krel=$2 dir=$3
	shift 3
	build_module_against "$arch" "$(kernel_headers "$arch" "$krel")" "$dir" "$@"
}

# build_module_against ARCH HEADERS DIR [MAKE_ARGS...]: copies the module sources to DIR
# and runs the repo's Makefile there; the output is in DIR/build.log.
build_module_against() {
	local arch=$1 headers=$2 dir=$3 args
	shift 3
	mapfile -t args < <(kbuild_args "$arch" "$headers")
	copy_module_sources "$dir"
	[[ -e $dir/Makefile ]] || die "$MODULE_SRC has no Makefile"
	echo "make ${args[*]} $*"
	make -C "$dir" "${args[@]}" "$@" 2>&1 | tee "$dir/build.log"
	[[ -e $dir/u-dma-buf.ko ]] || die "the build made no u-dma-buf.ko in $dir"
}

# kmod_dirs: the test modules, every $KMOD_DIR/*/ that has a Kbuild file, one a line.
kmod_dirs() {
	local dir
	for dir in "$KMOD_DIR"/*/; do
		[[ -e $dir/Kbuild ]] && echo "${dir%/}"
	done
	return 0
}

# build_kmod ARCH HEADERS MODULE_BUILD SRC OUT: the test module in SRC built as an external
# module (W=1) against HEADERS, with the symbols of the u-dma-buf build in MODULE_BUILD and
# the module tree's top directory on the include path (u-dma-buf-funcs.h); in OUT, with
# OUT/build.log.
build_kmod() {
	local arch=$1 headers=$2 modbuild=$3 src=$4 out=$5 cross=()
	rm -rf "$out"
	mkdir -p "$out"
	cp -a "$src"/. "$out/"
	[[ -e $modbuild/Module.symvers ]] || die "$modbuild has no Module.symvers"
	mapfile -t cross < <(kbuild_target_args "$arch" "$headers")
	echo "make -C $headers M=$out ${cross[*]} W=1 KBUILD_EXTRA_SYMBOLS=$modbuild/Module.symvers KCFLAGS=-I$MODULE_SRC modules"
	make -C "$headers" M="$out" "${cross[@]}" W=1 KBUILD_EXTRA_SYMBOLS="$modbuild/Module.symvers" \
		KCFLAGS="-I$MODULE_SRC" modules 2>&1 | tee "$out/build.log"
	find "$out" -maxdepth 1 -name '*.ko' | grep -q . || die "the build made no .ko in $out"
}

# The functions the module exports for other modules (INTERFACE.md §10b).
KAPI_EXPORTS=(u_dma_buf_device_create u_dma_buf_device_search u_dma_buf_device_remove
	u_dma_buf_device_getmap u_dma_buf_device_sync)

# check_exports_gpl MODULE_BUILD: one test, that MODULE_BUILD/Module.symvers lists each of
# KAPI_EXPORTS exported by u-dma-buf with EXPORT_SYMBOL_GPL: they wrap GPL-only kernel
# APIs (issue 10, finding 15).  Module.symvers lines: CRC, symbol, module, export type,
# namespace, separated by tabs.
check_exports_gpl() {
	local symvers=$1/Module.symvers what sym got bad=()
	what="Module.symvers: the ${#KAPI_EXPORTS[@]} u_dma_buf_device_* functions are EXPORT_SYMBOL_GPL"
	for sym in "${KAPI_EXPORTS[@]}"; do
		got=$(awk -F'\t' -v s="$sym" '$2 == s { print $4 " (" $3 ")" }' "$symvers" 2>/dev/null)
		[[ $got == "EXPORT_SYMBOL_GPL ("*"u-dma-buf)" ]] || bad+=("$sym: expected EXPORT_SYMBOL_GPL (u-dma-buf) got ${got:-no line}")
	done
	if ((${#bad[@]})); then
		test_fail "$what"
		printf '%s\n' "${bad[@]}" | diag_lines
	else
		test_pass "$what"
	fi
}

# build_kmods ARCH HEADERS MODULE_BUILD OUT: every test module, one test each; the .ko
# files are collected in OUT/ko.  First the test of the module's exports.
build_kmods() {
	local arch=$1 headers=$2 modbuild=$3 out=$4 src name warnings
	check_exports_gpl "$modbuild"
	rm -rf "$out"
	mkdir -p "$out/ko"
	while read -r src; do
		name=$(basename "$src")
		step build_kmod "$arch" "$headers" "$modbuild" "$src" "$out/$name"
		step_failed "kmod $name: build W=1 against u-dma-buf's Module.symvers" && continue
		warnings=$(grep -E 'warning:|error:|WARNING:|ERROR:' "$out/$name/build.log" || true)
		if [[ -n $warnings ]]; then
			test_fail "kmod $name: build W=1 against u-dma-buf's Module.symvers without warnings"
			diag_lines <<<"$warnings"
		else
			test_pass "kmod $name: build W=1 against u-dma-buf's Module.symvers without warnings"
		fi
		cp "$out/$name"/*.ko "$out/ko/"
	done < <(kmod_dirs)
}

# build_warnings LOG: the compiler's warning and error lines of a build log.
build_warnings() {
	grep -E 'warning:|error:' "$1" || true
}

guest_cc() {
	case $1 in
	amd64) echo gcc-12 ;;
	arm64) echo aarch64-linux-gnu-gcc-12 ;;
	# A 32-bit guest's programs get a 64-bit off_t: the tests seek, read and map past
	# 4 GiB as they do on the 64-bit guests.
	armhf) echo arm-linux-gnueabihf-gcc-12 -D_FILE_OFFSET_BITS=64 ;;
	esac
}

# guest_cc32 ARCH: the compiler words of the guest's 32-bit ABI (i386 on amd64, armhf on
# arm64), or nothing when there is none; the armhf cross compiler is installed on demand.
# (armhf itself is 32-bit: build_guest_programs builds no second copy there.)
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
		# shellcheck disable=SC2086
		bin_label='' build_guest_program "$out/$name" $cc
		head -n 5 "$src" | grep -q 'build: m32' || continue
		# On a 32-bit guest /t/bin is the 32-bit ABI already.
		[[ $arch != armhf ]] || continue
		if [[ -n $cc32 ]]; then
			# shellcheck disable=SC2086
			bin_label=' (32-bit)' build_guest_program "$out/32/$name" $cc32
		else
			test_skip "build guest program $name.c (32-bit)" "no 32-bit compiler for $arch"
		fi
	done
}
