#!/bin/sh
# 10-params: module parameters and the kernel log they produce.
# INTERFACE.md §1 (names, node mode), §2 (parameters), §11 (log), §12.9, §13.2, §13.8, §13.11.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

# node_check NAME MINOR: class device, minor number, /dev node, mode and owner.
node_check() {
	_n=$1 _m=$2
	_dev=$(attr "$_n" dev)
	check "$_n: sysfs dev has minor $_m" "$_m" "${_dev#*:}"
	if [ -c "/dev/$_n" ]; then
		# shellcheck disable=SC2046
		set -- $(stat -c '%t %T %a %u %g' "/dev/$_n")
		check "/dev/$_n is the character device $_dev" "$_dev" "$((0x$1)):$((0x$2))"
		check "/dev/$_n has mode 0600 and owner root:root" "600 0 0" "$3 $4 $5"
	else
		not_ok "/dev/$_n exists" "expected a character device got '$(ls -l "/dev/$_n" 2>&1)'"
	fi
}

# The five info lines of §11, exactly (label left-justified in 14 columns, then " = ").
info_block() {
	_n=$1 _alloc=$2
	_dev=$(attr "$_n" dev)
	printf 'u-dma-buf %s: %-14s = %s\n' \
		"$_n" "driver version" "$(attr "$_n" driver_version)" \
		"$_n" "major number" "${_dev%:*}" \
		"$_n" "minor number" "${_dev#*:}" \
		"$_n" "phys address" "$(attr "$_n" phys_addr)" \
		"$_n" "buffer size" "$_alloc"
}

# The DMA detail lines of info_enable bit 1, as regexes, in order.
detail_regexes() {
	_n=$1 _mask=$2 _mode=$3
	printf 'u-dma-buf %s: %-14s = %s\n' \
		"$_n" "dma device" ".+" \
		"$_n" "dma bus" ".*" \
		"$_n" "dma coherent" "$(attr "$_n" dma_coherent)" \
		"$_n" "dma mask" "0x0*$_mask" \
		"$_n" "iommu domain" ".+" \
		"$_n" "mmap mode" "$_mode"
}

# lines_match WHAT REGEXES LINES: the lines match the regexes one to one, in order.
lines_match() {
	_what=$1 _re=$2 _lines=$3
	_nre=$(printf '%s\n' "$_re" | wc -l)
	_nl=$(printf '%s\n' "$_lines" | wc -l)
	_i=1 _bad=
	while [ $_i -le "$_nre" ]; do
		_r=$(printf '%s\n' "$_re" | sed -n "${_i}p")
		_l=$(printf '%s\n' "$_lines" | sed -n "${_i}p")
		printf '%s\n' "$_l" | grep -Eqx -e "$_r" || _bad="line $_i: expected /$_r/ got '$_l'"
		[ -n "$_bad" ] && break
		_i=$((_i + 1))
	done
	[ -z "$_bad" ] && [ "$_nre" -ne "$_nl" ] && _bad="expected $_nre lines got $_nl"
	if [ -z "$_bad" ]; then ok "$_what"; else not_ok "$_what" "$_bad" "module lines:" "$_lines"; fi
}

