# Shell helpers shared by the guest suites (sourced, POSIX sh / busybox ash).
# Contract: tests/README.md. Each suite starts with the module unloaded and
# calls `finish` at the end, which unloads it.

BIN=${BIN:-/t/bin}
MOD=${MOD:-/t/u-dma-buf.ko}
ARCH=${ARCH:-unknown}
KVER=${KVER:-unknown}
PYROOT=${PYROOT:-}
MODNAME=u_dma_buf
CLASS=/sys/class/u-dma-buf

# --- TAP ---------------------------------------------------------------

ok() { echo "ok - $*"; }
# not_ok WHAT DIAG...   each DIAG becomes one "# " line
not_ok() {
	echo "not ok - $1"
	shift
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}
skip() { echo "ok - $1 # SKIP $2"; }
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }

# check WHAT EXPECTED GOT
check() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected $2 got $3"; fi
}
# check_match WHAT REGEX GOT  (extended regex, whole value)
check_match() {
	if printf '%s\n' "$3" | grep -Eqx -e "$2"; then ok "$1"; else not_ok "$1" "expected /$2/ got '$3'"; fi
}
# check_true WHAT DIAG CMD...  passes when CMD succeeds
check_true() {
	_tw=$1 _td=$2
	shift 2
	if "$@"; then ok "$_tw"; else not_ok "$_tw" "$_td"; fi
}

# run_tap PROG ARGS...: runs a C test program that prints TAP itself; a crash or
# a non-zero exit is one more failure.
run_tap() {
	"$@"
	_st=$?
	[ $_st -eq 0 ] || not_ok "$(basename "$1") ${2:-} ran to the end" "expected exit status 0 got $_st"
	return 0
}

# --- module ------------------------------------------------------------

loaded() { grep -q "^$MODNAME " /proc/modules; }

# load PARAMS...: finit_module through modctl; sets LOAD to OK or the errno name.
load() {
	LOAD=$("$BIN/modctl" load "$MOD" "$@")
	[ "$LOAD" = OK ]
}

# unload: delete_module; sets UNLOAD to OK or the errno name.
unload() {
	UNLOAD=$("$BIN/modctl" unload $MODNAME)
	[ "$UNLOAD" = OK ]
}

# must_load WHAT PARAMS...: a test that the load works; returns its status.
must_load() {
	_mw=$1
	shift
	if load "$@"; then ok "$_mw"; return 0; fi
	not_ok "$_mw" "expected insmod $* to succeed got $LOAD" "log: $(klog_since "$KSEQ" | tail -n 5)"
	return 1
}

# must_unload WHAT
must_unload() {
	if unload; then ok "$1"; return 0; fi
	not_ok "$1" "expected rmmod to succeed got $UNLOAD"
	return 1
}

# Unloads the module if a test left it loaded (quietly; the harness also checks).
cleanup() {
	loaded || return 0
	unload || not_ok "cleanup: rmmod $MODNAME" "expected OK got $UNLOAD"
}

finish() {
	cleanup
	exit 0
}

# --- kernel log ---------------------------------------------------------

# kmark: remember the newest kernel log record; klog lists the newer ones.
kmark() { KSEQ=$("$BIN/kmsg" seq); }
klog_since() { "$BIN/kmsg" since "$1"; }
klog() { klog_since "$KSEQ"; }
# Lines the module printed (its dev_* prefix is "u-dma-buf ", pr_* "u-dma-buf:").
klog_mod() { klog | grep -E '^u-dma-buf[ :]' || true; }
# Anything that makes the boot fail, or a page-allocator complaint.
klog_bad() {
	klog | grep -E 'BUG:|WARNING:|Oops|Call Trace|KASAN|UBSAN|kmemleak|lockdep|possible circular locking|INFO: task .* blocked|general protection|Unable to handle kernel|page allocation failure' || true
}
# check_log_clean WHAT
check_log_clean() {
	_b=$(klog_bad)
	if [ -z "$_b" ]; then ok "$1"; else not_ok "$1" "expected no warning in the kernel log got:" "$_b"; fi
}

# --- sysfs / device -----------------------------------------------------

