#!/bin/sh
# 60-lifecycle: rmmod while the buffer is open or mapped (INTERFACE.md §12.1), and 100
# insmod/rmmod cycles with buffers in use, without a memory leak.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

for mode in open close-then-munmap munmap-then-close; do
	if must_load "insmod udmabuf0=64K for lifecycle $mode" udmabuf0=64K info_enable=0; then
		run_tap "$BIN/lifecycle" $mode
		cleanup
	fi
done

# --- 100 cycles -------------------------------------------------------------------------
CYCLES=100
PARAMS="udmabuf0=1M udmabuf1=8K udmabuf2=5000 info_enable=0"
# cycle N: one insmod, use, rmmod with the users' tools; FAILS collects what went wrong.
cycle() {
	# shellcheck disable=SC2086
	if ! insmod "$MOD" $PARAMS 2>/tmp/insmod.err; then
		FAILS="${FAILS}cycle $1: insmod: $(cat /tmp/insmod.err)
"
		return
	fi
	for _b in udmabuf0 udmabuf1 udmabuf2; do
		_r=$("$BIN/ut" pattern $_b "$1")
		[ "$_r" = OK ] || FAILS="${FAILS}cycle $1: $_b: $_r
"
	done
	rmmod u_dma_buf 2>/tmp/rmmod.err || {
		FAILS="${FAILS}cycle $1: rmmod: $(cat /tmp/rmmod.err)
"
		cleanup
	}
}

settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

FAILS=
cycle warm-up
settle
mem0=$(memfree_all) cma0=$(meminfo CmaFree)
kmark
t0=$(cut -d. -f1 /proc/uptime)
i=1
while [ $i -le $CYCLES ]; do
	cycle $i
	i=$((i + 1))
done
t1=$(cut -d. -f1 /proc/uptime)
settle
mem1=$(memfree_all) cma1=$(meminfo CmaFree)
diag "$CYCLES cycles took $((t1 - t0)) s; MemFree + per-CPU lists $mem0 -> $mem1 kB (MemFree now $(meminfo MemFree) kB); CmaFree ${cma0:-none} -> ${cma1:-none} kB"

if [ -z "$FAILS" ]; then
	ok "$CYCLES insmod/rmmod cycles ($PARAMS): every load, pattern check through write()/read()/mmap and rmmod worked"
else
	not_ok "$CYCLES insmod/rmmod cycles ($PARAMS): every load, pattern check through write()/read()/mmap and rmmod worked" \
		"expected no failure got $(printf '%s' "$FAILS" | grep -c '^') failures, the first ones:" \
		"$(printf '%s' "$FAILS" | head -n 5)"
fi
check "after the cycles the module is not loaded and no node is left" "no no" \
	"$(loaded && echo yes || echo no) $([ -e /dev/udmabuf0 ] && echo yes || echo no)"
check_log_clean "no kernel warning during the $CYCLES cycles"
if [ -n "$cma0" ]; then
	if [ $((cma0 - cma1)) -le "$CMA_SLACK" ]; then
		ok "CmaFree is back to its starting value after $CYCLES cycles, within $CMA_SLACK kB ($cma0 -> $cma1 kB)"
	else
		not_ok "CmaFree is back to its starting value after $CYCLES cycles, within $CMA_SLACK kB" \
			"expected a drop <= $CMA_SLACK kB got $((cma0 - cma1)) kB ($cma0 -> $cma1 kB)"
	fi
	# Exact whatever the meminfo noise: three quarters of the CMA area is still there in
	# one piece (a leak of the 1 MiB buffer in a third of the cycles would prevent it).
	big=$(($(meminfo CmaTotal) * 3 / 4 / 1024))M
	if must_load "after $CYCLES cycles a buffer of 3/4 of CMA (udmabuf0=$big) still loads" udmabuf0=$big info_enable=0; then
		check "udmabuf0=$big after the cycles is usable" OK "$("$BIN/ut" pattern udmabuf0 7)"
		must_unload "rmmod of udmabuf0=$big"
	fi
else
	skip "CmaFree is back to its starting value after $CYCLES cycles" "no CMA on $ARCH"
fi
# Slack for the kernel's own allocations; a leak of the 1 MiB buffer would be 100 MiB.
SLACK=16384
if [ $((mem0 - mem1)) -le $SLACK ]; then
	ok "MemFree (+ per-CPU free lists) after $CYCLES cycles is within $SLACK kB of the start ($mem0 -> $mem1 kB)"
else
	not_ok "MemFree (+ per-CPU free lists) after $CYCLES cycles is within $SLACK kB of the start ($mem0 -> $mem1 kB)" \
		"expected a drop <= $SLACK kB got $((mem0 - mem1)) kB"
fi

finish
