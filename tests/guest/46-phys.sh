#!/bin/sh
# 46-phys: memory that Linux does not manage as a buffer (INTERFACE.md §14, issue 13),
# made at run time by the manager's "create NAME SIZE phys=ADDRESS".
#
# The memory: on ARM, the harness gives QEMU 16 MiB more RAM than Linux may use (mem=,
# tests/lib/boot.sh), at PHYS_BASE (PHYS_SIZE bytes); on amd64, the 1 MiB memory BAR
# (BAR2) of a QEMU ivshmem-plain device (1af4:1110) backed by a host file, as a card's
# memory: the host seeded it with "u-dma-buf-ivshmem-seed" at offset 512 KiB, and checks
# after the boot that the token this suite wrote through a mapping and synced for the
# device (the PHYS-BACKING line) is in the file (tests/lib/collect.sh check_phys_backing).
#
# Checked: the claim in /proc/iomem while the buffer lives; the sysfs attributes; every sync
# request as a call of arch_wb_cache_pmem / arch_invalidate_pmem with the right range
# (phys_lib.sh); range checks; the write-back before an uncached mapping and the memory
# types of the mappings (arm64); data through read/write/dd/mmap; EXPORT refused; the
# refusals (System RAM, unaligned, size 0, claimed, bus=, capabilities) with their log
# lines; contents kept across delete/create and rmmod/insmod; the bench on such a buffer.
# armhf (no pmem API): mapped uncached, syncs do nothing, one log line per buffer.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/phys_lib.sh
. "${0%/*}/phys_lib.sh"

B=phys0

# --- where the memory is -------------------------------------------------------------------
BASE='' RSIZE='' IVSHMEM=''
if [ "$ARCH" = amd64 ]; then
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1af4 ] && [ "$(cat "$d/device" 2>/dev/null)" = 0x1110 ] &&
			IVSHMEM=$d && break
	done
	if [ -z "$IVSHMEM" ]; then
		not_ok "the ivshmem-plain device (1af4:1110) is on the PCI bus" "expected it (tests/lib/boot.sh) got: $(ls /sys/bus/pci/devices)"
		echo "PHYS-BACKING skip the guest found no ivshmem-plain device"
		finish
	fi
	# Memory decoding on, no driver bound: nobody else claims the BAR.
	echo 1 >"$IVSHMEM/enable"
	read -r bs be _ <<EOF
$(sed -n 3p "$IVSHMEM/resource")
EOF
	BASE=$bs RSIZE=$((be - bs + 1))
	diag "ivshmem ${IVSHMEM##*/}: BAR2 $BASE size $RSIZE, enable $(cat "$IVSHMEM/enable")"
	check "ivshmem BAR2 is 1 MiB of memory at a page-aligned address" "1048576 0" "$RSIZE $((BASE % 4096))"
else
	BASE=$PHYS_BASE RSIZE=$PHYS_SIZE
fi
if [ -z "$BASE" ] || [ -z "$RSIZE" ]; then
	skip "buffers over memory that Linux does not manage" "the harness passed no PHYS_BASE/PHYS_SIZE to this $ARCH guest"
	finish
fi
SZ=1048576
diag "memory outside System RAM: $BASE, $RSIZE bytes; the buffer: $SZ bytes at $BASE"
# in_ram ADDR SIZE: [ADDR, ADDR+SIZE) meets a System RAM range of /proc/iomem.
in_ram() {
	sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : System RAM$/\1 \2/p' /proc/iomem | {
		while read -r _s _e; do
			[ $((0x$_s)) -le $(($1 + $2 - 1)) ] && [ $((0x$_e)) -ge $(($1)) ] && exit 0
		done
		exit 1
	}
}
if in_ram "$BASE" "$RSIZE"; then
	not_ok "the range lies outside System RAM (/proc/iomem)" "expected no System RAM in $BASE + $RSIZE got:" "$(grep 'System RAM' /proc/iomem)"