# A regex matching a line literally.
re_quote() { printf '%s\n' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

# refused WHAT ERRNOS PARAMS...: the load fails with one of ERRNOS (a|b) and
# leaves nothing behind.
refused() {
	_rw=$1 _re=$2
	shift 2
	if load "$@"; then
		not_ok "$_rw" "expected insmod $* to fail with $_re got OK"
		cleanup
		return 1
	fi
	if printf '%s\n' "$LOAD" | grep -Eqx "$_re" && ! loaded && [ ! -e "$CLASS" ]; then
		ok "$_rw"
	else
		not_ok "$_rw" "expected insmod $* to fail with $_re and leave nothing got $LOAD, loaded=$(loaded && echo yes || echo no)"
		cleanup
	fi
}

# ------------------------------------------------------------------------
# One buffer with the default info_enable (1): node, sysfs, exact log lines.

kmark
if must_load "insmod udmabuf0=5000 creates a buffer" udmabuf0=5000; then
	node_check udmabuf0 0
	check "udmabuf0=5000: sysfs size is the requested 5000" 5000 "$(attr udmabuf0 size)"
	exp="$(info_block udmabuf0 8192)
u-dma-buf u-dma-buf.0: driver installed."
	got=$(klog_mod)
	if [ "$got" = "$exp" ]; then
		ok "info_enable=1 (default): log has the five info lines with the page-rounded size, then 'driver installed.'"
	else
		not_ok "info_enable=1 (default): log has the five info lines with the page-rounded size, then 'driver installed.'" \
			"expected:" "$exp" "got:" "$got"
	fi
	check "log does not print kernel pointers" "" \
		"$(printf '%s\n' "$got" | grep -Eo 'ffff[0-9a-f]{12}' || true)"
	kmark
	must_unload "rmmod removes the module"
	check "rmmod logs 'u-dma-buf u-dma-buf.0: driver removed.'" \
		"u-dma-buf u-dma-buf.0: driver removed." "$(klog_mod)"
	check "after rmmod /dev/udmabuf0 and the class are gone" "no no" \
		"$([ -e /dev/udmabuf0 ] && echo yes || echo no) $([ -e $CLASS ] && echo yes || echo no)"
fi

# ------------------------------------------------------------------------
# Eight buffers at once, each size written another way.

kmark
if must_load "insmod udmabuf0..7 creates eight buffers at once" \
	udmabuf0=4096 udmabuf1=8K udmabuf2=0x3000 udmabuf3=040000 \
	udmabuf4=1M udmabuf5=0x1000 udmabuf6=20000 udmabuf7=4K info_enable=0; then
	n=0
	for size in 4096 8192 12288 16384 1048576 4096 20000 4096; do
		check "udmabuf$n exists with size $size (decimal, K, 0x, octal, M suffixes)" \
			"$size" "$(attr udmabuf$n size)"
		node_check udmabuf$n $n
		n=$((n + 1))
	done
	check "info_enable=0: the module logs nothing at load" "" "$(klog_mod)"
	kmark
	must_unload "rmmod removes eight buffers"
	check "info_enable=0: the module logs nothing at rmmod" "" "$(klog_mod)"
fi

kmark
if must_load "insmod udmabuf1=4K udmabuf3=8K udmabuf6=12K creates three buffers" \
	udmabuf1=4K udmabuf3=8K udmabuf6=12K; then
	got=
	for n in 0 1 2 3 4 5 6 7; do [ -e /dev/udmabuf$n ] && got="$got $n"; done
	check "only /dev/udmabuf1, 3 and 6 exist" " 1 3 6" "$got"
	for n in 1 3 6; do node_check udmabuf$n $n; done
	check "one 'driver installed.' line per buffer, named u-dma-buf.N" \
		"u-dma-buf u-dma-buf.1: driver installed.
u-dma-buf u-dma-buf.3: driver installed.
u-dma-buf u-dma-buf.6: driver installed." "$(klog_mod | grep 'installed' | sort)"
	kmark
	must_unload "rmmod removes three buffers"
	check "one 'driver removed.' line per buffer" \
		"u-dma-buf u-dma-buf.1: driver removed.
u-dma-buf u-dma-buf.3: driver removed.
u-dma-buf u-dma-buf.6: driver removed." "$(klog_mod | sort)"
fi

if must_load "insmod udmabuf0=0 loads" udmabuf0=0; then
	check "udmabuf0=0 creates no buffer" no "$([ -e /dev/udmabuf0 ] && echo yes || echo no)"
	must_unload "rmmod after udmabuf0=0"
fi

# ------------------------------------------------------------------------
# Sizes that cannot be allocated: ENOMEM, the module's own line, no WARNING.

# cannot_alloc WHAT PARAM: insmod fails with ENOMEM and the log says why.
cannot_alloc() {
	_cw=$1 _cp=$2
	kmark
	refused "$_cw: insmod fails with ENOMEM, nothing left loaded" ENOMEM "$_cp"
	_l=$(klog_mod)
	_cwhy=$(printf '%s\n' "$_l" | grep -F udmabuf0 |
		grep -Ei 'cma|contiguous|too (big|large)|exceed|max|larger|order' || true)
	if [ -n "$_cwhy" ]; then
		ok "$_cw: the module logs a line naming udmabuf0 and the cause"
	else
		not_ok "$_cw: the module logs a line naming udmabuf0 and the cause" \
			"expected a u-dma-buf line with udmabuf0 and the cause (CMA / too big) got:" "$_l"
	fi
	if printf '%s\n' "$_cwhy" | grep -Eqi 'try|hint|use|increase|reduce|smaller|cma=|consider|enable'; then
		ok "$_cw: the line gives a hint"
	else
		not_ok "$_cw: the line gives a hint" "expected a hint (try/use/cma=/...) got:" "$_l"
	fi
	check_log_clean "$_cw: no WARNING or page allocation failure in the log"
}

# too_big_32 WHAT PARAM VALUE: on a 32-bit kernel a size of 4 GiB or more is no size_t:
# insmod fails with EINVAL, and the log line names udmabuf0 with the whole VALUE (so it
# was not truncated to 32 bits) and says what is allowed.
too_big_32() {
	_cw=$1 _cp=$2 _cv=$3
	kmark
	refused "$_cw: insmod fails with EINVAL (more than a 32-bit size_t), nothing left loaded" EINVAL "$_cp"
	_l=$(klog_mod)
	if printf '%s\n' "$_l" | grep -F udmabuf0 | grep -F "$_cv" | grep -Eqi 'invalid|must be|too (big|large)|exceed|max'; then
		ok "$_cw: the module logs a line naming udmabuf0, the whole size $_cv and the limit"
	else
		not_ok "$_cw: the module logs a line naming udmabuf0, the whole size $_cv and the limit" \
			"expected a u-dma-buf line with udmabuf0, $_cv and the limit got:" "$_l"
	fi
	check_log_clean "$_cw: no WARNING or page allocation failure in the log"
}

cma0=$(meminfo CmaFree)
if [ "$WORD_BITS" = 32 ]; then
	too_big_32 "udmabuf0=4G parses as 4 GiB" udmabuf0=4G 4294967296
	too_big_32 "udmabuf0=0x100000000 parses as 4 GiB" udmabuf0=0x100000000 4294967296
	too_big_32 "udmabuf0=0x100001000 is not truncated to 4096" udmabuf0=0x100001000 4294971392
else
	cannot_alloc "udmabuf0=4G parses as 4 GiB" udmabuf0=4G
	cannot_alloc "udmabuf0=0x100000000 parses as 4 GiB" udmabuf0=0x100000000
	cannot_alloc "udmabuf0=0x100001000 is not truncated to 4096" udmabuf0=0x100001000
fi
if insmod "$MOD" udmabuf0=4G 2>/dev/null; then
	not_ok "busybox insmod udmabuf0=4G exits non-zero" "expected a failure got exit 0"
	cleanup
else
	ok "busybox insmod udmabuf0=4G exits non-zero"
fi
# Debian's arm64 kernels have CMA, its amd64 ones not; the debug kernel (amd64) has.
CMA_TOTAL=$(meminfo CmaTotal)
if [ "${CMA_TOTAL:-0}" -gt 0 ]; then
	back=$((cma0 - $(meminfo CmaFree)))
	if [ "$back" -le "$CMA_SLACK" ]; then
		ok "failed big loads leave CMA as it was (CmaFree $back kB below the start)"
	else
		not_ok "failed big loads leave CMA as it was" "expected CmaFree within $CMA_SLACK kB of $cma0 kB got $back kB less"
	fi
fi

if [ "${CMA_TOTAL:-0}" -eq 0 ]; then
	cannot_alloc "udmabuf0=8M on $ARCH without CMA (4 MiB limit)" udmabuf0=8M
else
	# CmaFree is not exact: pages on the per-CPU free lists are not counted, and movable
	# pages of other users come and go in CMA pageblocks (a few MiB here). CMA_SLACK
	# is far below the 32 MiB that a wrong source or a leaked buffer would show.
	cma0=$(meminfo CmaFree)
	if must_load "udmabuf0=32M on $ARCH loads (from CMA)" udmabuf0=32M info_enable=0; then
		check "udmabuf0=32M: size 33554432" 33554432 "$(attr udmabuf0 size)"
		used=$((cma0 - $(meminfo CmaFree)))
		if [ "$used" -ge $((32768 - CMA_SLACK)) ]; then
			ok "udmabuf0=32M takes 32 MiB of CMA (CmaFree drop $used kB)"
		else
			not_ok "udmabuf0=32M takes 32 MiB of CMA" \
				"expected CmaFree to drop by >= $((32768 - CMA_SLACK)) kB got $used kB"
		fi
		check "udmabuf0=32M: the whole buffer is usable through write(), read() and mmap" OK \
			"$("$BIN/ut" pattern udmabuf0 32)"
		must_unload "rmmod after udmabuf0=32M"
		# CmaFree right after rmmod is no measure (pages on per-CPU lists and movable
		# pages of other users: up to ~29 MiB seen); it is printed, and the exact check
		# is that 3/4 of CMA can be allocated again.
		echo "# CmaFree after rmmod: $((cma0 - $(meminfo CmaFree))) kB below the start"
		big=$(($(meminfo CmaTotal) * 3 / 4 / 1024))M
		if must_load "rmmod gave the 32 MiB back: a buffer of 3/4 of CMA (udmabuf0=$big) loads" udmabuf0=$big info_enable=0; then
			must_unload "rmmod of udmabuf0=$big"
		fi
	fi
fi

# ------------------------------------------------------------------------
# Values that refuse the load.

for v in abc 12Q -4096 4KB 0x 1.5M 18446744073709551616; do
	refused "udmabuf0=$v (garbage size) refuses the load" 'EINVAL|ERANGE' "udmabuf0=$v"
done

# refused_with_message PARAM NAME: refused, and the log names the parameter.
refused_with_message() {
	kmark
	refused "$1 refuses the load" 'EINVAL|ERANGE' udmabuf0=4096 "$1"
	_l=$(klog_mod)
	if printf '%s\n' "$_l" | grep -q "$2"; then
		ok "$1: the module logs a line naming $2"
	else
		not_ok "$1: the module logs a line naming $2" "expected a u-dma-buf line with '$2' got:" "$_l"
	fi
}
for v in 11 65 0 -1 100; do refused_with_message dma_mask_bit=$v dma_mask_bit; done
for v in 0 5 -1 9; do refused_with_message quirk_mmap_mode=$v quirk_mmap_mode; done

if must_load "dma_mask_bit=12 (lowest) loads without buffers" dma_mask_bit=12; then
	must_unload "rmmod after dma_mask_bit=12"
fi
if must_load "dma_mask_bit=64 (highest) loads with a buffer" dma_mask_bit=64 udmabuf0=64K; then
	check "dma_mask_bit=64: the buffer is usable" OK "$("$BIN/ut" pattern udmabuf0 64)"
	must_unload "rmmod after dma_mask_bit=64"
fi
if must_load "default dma_mask_bit (32) loads" udmabuf0=64K; then
	phys=$(attr udmabuf0 phys_addr)
	check_match "dma_mask_bit=32: phys_addr is below 4 GiB" '0x00000000[0-9a-f]{8}' "$phys"
	must_unload "rmmod after dma_mask_bit=32"
fi

# ------------------------------------------------------------------------
# info_enable 0/1/3/7 and the mmap mode in effect.

for ie in 0 1 3 7; do
	kmark
	must_load "info_enable=$ie loads" udmabuf0=4096 info_enable=$ie || continue
	got=$(klog_mod)
	blk="$(info_block udmabuf0 4096)"
	inst="u-dma-buf u-dma-buf.0: driver installed."
	case $ie in
	0) check "info_enable=0: no module line at load" "" "$got" ;;
	1) check "info_enable=1: exactly the info block and 'driver installed.'" "$blk
