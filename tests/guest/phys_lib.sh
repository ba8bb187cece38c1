# shellcheck shell=sh
# Helpers of the suites about memory that Linux does not manage (INTERFACE.md §14):
# 46-phys.sh (plain boots: the manager's phys=) and 78-dt-phys.sh (device-tree boots: a
# node with reg).  Sourced after lib.sh.
#
# QEMU models no caches, so what proves the cache maintenance is the call the module
# made: kprobes on the kernel's functions for such memory, arch_wb_cache_pmem(addr, size)
# (sync_for_device: write back) and arch_invalidate_pmem(addr, size) (sync_for_cpu:
# invalidate), both exported on amd64 and arm64.  Their addr is the module's kernel alias
# of the buffer, which user space cannot see: the suites learn it (KADDR) from a sync of
# the whole buffer at offset 0 and check every other call relative to it.

mc() { "$BIN/mgr_cmd" "$@"; }
# shellcheck disable=SC2317 # called through expect_pmem
req() { "$BIN/syncreq" "$@" 2>&1; }
yesno() { if "$@"; then echo yes; else echo no; fi; }

# pa N: N as the kernel's %pa prints it (16 hex digits on a 64-bit kernel; 8 on armhf,
# whose phys_addr_t has 32 bits without LPAE).
pa() {
	if [ "$WORD_BITS" = 64 ]; then printf '0x%016x' "$(($1))"; else printf '0x%08x' "$(($1))"; fi
}
# mem_range ADDR SIZE: the range as the kernel's log names it, "[mem 0x...-0x...]" (end
# inclusive).
mem_range() { echo "[mem $(pa "$1")-$(pa $(($1 + $2 - 1)))]"; }

# iomem_claim ADDR SIZE NAME: /proc/iomem has [ADDR, ADDR+SIZE) claimed as NAME.
iomem_claim() {
	grep -Eiq "^ *0*$(printf '%x' "$(($1))")-0*$(printf '%x' $(($1 + $2 - 1))) : $3\$" /proc/iomem
}
# iomem_name NAME: some range of /proc/iomem is claimed as NAME.
iomem_name() { grep -Eq "^ *[0-9a-f]+-[0-9a-f]+ : $1\$" /proc/iomem; }

# logged_range TEXT ADDR SIZE: some kernel log line since kmark names the range and matches
# the ERE TEXT.
logged_range() {
	klog | grep -F "$(mem_range "$2" "$3")" | grep -Eq -e "$1"
}

# encoded OFF SIZE DIR: the encoded one-off sync command of §5.2, as text.
encoded() { printf '0x%08X%08X' "$1" $(($2 | $3 << 2 | 1)); }
# stored DEV WHO OFF SIZE DIR: the stored range set through sysfs, then "1" written to
# sync_for_WHO; prints OK when every write worked.
stored() {
	echo "$(wr "$1" sync_offset "$3")$(wr "$1" sync_size "$4")$(wr "$1" sync_direction "$5")$(wr "$1" "sync_for_$2" 1)" |
		sed 's/^OKOKOKOK$/OK/'
}