else
	ok "the range $BASE + $RSIZE lies outside System RAM (/proc/iomem)"
fi

if ! must_load "insmod with no buffer" info_enable=0; then
	finish
fi
phys_probes

# --- creation ------------------------------------------------------------------------------
check "before: /proc/iomem has no claim named $B" no "$(yesno iomem_name $B)"
kmark
[ $PROBES = 1 ] && pmem_probe_read >/dev/null
check "create $B $SZ phys=$BASE" "OK yes" "$(mc "w:create $B $SZ phys=$BASE\n" e:/dev/$B)"
if [ ! -e "$CLASS/$B" ]; then
	diag "log: $(klog | tail -n 5)"
	echo "PHYS-BACKING skip create $B phys=$BASE failed"
	finish
fi
[ $PROBES = 1 ] && CREATE_CALLS=$(pmem_probe_read)
check "$B: phys_addr is the given address" "$((BASE))" "$(($(attr $B phys_addr)))"
check "$B: size" $SZ "$(attr $B size)"
check "$B: dma_coherent reads 0" 0 "$(attr $B dma_coherent)"
check "/proc/iomem: [$BASE, +$SZ) claimed as $B" yes "$(yesno iomem_claim "$BASE" $SZ $B)"

if [ "$ARCH" = amd64 ]; then
	check "$B: the host's seed at offset 512 KiB is there (not zeroed on creation; the mapping is the BAR)" \
		u-dma-buf-ivshmem-seed "$("$BIN/physmap" get $B 524288 22)"
fi

if [ $PROBES = 1 ]; then
	if pmem_learn "$B" $B $SZ; then
		check "$B: creation made one call, arch_invalidate_pmem(kaddr, $SZ)" \
			"$(inv 0 $SZ)" "$(printf '%s\n' "$CREATE_CALLS" | rel_calls)"
		phys_sync_checks $B $SZ
		if [ "$ARCH" = arm64 ]; then
			phys_mmap_writeback_checks $B
		else
			for o in plain sync; do
				wr $B sync_mode 1 >/dev/null
				pmem_probe_read >/dev/null
				r=$(req $B mmap 2 4 $o)
				diag "$ARCH: mmap of pages 2..5, sync_mode 1, $o fd: $r, calls: $(pmem_calls)"
				# x86 gives a physical range one memory type (write-back here): an
				# uncached mapping cannot be had, so it is refused, never silently cached.
				if [ $o = sync ]; then
					check "amd64: an O_SYNC mmap with sync_mode 1 is refused" "mmap: EINVAL" "$r"
					if klog | grep -q "$B: mmap: memory outside RAM is only cached on x86"; then
						ok "amd64: ... with a log line that says why"
					else
						not_ok "amd64: ... with a log line that says why" \
							"expected 'only cached on x86' got:" "$(klog | tail -n 3)"
					fi
				else
					check "amd64: a plain mmap with sync_mode 1 works" OK "$r"
				fi
			done
		fi
	fi
elif [ "$ARCH" = armhf ]; then
	n=$(klog | grep -F "$(mem_range "$BASE" $SZ)" | grep -c 'uncached' || true)
	check "armhf (no pmem API): one log line for $B says it is mapped uncached and syncs do nothing" 1 "$n"
	r="$(wr $B sync_for_device 1) $(wr $B sync_for_cpu 1) $(req $B ioctl-device "$(encoded 0 4096 1)") $(req $B set-sync cpu 0 4096 0)"
	check "armhf: the sync requests work and do nothing" "OK OK OK OK" "$r"
	check "armhf: a sync past the end is still EINVAL" EINVAL "$(wr $B sync_for_device "$(encoded $((SZ - 4096)) 8192 0)")"
	n=$(klog | grep -F "$(mem_range "$BASE" $SZ)" | grep -c 'uncached' || true)
	check "armhf: still one such line after the syncs (once per buffer)" 1 "$n"
fi