$inst" "$got" ;;
	3)
		lines_match "info_enable=3: info block, dma device/bus/coherent/mask/iommu domain/mmap mode, 'driver installed.'" \
			"$(re_quote "$blk")
$(detail_regexes udmabuf0 ffffffff 3)
$(re_quote "$inst")" "$got"
		ie3=$(printf '%s\n' "$got" | wc -l)
		check "info_enable=3: log does not print kernel pointers" "" \
			"$(printf '%s\n' "$got" | grep -Eo 'ffff[0-9a-f]{12}' || true)"
		;;
	7)
		extra=$(printf '%s\n' "$got" | grep -v '^u-dma-buf udmabuf0: ' | grep -vxF "$inst" || true)
		check "info_enable=7: one configuration line more than info_enable=3" \
			"$((${ie3:-0} + 1)) 1" "$(printf '%s\n' "$got" | wc -l) $(printf '%s' "$extra" | grep -c '^')"
		lines_match "info_enable=7: the info block and detail lines are unchanged" \
			"$(re_quote "$blk")
$(detail_regexes udmabuf0 ffffffff 3)" "$(printf '%s\n' "$got" | grep '^u-dma-buf udmabuf0: ')"
		;;
	esac
	kmark
	must_unload "rmmod with info_enable=$ie"
	if [ $ie = 0 ]; then
		check "info_enable=0: no module line at rmmod" "" "$(klog_mod)"
	else
		check "info_enable=$ie: rmmod logs 'driver removed.'" \
			"u-dma-buf u-dma-buf.0: driver removed." "$(klog_mod)"
	fi
