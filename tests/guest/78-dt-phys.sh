#!/bin/sh
# 78-dt-phys: device-tree nodes with reg and no size: buffers over memory that Linux does
# not manage (INTERFACE.md §14, issue 13; tests/dt/phys.dtsi).  The -dt boots give QEMU
# 16 MiB more RAM than Linux may use (tests/lib/boot.sh), at 0x80000000: dt-phys is 1 MiB
# of it at the root, dt-phys-pl 64 KiB on the amba_pl bus (sync-direction 1), and
# bad-phys-region has reg and memory-region, which is refused.
#
# Checked: the attributes, the claims in /proc/iomem, the node that is refused, a manager
# create over a node's claimed range (EBUSY) and one beside it; every sync request as a call
# of arch_wb_cache_pmem / arch_invalidate_pmem (phys_lib.sh), at creation and removal too;
# data; memory types (arm64); contents kept across unbind/bind and rmmod/insmod.  armhf
# (no pmem API): mapped uncached, one log line per buffer, syncs do nothing.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
# shellcheck source=tests/guest/phys_lib.sh
. "${0%/*}/phys_lib.sh"
dt_requires "device-tree buffers over memory outside System RAM"

B=dt-phys BASE=0x80000000 SZ=1048576
PL=dt-phys-pl PLBASE=0x80200000 PLSZ=65536
BAD=bad-phys-region

if [ -z "${PHYS_BASE:-}" ] || [ $((PHYS_BASE)) -ne $((BASE)) ]; then
	not_ok "the harness leaves memory outside System RAM at $BASE (tests/lib/boot.sh)" \
		"expected PHYS_BASE=$BASE got '${PHYS_BASE:-}'"
fi

phys_probes
if ! dt_load "insmod with the device-tree nodes" info_enable=1; then
	pmem_probe_stop
	finish
fi
[ $PROBES = 1 ] && LOAD_CALLS=$(pmem_probe_read)
LOAD_KSEQ=$KSEQ

# --- the nodes -----------------------------------------------------------------------------
for t in "$B $BASE $SZ /dt-phys@80000000" "$PL $PLBASE $PLSZ /amba_pl@0/dt-phys-pl@80200000"; do
	# shellcheck disable=SC2086 # three words
	set -- $t
	if [ ! -d "$CLASS/$1" ]; then
		not_ok "$1 ($4, reg $2 + $3): a buffer" "expected $CLASS/$1 got none; log:" "$(mod_lines_of "$1" | head -n 4)"
		continue
	fi
	check "$1: phys_addr, size, dma_coherent: the node's reg, 0" "$(($2)) $3 0" \
		"$(($(attr "$1" phys_addr))) $(attr "$1" size) $(attr "$1" dma_coherent)"
	check "$1: /dev/$1 is its character device" yes "$(yesno dev_node_ok "$1")"
	check "/proc/iomem: [$2, +$3) claimed as $1" yes "$(yesno iomem_claim "$2" "$3" "$1")"
done
check "$PL: sync-direction 1 from the node" 1 "$(attr $PL sync_direction)"

BADPDEV=$(pdev_of /$BAD@80100000)
check "$BAD (reg and memory-region): probe refused, no buffer, no driver bound" "no no" \
	"$(yesno [ -e "$CLASS/$BAD" ]) $(yesno has_driver "$BADPDEV")"
# Its lines: under its device-name, or its platform device's name (80100000.bad-phys-region).
lines=$({ mod_lines_of $BAD; [ -n "$BADPDEV" ] && mod_lines_of "$BADPDEV"; } | sort -u)
if printf '%s\n' "$lines" | grep -q 'memory-region'; then
	ok "$BAD: a log line says memory-region cannot go with reg"
	diag "$lines"
else
	not_ok "$BAD: a log line says memory-region cannot go with reg" \
		"expected a line 'u-dma-buf $BAD: ...memory-region...' (or under $BADPDEV) got:" "$lines"
fi
check "$BAD: nothing claimed in /proc/iomem under its name" no "$(yesno iomem_name $BAD)"

# --- reg beside size: an ordinary buffer, reg ignored ----------------------------------------
SIZED=dt-phys-sized
check "$SIZED (reg and size): an ordinary buffer of its size (128 KiB)" "yes 131072" \
	"$(yesno test -d "$CLASS/$SIZED") $(attr $SIZED size)"
pa=$(attr $SIZED phys_addr)
check_true "$SIZED: its memory is not its reg (0x80300000): allocated in RAM" "phys_addr $pa" \
	test "$((${pa:-0x80300000}))" -ne $((0x80300000))
check "$SIZED: nothing claimed in /proc/iomem under its name" no "$(yesno iomem_name $SIZED)"

# --- the manager next to them --------------------------------------------------------------
kmark
check "manager: create over $B's range (phys=$BASE) -> EBUSY, no buffer" "EBUSY no" \
	"$(mc "w:create dtp-busy 65536 phys=$BASE\n" e:/dev/dtp-busy)"
check "manager: the refusal's log line names $(mem_range $BASE 65536)" yes "$(yesno logged_range claimed $BASE 65536)"
check "manager: create beside them (1 MiB at 0x80400000) works, claimed" "OK yes yes" \
	"$(mc "w:create dtp-mgr 1M phys=0x80400000\n" e:/dev/dtp-mgr) $(yesno iomem_claim 0x80400000 1048576 dtp-mgr)"
check "manager: delete it, the claim goes" "OK no no" "$(mc "w:delete dtp-mgr\n" e:/dev/dtp-mgr) $(yesno iomem_name dtp-mgr)"