# --- data, range checks, memory types, EXPORT ----------------------------------------------
phys_data_checks $B $SZ 46
phys_memtype_checks $B
check "$B: EXPORT (a dma-buf) is refused with EINVAL (no struct pages)" "EXPORT: EINVAL" "$(req $B dmabuf 0 4096 rw)"

# --- refusals ------------------------------------------------------------------------------
# refused WHAT ERRNO NAME SIZE ADDR [LOGTEXT] [OPTIONS...]: create NAME SIZE phys=ADDR
# (mgr_cmd OPTIONS) gets ERRNO, makes nothing; with LOGTEXT a log line names the range.
refused() {
	_w=$1 _e=$2 _n=$3 _s=$4 _a=$5 _t=${6:-}
	shift 5
	[ $# -gt 0 ] && shift
	kmark
	_r=$(mc "$@" "w:create $_n $_s phys=$_a\n" "e:/dev/$_n")
	check "$_w: $_e, no buffer" "$_e no" "$_r"
	if [ -n "$_t" ]; then
		if logged_range "$_t" "$_a" "$_s"; then
			ok "$_w: a log line names $(mem_range "$_a" "$_s")"
		else
			not_ok "$_w: a log line names $(mem_range "$_a" "$_s")" "expected a line with it matching /$_t/ got:" "$(klog | tail -n 4)"
		fi
	fi
	[ -e "/dev/$_n" ] && mc "w:delete $_n\n" >/dev/null
	return 0
}
RAM=$(sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : System RAM$/\1 \2/p' /proc/iomem | awk '{ print $1 }' | head -n 1)
if [ -n "$RAM" ]; then
	ram=$(((0x$RAM + 0x10000) / 0x10000 * 0x10000))
	refused "create over System RAM (64 KiB at $(printf '0x%x' $ram))" EINVAL bad-ram 65536 "$(printf '0x%x' $ram)" 'RAM'
else
	not_ok "create over System RAM" "expected a System RAM line in /proc/iomem got none"
fi
refused "create at an unaligned address ($BASE + 512)" EINVAL bad-align 4096 "$(printf '0x%x' $((BASE + 512)))" 'aligned'
refused "create of an unaligned size (4097)" EINVAL bad-size 4097 "$BASE" 'aligned'
refused "create of size 0" EINVAL bad-zero 0 "$BASE"
# A range of size 0 has no last byte: the line must name its start.
if klog | grep -F "bad-zero" | grep -qF " $(pa "$BASE") "; then
	ok "create of size 0: a log line names the range's start ($(pa "$BASE"))"
else
	not_ok "create of size 0: a log line names the range's start ($(pa "$BASE"))" \
		"expected a line with ' $(pa "$BASE") ' got:" "$(klog | tail -n 3)"
fi
refused "a second buffer over the same range" EBUSY bad-twice $SZ "$BASE" 'claimed'
refused "a buffer over part of $B's range ($BASE + 64 KiB)" EBUSY bad-part 65536 "$(printf '0x%x' $((BASE + 65536)))" 'claimed'
check "the refusals left $B alone: /proc/iomem still has it" yes "$(yesno iomem_claim "$BASE" $SZ $B)"
EDU=$("$BIN/mgr_edu" find)
if [ -n "$EDU" ]; then
	kmark
	check "phys= with bus=pci device=$EDU: EINVAL, no buffer" "EINVAL no" \
		"$(mc "w:create bad-bus 4096 phys=$(printf '0x%x' $((BASE + SZ))) bus=pci device=$EDU\n" e:/dev/bad-bus)"
else
	not_ok "phys= with bus=pci: the edu device for it" "expected the QEMU edu device got none"
fi
# The opener needs CAP_SYS_ADMIN and CAP_SYS_RAWIO (what /dev/mem takes); its privileges
# are the ones at open (§13.20).
if [ $((RSIZE)) -gt $SZ ]; then
	FREE=$(printf '0x%x' $((BASE + SZ)))
else
	mc "w:delete $B\n" >/dev/null
	FREE=$BASE
fi
refused "opener without CAP_SYS_RAWIO (uid 0)" EPERM bad-rawio 65536 "$FREE" "" -x 17
refused "opener without CAP_SYS_ADMIN (uid 0)" EPERM bad-admin 65536 "$FREE" "" -x 21
check "opened by root, written after setuid(65534): the opener's privileges count, created" "OK yes" \
	"$(mc -u 65534 "w:create cap-ok 65536 phys=$FREE\n" e:/dev/cap-ok)"
check "delete cap-ok: gone from /dev and /proc/iomem" "OK no no" \
	"$(mc "w:delete cap-ok\n" e:/dev/cap-ok) $(yesno iomem_name cap-ok)"
# Every mmap mode of the manager's create line: such memory is mapped as page frames.
# Mode page (ordinary pages only) cannot be had without struct pages: a working buffer,
# or EINVAL with a log line that names the range and the mode.
for q in on off auto page; do
	kmark
	r=$(mc "w:create qm-$q 65536 phys=$FREE quirk-mmap-$q\n" e:/dev/qm-$q)
	if [ $q = page ]; then
		check "create qm-page 65536 phys=$FREE quirk-mmap-page: refused, no buffer (memory without pages)" "EINVAL no" "$r"
	fi
	if [ $q = page ] && [ "$r" = "EINVAL no" ]; then
		if logged_range 'page' "$FREE" 65536; then
			ok "create qm-page 65536 phys=$FREE quirk-mmap-page: refused (EINVAL), a log line names $(mem_range "$FREE" 65536) and mode page"
		else
			not_ok "create qm-page ... quirk-mmap-page refused: a log line names $(mem_range "$FREE" 65536) and mode page" \
				"expected such a line got:" "$(klog | tail -n 2)"
		fi
		diag "qm-page: $(klog | tail -n 1)"
	elif [ "$r" = "OK yes" ]; then
		check "create qm-$q 65536 phys=$FREE quirk-mmap-$q: a buffer whose 16 pages map, data through it" "OK OK" \
			"$(req qm-$q mmap 0 16) $("$BIN/ut" pattern qm-$q 9)"
		mc "w:delete qm-$q\n" >/dev/null
	else
		not_ok "create qm-$q 65536 phys=$FREE quirk-mmap-$q: a buffer whose 16 pages map, data through it" \
			"expected OK yes got $r" "log: $(klog | tail -n 2)"
	fi
done
if [ ! -e "$CLASS/$B" ]; then
	check "create $B again" OK "$(mc "w:create $B $SZ phys=$BASE\n")"
fi

# --- contents kept across delete/create and rmmod/insmod -----------------------------------
dd if=/dev/urandom of=/tmp/phys.keep bs=4096 count=$((SZ / 4096)) 2>/dev/null
dd if=/tmp/phys.keep of=/dev/$B bs=65536 2>/dev/null
wr $B sync_for_device "$(encoded 0 $SZ 1)" >/dev/null
SUM=$(md5sum </tmp/phys.keep)
# The alias of this incarnation, for the call at delete.
[ $PROBES = 1 ] && pmem_learn "$B (before delete)" $B $SZ >/dev/null
[ $PROBES = 1 ] && pmem_probe_read >/dev/null
check "delete $B" "OK no" "$(mc "w:delete $B\n" e:/dev/$B)"
if [ $PROBES = 1 ]; then
	check "delete: one call, arch_wb_cache_pmem(kaddr, $SZ): the CPU's writes reach the memory before the claim goes" \
		"$(wb 0 $SZ)" "$(pmem_calls)"
fi
check "after delete: /proc/iomem has no claim named $B" no "$(yesno iomem_name $B)"
check "create $B again over the same range" OK "$(mc "w:create $B $SZ phys=$BASE\n")"
check "$B: the contents written before the delete are there (not zeroed)" "$SUM" "$(md5sum </dev/$B)"
[ $PROBES = 1 ] && pmem_learn "$B (recreated)" $B $SZ >/dev/null
[ $PROBES = 1 ] && pmem_probe_read >/dev/null
check "rmmod with $B" OK "$("$BIN/modctl" unload $MODNAME)"
if [ $PROBES = 1 ]; then
	check "rmmod: one call for $B, arch_wb_cache_pmem(kaddr, $SZ)" "$(wb 0 $SZ)" "$(pmem_calls)"
fi
check "after rmmod: /proc/iomem has no claim named $B" no "$(yesno iomem_name $B)"
if must_load "insmod again" info_enable=0; then
	check "create $B after the reload" OK "$(mc "w:create $B $SZ phys=$BASE\n")"
	check "$B: the contents written before rmmod are there" "$SUM" "$(md5sum </dev/$B 2>/dev/null)"
fi

# --- cache operations in chunks of 1 MiB (a BAR may be gigabytes) -----------------------------
# A buffer of 2 MiB + 4 KiB at PHYS_BASE + 8 MiB (ARM: 16 MiB outside RAM): its creation,
# a sync of all of it and its deletion each make three consecutive calls.
if [ $PROBES = 1 ] && [ $((${RSIZE:-0})) -ge $((12 << 20)) ]; then
	CB=$(printf '0x%x' $((BASE + (8 << 20)))) CSZ=$(((2 << 20) + 4096))
	chunks() { echo "$($1 0 1048576);$($1 1048576 1048576);$($1 2097152 4096)"; }
	first_addr() { sed -n '1s/^[a-z]* addr=\([^ ]*\) .*/\1/p'; }
	pmem_probe_read >/dev/null
	r=$(mc "w:create phys-chunk $CSZ phys=$CB\n")
	l=$(pmem_probe_read)
	KADDR0=$KADDR KADDR=$(printf '%s\n' "$l" | first_addr)
	check "create phys-chunk ($CSZ bytes): arch_invalidate_pmem in three chunks of at most 1 MiB" \
		"OK|$(chunks inv)" "$r|$(printf '%s\n' "$l" | rel_calls)"
	expect_pmem "phys-chunk: sync_for_device of all of it: arch_wb_cache_pmem in three chunks" \
		"$(chunks wb)" wr phys-chunk sync_for_device "$(encoded 0 $CSZ 1)"
	expect_pmem "phys-chunk: delete: arch_wb_cache_pmem in three chunks" "$(chunks wb)" mc "w:delete phys-chunk\n"
	KADDR=$KADDR0
fi

# --- the bench on such a buffer ------------------------------------------------------------
CLI=$BIN/edu_udmabuf_cli
if [ -x "$CLI" ]; then
	[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	pmem_probe_stop
	"$CLI" bench $B --quick --no-progress >/tmp/phys.bench 2>&1
	st=$?
	check "udmabuf bench --quick on $B (memory outside RAM) completes, exit status 0" 0 $st
	[ $st = 0 ] || diag "$(tail -n 15 /tmp/phys.bench)"
	check "the bench left $B's contents as they were" "$SUM" "$(md5sum </dev/$B 2>/dev/null)"
else
	skip "udmabuf bench --quick on $B" "no udmabuf bench in this guest ($CLI)"
fi
pmem_probe_stop

# --- amd64: a token for the host to find in the BAR's backing file -------------------------
if [ "$ARCH" = amd64 ] && [ -e /dev/$B ]; then
	TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	check "$B: token written through a mapping, then sync_for_device of its page" OK "$("$BIN/physmap" put $B 0 "$TOKEN")"
	check "$B: the token reads back through a mapping after sync_for_cpu" "$TOKEN" "$("$BIN/physmap" get $B 0 32)"
	echo "PHYS-BACKING offset=0 token=$TOKEN"
fi

mc "w:delete $B\n" >/dev/null
check_log_clean "no kernel warning from the buffers over memory outside RAM"
must_unload "rmmod at the end"
finish