attr() { cat "$CLASS/$1/$2" 2>/dev/null; }
# attr_raw DEV ATTR: the exact bytes, newline shown as \n
attr_raw() { od -An -c "$CLASS/$1/$2" 2>/dev/null | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }
# wr DEV ATTR TEXT [nl]: one write(); prints OK or the errno name
wr() { "$BIN/ut" wr "$CLASS/$1/$2" "$3" ${4:+"$4"}; }

# gone NAME...: delete the manager's buffers NAME... that exist (mgr_cmd; errors ignored).
gone() {
	for _g in "$@"; do
		[ -e "/dev/$_g" ] && "$BIN/mgr_cmd" "w:delete $_g\n" >/dev/null
	done
	return 0
}

# kmemleak_known: the addresses (one line) of the objects that /sys/kernel/debug/kmemleak
# reports from 6.1's class_register() error path: it frees the class but keeps its name when
# kset_register() fails (fault injection in insmod, tests/guest/97-faults.sh).  A kernel
# leak, not ours; a stale pointer can hide it from kmemleak for minutes after the faults.
kmemleak_known() {
	awk '/^unreferenced object/ { if (o != "" && k && s) print o; o = $3; k = 0; s = 0 }
		/kobject_set_name_vargs/ { s = 1 } /__class_register/ { k = 1 }
		END { if (o != "" && k && s) print o }' \
		/sys/kernel/debug/kmemleak 2>/dev/null | tr '\n' ' '
}

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# memfree_all: MemFree plus the pages on the per-CPU free lists (/proc/zoneinfo "count:"),
# which MemFree leaves out, in kB (4 KiB pages).  Order-0 pages freed one by one go there
# first: on 6.12 these lists grow to tens of MiB.
memfree_all() {
	awk '$1 == "count:" { n += $2 } END { print n * 4 }' /proc/zoneinfo |
		{ read -r _pcp; echo $(($(meminfo MemFree) + _pcp)); }
}
# CmaFree/MemFree move by a few MiB on their own (per-CPU free lists are not counted,
# other users' movable pages live in CMA pageblocks): the slack in kB for leak checks.
# shellcheck disable=SC2034
CMA_SLACK=8192

# CMA that buffers get as ordinary pages (pinnable, zappable): CmaTotal in kB, or 0 where
# there is none or where it lies in highmem (32-bit ARM with more than ~768 MiB: the default
# CMA area goes to highmem, which dma_alloc_pages() does not take; the module then takes
# buffers up to the page allocator's largest block from it, and larger ones as coherent
# memory).
CMA_PAGES_KB=$(meminfo CmaTotal)
CMA_PAGES_KB=${CMA_PAGES_KB:-0}
# shellcheck disable=SC2034
[ "$(meminfo HighTotal)" -gt 0 ] 2>/dev/null && CMA_PAGES_KB=0
# The page allocator's largest block in kB (/proc/buddyinfo: a column per order; 4 KiB
# pages): a buffer up to this size comes from it when there is no CMA, split into pages
# that each have their own reference count (udmabuf_use_own_pages()).
BUDDY_MAX_KB=$((4 << ($(awk 'NR == 1 { print NF - 5 }' /proc/buddyinfo 2>/dev/null || echo 10))))
# pages_for KB: a buffer of KB kB in an mmap mode other than off is mapped as ordinary
# pages (pinnable by O_DIRECT, io_uring and vmsplice; zappable): its memory comes from CMA
# in lowmem or from the page allocator; else (larger, CMA in highmem) it is coherent memory.
pages_for() { [ "$1" -le "$CMA_PAGES_KB" ] || [ "$1" -le "$BUDDY_MAX_KB" ]; }
# Where highmem starts (the boot log's zone line "HighMem [mem 0x...-0x...]"), or empty.
# shellcheck disable=SC2034
HIGHMEM_START=$("$BIN/kmsg" since 0 2>/dev/null | sed -n 's/.*HighMem  *\[mem \(0x[0-9a-f]*\)-.*/\1/p' | head -n 1)

# Parameter buffers: DMA-coherent on amd64, not on arm64 or armhf (virt, no dma-coherent).
# shellcheck disable=SC2034
case $ARCH in
arm64 | armhf) EXPECT_COHERENT=0 ;;
amd64) EXPECT_COHERENT=1 ;;
*) EXPECT_COHERENT=unknown ;;
esac