# --- kprobes on arch_wb_cache_pmem / arch_invalidate_pmem -------------------------------
# pmem_probe_start: returns 1 with PMEM_PROBE_WHY set where they cannot be placed.
# pmem_probe_read: "wb addr=0x... size=N" / "inv addr=0x... size=N", one a call, since the
# start or the last read.
PMEM_GROUP=udmabuf_pmem
# shellcheck disable=SC2034 # PMEM_PROBE_WHY: read by the suites
pmem_probe_start() {
	PMEM_PROBE_WHY=
	[ -d "$TRACEFS/events" ] || mount -t tracefs nodev "$TRACEFS" 2>/dev/null
	if [ ! -w "$TRACEFS/kprobe_events" ]; then
		PMEM_PROBE_WHY="this kernel has no kprobe events (CONFIG_KPROBE_EVENTS)"
		return 1
	fi
	for _f in arch_wb_cache_pmem arch_invalidate_pmem; do
		if ! grep -q " $_f\$" /proc/kallsyms; then
			PMEM_PROBE_WHY="this kernel has no $_f (no CONFIG_ARCH_HAS_PMEM_API)"
			return 1
		fi
	done
	echo >"$TRACEFS/kprobe_events"
	for _f in wb:arch_wb_cache_pmem inv:arch_invalidate_pmem; do
		if ! echo "p:$PMEM_GROUP/${_f%%:*} ${_f#*:} addr=\$arg1:x64 size=\$arg2:u64" >>"$TRACEFS/kprobe_events"; then
			PMEM_PROBE_WHY="cannot place a kprobe on ${_f#*:}"
			return 1
		fi
	done
	echo 1 >"$TRACEFS/events"/$PMEM_GROUP/enable
	echo >"$TRACEFS/trace"
}
pmem_probe_read() {
	sed -n 's/^.* \(wb\|inv\): ([^)]*) /\1 /p' "$TRACEFS/trace" | sed 's/ *$//'
	echo >"$TRACEFS/trace"
}
pmem_probe_stop() {
	[ -w "$TRACEFS/kprobe_events" ] || return 0
	echo 0 >"$TRACEFS/events"/$PMEM_GROUP/enable 2>/dev/null
	echo >"$TRACEFS/kprobe_events"
}