done

kmark
if must_load "dma_mask_bit=40 info_enable=3 loads" dma_mask_bit=40 info_enable=3 udmabuf0=4096; then
	check_match "dma_mask_bit=40: the log shows dma mask 0xffffffffff" \
		"u-dma-buf udmabuf0: dma mask       = 0x0*ffffffffff" "$(klog_mod | grep 'dma mask')"
	must_unload "rmmod after dma_mask_bit=40"
fi

for q in 1 2 3 4; do
	kmark
	must_load "quirk_mmap_mode=$q loads" quirk_mmap_mode=$q info_enable=3 udmabuf0=64K udmabuf1=5000 || continue
	check "quirk_mmap_mode=$q: sysfs quirk_mmap_mode reads $q" "$q" "$(attr udmabuf0 quirk_mmap_mode)"
	check "quirk_mmap_mode=$q: the log shows mmap mode $q" \
		"u-dma-buf udmabuf0: mmap mode      = $q" "$(klog_mod | grep 'udmabuf0: mmap mode')"
	check "quirk_mmap_mode=$q: a 64 KiB buffer is usable through mmap, read() and write()" OK \
		"$("$BIN/ut" pattern udmabuf0 $q)"
	check "quirk_mmap_mode=$q: a 5000-byte buffer is usable through mmap, read() and write()" OK \
		"$("$BIN/ut" pattern udmabuf1 $q)"
	must_unload "rmmod after quirk_mmap_mode=$q"
done

check "dma_coherent of a parameter buffer on $ARCH" "$EXPECT_COHERENT" \
	"$(load udmabuf0=4096 info_enable=0 && attr udmabuf0 dma_coherent)"
cleanup

# The armhf guests: with 512 MiB all RAM is lowmem; with 1 GiB the kernel (3G/1G split)
# keeps about 768 MiB as lowmem and the rest is highmem (HighTotal), where the default
# CMA area lies.  This tells which of the two a boot is.
if [ "$ARCH" = armhf ]; then
	mt=$(meminfo MemTotal) ht=$(meminfo HighTotal)
	if [ "${mt:-0}" -gt 786432 ]; then
		if [ "${ht:-0}" -gt 0 ]; then
			ok "armhf with ${mt} kB of RAM has highmem (HighTotal $ht kB)"
		else
			not_ok "armhf with ${mt} kB of RAM has highmem" "expected HighTotal > 0 got '${ht:-none}'"
		fi
	else
		check "armhf with ${mt} kB of RAM (512 MiB) has no highmem (HighTotal kB)" 0 "${ht:-0}"
	fi
fi

finish