# The guest kernel's word size: 32 on armhf, where size_t, unsigned long and the mmap
# offset (in pages, 32-bit) are 32 bits: a size of 4 GiB or more cannot be a buffer size
# (EINVAL, not ENOMEM), and an offset past 2^44 cannot be mapped (EOVERFLOW from the kernel).
# shellcheck disable=SC2034
case $ARCH in
armhf) WORD_BITS=32 ;;
*) WORD_BITS=64 ;;
esac

kmark

# --- DMA-API sync calls, seen through kprobes --------------------------
# QEMU models no caches, so what proves cache maintenance is the call the module made.
# dma_probe_start: kprobes on the DMA-API sync entry points of this kernel (6.1:
# dma_sync_{single,sg}_for_{cpu,device}; 6.12: the __dma_sync_* functions that the inline
# wrappers call when the device needs syncs at all).  Returns 1 with DMA_PROBE_WHY set
# where the kernel has no kprobe events.
# dma_probe_read: one line per call since dma_probe_start (or the last read):
#   "<cpu|device> single dev=<name> addr=0x<hex> size=<n> dir=<n>"
#   "<cpu|device> sg dev=<name> nents=<n> dir=<n>"
# dma_probe_stop: removes the probes.
# dma_probe_needed DEV: 0 when a sync of DEV's memory must reach the DMA API here: always
# on 6.1 (the functions are called for every device), on 6.12 only for a device that is
# not DMA-coherent (the inline wrappers skip the call on a coherent one).
TRACEFS=/sys/kernel/tracing
dma_probe_start() {
	DMA_PROBE_WHY=
	[ -d $TRACEFS/events ] || mount -t tracefs nodev $TRACEFS 2>/dev/null
	if [ ! -w $TRACEFS/kprobe_events ]; then
		DMA_PROBE_WHY="this kernel has no kprobe events (CONFIG_KPROBE_EVENTS)"
		return 1
	fi
	_pre=
	grep -q ' __dma_sync_single_for_cpu$' /proc/kallsyms && _pre=__
	# The arguments: $argN where the kernel has them.  32-bit ARM has no $argN: by the
	# AAPCS, dev is r0, the 64-bit dma_addr_t of Debian's armmp (CONFIG_XEN selects
	# ARCH_DMA_ADDR_T_64BIT) is r2:r3 (an even pair: r1 unused; the high half is 0, no
	# LPAE), size and dir are the first two words on the stack; the sg calls' nents and
	# dir are r2 and r3.
	_a1='$arg1' _a2='$arg2:x64' _a3='$arg3:u64' _a4='$arg4:s32' _sn='$arg3:s32' _sd='$arg4:s32'
	if [ "$ARCH" = armhf ]; then
		_a1=%r0 _a2=%r2:x32 _a3='$stack0:u32' _a4='$stack1:s32' _sn=%r2:s32 _sd=%r3:s32
	fi
	echo >$TRACEFS/kprobe_events
	for _w in cpu device; do
		echo "p:udmabuf/${_w}_single ${_pre}dma_sync_single_for_$_w dev=+0(+0($_a1)):string addr=$_a2 size=$_a3 dir=$_a4" >>$TRACEFS/kprobe_events ||
			{ DMA_PROBE_WHY="cannot place a kprobe on ${_pre}dma_sync_single_for_$_w"; return 1; }
		echo "p:udmabuf/${_w}_sg ${_pre}dma_sync_sg_for_$_w dev=+0(+0($_a1)):string nents=$_sn dir=$_sd" >>$TRACEFS/kprobe_events ||
			{ DMA_PROBE_WHY="cannot place a kprobe on ${_pre}dma_sync_sg_for_$_w"; return 1; }
	done
	echo 1 >$TRACEFS/events/udmabuf/enable
	echo >$TRACEFS/trace
}
dma_probe_read() {
	sed -n 's/^.* \([a-z]*\)_\(single\|sg\): ([^)]*) /\1 \2 /p' $TRACEFS/trace | tr -d '"'
	echo >$TRACEFS/trace
}
dma_probe_stop() {
	[ -w $TRACEFS/kprobe_events ] || return 0
	echo 0 >$TRACEFS/events/udmabuf/enable 2>/dev/null
	echo >$TRACEFS/kprobe_events
}
dma_probe_needed() {
	[ "$KVER" = 6.1 ] && return 0
	[ "$(cat "$CLASS/$1/dma_coherent" 2>/dev/null)" = 0 ]
}