# --- cache maintenance ---------------------------------------------------------------------
if [ $PROBES = 1 ] && [ -d "$CLASS/$B" ]; then
	if pmem_learn "$B" $B $SZ; then
		n=$(printf '%s\n' "$LOAD_CALLS" | rel_calls | tr ';' '\n' | grep -cx "$(inv 0 $SZ)" || true)
		check "$B: the load made one arch_invalidate_pmem(kaddr, $SZ) for it" 1 "$n"
		phys_sync_checks $B $SZ
		[ "$ARCH" = arm64 ] && phys_mmap_writeback_checks $B
	fi
	PLK=
	pmem_probe_read >/dev/null
	wr $PL sync_for_device "$(encoded 0 $PLSZ 1)" >/dev/null
	PLK=$(pmem_probe_read | sed -n "s/^wb addr=\(0x[0-9a-f]*\) size=$PLSZ\$/\1/p")
	if [ -n "$PLK" ]; then
		KADDR=$PLK
		expect_pmem "$PL: stored range (sync-direction 1 from the node), 1 to sync_for_cpu: no call" "" wr $PL sync_for_cpu 1
		expect_pmem "$PL: encoded offset 4096 size 4096 direction 2 to sync_for_cpu: arch_invalidate_pmem of it" \
			"$(inv 4096 4096)" wr $PL sync_for_cpu "$(encoded 4096 4096 2)"
		expect_pmem "$PL: encoded offset 61440 size 4096 direction 1 to sync_for_device: arch_wb_cache_pmem of it" \
			"$(wb 61440 4096)" wr $PL sync_for_device "$(encoded 61440 4096 1)"
		n=$(printf '%s\n' "$LOAD_CALLS" | rel_calls | tr ';' '\n' | grep -cx "$(inv 0 $PLSZ)" || true)
		check "$PL: the load made one arch_invalidate_pmem(kaddr, $PLSZ) for it" 1 "$n"
	else
		not_ok "$PL: sync_for_device of the whole buffer: one arch_wb_cache_pmem(kaddr, $PLSZ)" "expected a call got none"
	fi
elif [ "$ARCH" = armhf ]; then
	for t in "$B $BASE $SZ" "$PL $PLBASE $PLSZ"; do
		# shellcheck disable=SC2086 # three words
		set -- $t
		n=$(klog_since "$LOAD_KSEQ" | grep -F "$(mem_range "$2" "$3")" | grep -c uncached || true)
		check "armhf (no pmem API): one log line for $1 says it is mapped uncached and syncs do nothing" 1 "$n"
	done
	check "armhf: the sync requests work and do nothing" "OK OK" "$(wr $B sync_for_device 1) $(wr $B sync_for_cpu 1)"
fi

# --- data, memory types, EXPORT ------------------------------------------------------------
if [ -d "$CLASS/$B" ]; then
	phys_data_checks $B $SZ 78
	phys_memtype_checks $B
	check "$B: EXPORT is refused with EINVAL" "EXPORT: EINVAL" "$(req $B dmabuf 0 4096 rw)"
fi

# --- contents kept across unbind/bind and rmmod/insmod -------------------------------------
dd if=/dev/urandom of=/tmp/dtphys.keep bs=4096 count=$((SZ / 4096)) 2>/dev/null
dd if=/tmp/dtphys.keep of=/dev/$B bs=65536 2>/dev/null
wr $B sync_for_device "$(encoded 0 $SZ 1)" >/dev/null
SUM=$(md5sum </tmp/dtphys.keep)
PDEV=$(pdev_of /dt-phys@80000000)
[ $PROBES = 1 ] && pmem_learn "$B (before unbind)" $B $SZ >/dev/null
[ $PROBES = 1 ] && pmem_probe_read >/dev/null
check "unbind $PDEV: the buffer and its claim go" "OK no no" \
	"$("$BIN/ut" wr "$DRV/unbind" "$PDEV") $(yesno [ -e "$CLASS/$B" ]) $(yesno iomem_name $B)"
[ $PROBES = 1 ] && check "unbind: one call, arch_wb_cache_pmem(kaddr, $SZ)" "$(wb 0 $SZ)" "$(pmem_calls)"
check "bind $PDEV again: the buffer and its claim are back" "OK yes yes" \
	"$("$BIN/ut" wr "$DRV/bind" "$PDEV") $(yesno [ -e "$CLASS/$B" ]) $(yesno iomem_claim $BASE $SZ $B)"
check "$B: the contents written before the unbind are there" "$SUM" "$(md5sum </dev/$B 2>/dev/null)"
[ $PROBES = 1 ] && pmem_learn "$B (after bind)" $B $SZ >/dev/null
[ $PROBES = 1 ] && pmem_probe_read >/dev/null
check "rmmod with the device-tree buffers" OK "$("$BIN/modctl" unload $MODNAME)"
if [ $PROBES = 1 ]; then
	n=$(pmem_calls | tr ';' '\n' | grep -cx "$(wb 0 $SZ)" || true)
	check "rmmod: one arch_wb_cache_pmem(kaddr, $SZ) for $B" 1 "$n"
fi
check "after rmmod: /proc/iomem has no claim named $B or $PL" "no no" "$(yesno iomem_name $B) $(yesno iomem_name $PL)"
if dt_load "insmod again" info_enable=0; then
	check "$B: the contents written before rmmod are there after insmod" "$SUM" "$(md5sum </dev/$B 2>/dev/null)"
fi

pmem_probe_stop
check_log_clean "no kernel warning from the device-tree buffers over memory outside RAM"
must_unload "rmmod at the end"
finish