# hex16 0xN: N as 16 hex digits.
hex16() {
	_v=${1#0x}
	while [ ${#_v} -lt 16 ]; do _v=0$_v; done
	echo "$_v"
}
# rel_off ADDR: "off=<ADDR - KADDR>" when ADDR is within 2^48 of KADDR (the top 16 bits the
# same: a kernel address and its neighbours), else "addr=ADDR".  Shell arithmetic has 63
# bits: the low 48 bits are subtracted.
rel_off() {
	_h1=$(hex16 "$1") _h2=$(hex16 "${KADDR:-0}")
	if [ -n "${KADDR:-}" ] && [ "${_h1%????????????}" = "${_h2%????????????}" ]; then
		echo "off=$((0x${_h1#????} - 0x${_h2#????}))"
	else
		echo "addr=$1"
	fi
}
# pmem_calls: the calls since the last read, relative to KADDR, ';' between them.
pmem_calls() { pmem_probe_read | rel_calls; }
# rel_calls: pmem_probe_read lines (stdin) relative to KADDR, ';' between them.
rel_calls() {
	while read -r _k _a _s; do
		[ -n "$_k" ] && echo "$_k $(rel_off "${_a#addr=}") $_s"
	done | tr '\n' ';' | sed 's/;$//'
}
# pmem_learn WHAT DEV SIZE: KADDR from one sync_for_device of the whole buffer at offset
# 0 (one arch_wb_cache_pmem(KADDR, SIZE)); a test.
pmem_learn() {
	pmem_probe_read >/dev/null
	_r=$(wr "$2" sync_for_device "$(encoded 0 "$3" 1)")
	_l=$(pmem_probe_read)
	KADDR=
	case $_l in
	"wb addr="*" size=$3")
		[ "$(printf '%s\n' "$_l" | grep -c '^')" = 1 ] && KADDR=${_l#wb addr=} KADDR=${KADDR%% *}
		;;
	esac
	if [ "$_r" = OK ] && [ -n "$KADDR" ]; then
		ok "$1: sync_for_device of the whole buffer at offset 0: one arch_wb_cache_pmem(kaddr, $3) (kaddr $KADDR, the module's alias, checked against below)"
		return 0
	fi
	not_ok "$1: sync_for_device of the whole buffer at offset 0: one arch_wb_cache_pmem(kaddr, $3)" \
		"expected OK and one call 'wb addr=<kaddr> size=$3' got $_r and:" "${_l:-no call}"
	return 1
}
# wb OFF SIZE, inv OFF SIZE: the expected call, relative to KADDR.
wb() { echo "wb off=$1 size=$2"; }
inv() { echo "inv off=$1 size=$2"; }
# expect_pmem WHAT EXPECTED CMD...: CMD prints OK and makes exactly the calls EXPECTED (';'
# between them, empty: none).
expect_pmem() {
	_w=$1 _e=$2
	shift 2
	pmem_probe_read >/dev/null
	_r=$("$@")
	check "$_w" "OK|$_e" "$_r|$(pmem_calls)"
}
# expect_refused WHAT ERRNO CMD...: CMD prints ERRNO (its whole output ends with it) and
# makes no call.
expect_refused() {
	_w=$1 _e=$2
	shift 2
	pmem_probe_read >/dev/null
	_r=$("$@")
	_r=${_r##*: }
	check "$_w" "$_e|" "$_r|$(pmem_calls)"
}

# phys_sync_checks DEV SIZE: every sync request of §5.2/§8 on DEV (probes started, KADDR
# learnt): sync_for_device -> arch_wb_cache_pmem(kaddr + offset, size); sync_for_cpu ->
# arch_invalidate_pmem(kaddr + offset, size), nothing with direction 1 (to the device).
# SIZE >= 64 KiB.
phys_sync_checks() {
	_d=$1 _sz=$2
	for who in cpu device; do
		for dir in 0 1 2; do
			if [ $who = device ]; then
				e1=$(wb 4096 8192) e2=$(wb 16 48) e3=$(wb 8192 4096) e4=$(wb 4096 32768) e5=$(wb 20480 1024) what=arch_wb_cache_pmem
			elif [ $dir = 1 ]; then
				e1='' e2='' e3='' e4='' e5='' what="no call (direction 1: to the device)"
			else
				e1=$(inv 4096 8192) e2=$(inv 16 48) e3=$(inv 8192 4096) e4=$(inv 4096 32768) e5=$(inv 20480 1024) what=arch_invalidate_pmem
			fi
			expect_pmem "$_d: sysfs stored offset 4096 size 8192 direction $dir, 1 to sync_for_$who: $what${e1:+ of those bytes}" \
				"$e1" stored "$_d" $who 4096 8192 $dir
			expect_pmem "$_d: sysfs stored unaligned offset 16 size 48 direction $dir, sync_for_$who: $what${e2:+ of exactly those bytes}" \
				"$e2" stored "$_d" $who 16 48 $dir
			expect_pmem "$_d: sysfs encoded $(encoded 8192 4096 $dir) to sync_for_$who: $what${e3:+ of offset 8192 size 4096}" \
				"$e3" wr "$_d" "sync_for_$who" "$(encoded 8192 4096 $dir)"
			expect_pmem "$_d: ioctl SET_SYNC_FOR_$(echo $who | tr '[:lower:]' '[:upper:]') $(encoded 4096 32768 $dir): $what${e4:+ of offset 4096 size 32768}" \
				"$e4" req "$_d" ioctl-$who "$(encoded 4096 32768 $dir)"
			expect_pmem "$_d: ioctl SET_SYNC command $who offset 20480 size 1024 direction $dir: $what${e5:+ of that range}" \
				"$e5" req "$_d" set-sync $who 20480 1024 $dir
		done
		if [ $who = device ]; then e=$(wb 0 "$_sz"); else e=$(inv 0 "$_sz"); fi
		expect_pmem "$_d: sysfs encoded command with direction 3 to sync_for_$who: direction 0, the whole buffer" \
			"$e" wr "$_d" "sync_for_$who" "$(encoded 0 "$_sz" 3)"
		stored "$_d" $who 12288 4096 2 >/dev/null
		if [ $who = device ]; then e=$(wb 12288 4096); else e=$(inv 12288 4096); fi
		expect_pmem "$_d: ioctl SET_SYNC_FOR_$(echo $who | tr '[:lower:]' '[:upper:]') 1: the stored range (offset 12288 size 4096 direction 2)" \
			"$e" req "$_d" ioctl-$who 1
		expect_pmem "$_d: sysfs 0 to sync_for_$who: no call" "" wr "$_d" "sync_for_$who" 0
		expect_refused "$_d: sysfs encoded range past the end to sync_for_$who: EINVAL, no call" EINVAL \
			wr "$_d" "sync_for_$who" "$(encoded $((_sz - 4096)) 8192 0)"
		expect_refused "$_d: ioctl SET_SYNC_FOR_$(echo $who | tr '[:lower:]' '[:upper:]') with a range past the end: EINVAL, no call" EINVAL \
			req "$_d" ioctl-$who "$(encoded $((_sz - 4096)) 8192 0)"
		expect_refused "$_d: ioctl SET_SYNC command $who with an offset past the end: EINVAL, no call" EINVAL \
			req "$_d" set-sync $who "$_sz" 4096 0
	done
	wr "$_d" sync_offset 0 >/dev/null
	wr "$_d" sync_size "$_sz" >/dev/null
	wr "$_d" sync_direction 0 >/dev/null
}

# phys_mmap_writeback_checks DEV: an uncached mapping (sync_mode 1..3 with O_SYNC or
# sync-always) writes back the mapped pages first; a cached one makes no call (arm64,
# probes started, KADDR learnt).
phys_mmap_writeback_checks() {
	_d=$1 _m0=$(attr "$1" sync_mode)
	for mode in 0 1 2 3 4 5 6 7; do
		wr "$_d" sync_mode $mode >/dev/null
		for o in plain sync; do
			flav=$((mode & 3))
			[ $o = plain ] && [ $((mode & 4)) = 0 ] && flav=0
			if [ $flav = 0 ]; then
				expect_pmem "$_d: mmap of pages 2..5, sync_mode $mode, $o fd: a cached view, no call" "" req "$_d" mmap 2 4 $o
			else
				expect_pmem "$_d: mmap of pages 2..5, sync_mode $mode, $o fd: an uncached view, its 4 pages written back first" \
					"$(wb 8192 16384)" req "$_d" mmap 2 4 $o
			fi
		done
	done
	wr "$_d" sync_mode "$_m0" >/dev/null
}

# phys_data_checks DEV SIZE SEED: data through write()/read(), dd with seeks, and a
# MAP_SHARED mapping (ut pattern); mmap past the end refused.
phys_data_checks() {
	_d=$1 _sz=$2
	dd if=/dev/urandom of=/tmp/phys.pat bs=4096 count=$((_sz / 4096)) 2>/dev/null
	dd if=/tmp/phys.pat of="/dev/$_d" bs=65536 2>/dev/null
	dd if="/dev/$_d" of=/tmp/phys.back bs=65536 2>/dev/null
	check "$_d: $_sz random bytes written with dd (write()) read back with dd (read())" \
		"$(md5sum </tmp/phys.pat)" "$(md5sum </tmp/phys.back)"
	dd if="/dev/$_d" of=/tmp/phys.p5 bs=4096 skip=5 count=1 2>/dev/null
	dd if=/tmp/phys.pat of=/tmp/phys.f5 bs=4096 skip=5 count=1 2>/dev/null
	check "$_d: dd skip=5 bs=4096 (llseek) reads page 5" "$(md5sum </tmp/phys.f5)" "$(md5sum </tmp/phys.p5)"
	printf 'llseek-write' | dd of="/dev/$_d" bs=1 seek=$((_sz - 12)) conv=notrunc 2>/dev/null
	check "$_d: dd seek to the last 12 bytes (llseek), written, read back" "llseek-write" \
		"$(dd if="/dev/$_d" bs=1 skip=$((_sz - 12)) count=12 2>/dev/null)"
	check "$_d: pattern through write() checked through a mapping, through a mapping checked through read() (ut pattern)" \
		OK "$("$BIN/ut" pattern "$_d" "$3")"
	_np=$((_sz / 4096))
	check "$_d: mmap of every page works" OK "$(req "$_d" mmap 0 $_np)"
	_r=$(req "$_d" mmap $((_np - 1)) 2)
	check "$_d: mmap of 2 pages from the last page (past the end) is refused" refused \
		"$([ "$_r" != OK ] && echo refused || echo "$_r")"
	diag "$_d: mmap past the end: $_r"
	_r=$(req "$_d" mmap "$_np" 1)
	check "$_d: mmap of 1 page at the page offset of the size (past the end) is refused" refused \
		"$([ "$_r" != OK ] && echo refused || echo "$_r")"
}

# phys_memtype_checks DEV: the page-table entries of the mappings (arm64: normal-wb when
# cached, normal-nc for every uncached flavour; page frames, VM_PFNMAP|VM_IO, of
# phys_addr), and the kernel's alias cached, through tests/kmod/udmabuf_pte_test (43-memtype).
phys_memtype_checks() {
	_d=$1 _m0=$(attr "$1" sync_mode)
	if [ "$ARCH" != arm64 ]; then
		# amd64: PAT decides (a mapping of an MMIO BAR may come out uncached whatever
		# is asked); reported, not checked.  armhf: uncached, no table.
		if [ "$ARCH" = amd64 ] && [ -e "$KMOD/udmabuf_pte_test.ko" ] &&
			[ "$("$BIN/modctl" load "$KMOD/udmabuf_pte_test.ko")" = OK ]; then
			diag "$_d ($ARCH): plain fd $("$BIN/memtype" node "$_d" 0); O_SYNC $("$BIN/memtype" node "$_d" 1); kernel $("$BIN/memtype" kernel "$_d")"
			"$BIN/modctl" unload udmabuf_pte_test >/dev/null
		fi
		skip "$_d: memory types of the mappings" "checked on arm64 only (ARCH=$ARCH)"
		return 0
	fi
	if [ ! -e "$KMOD/udmabuf_pte_test.ko" ]; then
		skip "$_d: memory types of the mappings" "no $KMOD/udmabuf_pte_test.ko in this guest"
		return 0
	fi
	_r=$("$BIN/modctl" load "$KMOD/udmabuf_pte_test.ko")
	if [ "$_r" != OK ]; then
		not_ok "insmod udmabuf_pte_test" "expected OK got $_r"
		return 0
	fi
	for sm in 0 1 2 3 4 5 6 7; do
		wr "$_d" sync_mode $sm >/dev/null
		for os in 0 1; do
			ty=normal-wb fl=cached
			if [ $((sm & 3)) != 0 ] && { [ $os = 1 ] || [ $((sm & 4)) != 0 ]; }; then
				ty=normal-nc fl=uncached
			fi
			check "$_d: sync_mode $sm, O_SYNC $os ($fl): every page $ty, page frames of phys_addr (pfnmap,io)" \
				"type=$ty kind=pfn vma=pfnmap,io pfns=phys" "$("$BIN/memtype" node "$_d" $os)"
		done
	done
	wr "$_d" sync_mode "$_m0" >/dev/null
	check_match "$_d: the module's kernel alias is cached (normal-wb)" \
		'region=[a-z]+ type=normal-wb(-tagged)?' "$("$BIN/memtype" kernel "$_d")"
	"$BIN/modctl" unload udmabuf_pte_test >/dev/null
}

# phys_probes: PROBES=1 with the pmem kprobes started, else PROBES=0 (expected on armhf,
# which has no pmem API; a failure elsewhere).
# shellcheck disable=SC2034 # PROBES is read by the suites
phys_probes() {
	PROBES=1
	pmem_probe_start && return 0
	PROBES=0
	if [ "$ARCH" = armhf ]; then
		diag "no pmem probes: $PMEM_PROBE_WHY (expected on armhf)"
	else
		not_ok "kprobes on arch_wb_cache_pmem and arch_invalidate_pmem" "expected them on $ARCH got: $PMEM_PROBE_WHY"
	fi
}
