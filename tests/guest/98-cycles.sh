#!/bin/sh
# 98-cycles: CYCLES (default 1000) insmod/rmmod cycles with buffers of every kind (issue
# 10): parameter buffers, one bound to edu by udmabuf0_bind=, mmap mode off through
# quirk_mmap_mode=1 every other cycle; a manager-made buffer (every other cycle, bound to
# edu every fourth) left for rmmod to delete; a buffer made in the kernel by
# udmabuf_kapi_test (every KAPI_EVERY-th cycle); a buffer opened and mapped in between.
# Then no kernel report and nothing new in kmemleak.  Meant for the debug kernel (KASAN,
# kmemleak, lockdep); elsewhere it runs CYCLES_OTHER (default 100) cycles.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

KMOD=${KMOD:-/t/kmod}
KAPI=$KMOD/udmabuf_kapi_test.ko
KMEMLEAK=/sys/kernel/debug/kmemleak
KAPI_EVERY=${KAPI_EVERY:-10}

mc() { "$BIN/mgr_cmd" "$@"; }

[ -e $KMEMLEAK ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ -e $KMEMLEAK ]; then
	CYCLES=${CYCLES:-1000}
else
	CYCLES=${CYCLES_OTHER:-100}
	diag "no kmemleak in this kernel: $CYCLES cycles (1000 on the debug kernel)"
fi
LEAKS_BEFORE=
[ -e $KMEMLEAK ] && LEAKS_BEFORE=$(sed -n 's/^unreferenced object \(0x[0-9a-f]*\).*/\1/p' $KMEMLEAK | tr '\n' ' ')
# No periodic scan from here on: the scans at the end (and the harness's after the last
# suite) decide, and they know the kernel's own leak from the faults suite (lib.sh
# kmemleak_known), which a periodic scan would report as a kernel message in any suite.
[ -e $KMEMLEAK ] && echo scan=off >$KMEMLEAK

EDU=$("$BIN/mgr_edu" find)
[ -n "$EDU" ] || diag "no QEMU edu device: no bound buffers in the cycles"
[ -e "$KAPI" ] || diag "no $KAPI: no in-kernel buffers in the cycles"

kmark
start=$(cut -d' ' -f1 /proc/uptime)
i=0 fails=0 kapi_n=0 mgr_n=0 first=''
# fail TEXT: one failed step (the first few are shown).
fail() {
	fails=$((fails + 1))
	[ "$fails" -gt 5 ] || first="${first}cycle $i: $*
"
}
while [ $i -lt "$CYCLES" ]; do
	params="udmabuf1=64K udmabuf3=4K udmabuf7=1M"
	[ -n "$EDU" ] && params="$params udmabuf0=16K udmabuf0_bind=pci/$EDU"
	[ $((i % 2)) -eq 1 ] && params="$params quirk_mmap_mode=1"
	# shellcheck disable=SC2086
	if ! load $params info_enable=0; then
		fail "insmod $params: $LOAD"
		i=$((i + 1))
		continue
	fi
	if [ $((i % 2)) -eq 0 ]; then
		cmd="create cyc 32768"
		[ -n "$EDU" ] && [ $((i % 4)) -eq 0 ] && cmd="$cmd bus=pci device=$EDU"
		r=$(mc "w:$cmd\n")
		[ "$r" = OK ] || fail "manager $cmd: $r"
		mgr_n=$((mgr_n + 1))
	fi
	if [ -e "$KAPI" ] && [ $((i % KAPI_EVERY)) -eq 0 ]; then
		r=$("$BIN/modctl" load "$KAPI" keep=kcyc checks=0)
		[ "$r" = OK ] || fail "insmod udmabuf_kapi_test keep=kcyc checks=0: $r"
		[ -e /dev/kcyc ] || fail "no /dev/kcyc after insmod udmabuf_kapi_test keep=kcyc"
		r=$("$BIN/modctl" unload udmabuf_kapi_test)
		[ "$r" = OK ] || fail "rmmod udmabuf_kapi_test: $r"
		kapi_n=$((kapi_n + 1))
	fi
	if [ $((i % 8)) -eq 3 ]; then
		r=$("$BIN/ut" pattern udmabuf1 "$i")
		[ "$r" = OK ] || fail "udmabuf1 in use: $r"
	fi
	unload || fail "rmmod: $UNLOAD"
	if [ $((i % 100)) -eq 99 ]; then
		bad=$(klog_bad)
		[ -z "$bad" ] || fail "kernel report: $(printf '%s\n' "$bad" | head -n 3)"
		kmark
	fi
	i=$((i + 1))
done
secs=$(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%d", b - a }')
left=
for n in /dev/udmabuf[0-7] /dev/cyc /dev/kcyc; do
	[ -e "$n" ] && left="$left ${n#/dev/}"
done
[ -z "$left" ] || fail "nodes left after the last rmmod: $left"
what="$CYCLES insmod/rmmod cycles with parameter, bound, mode-off, manager ($mgr_n) and in-kernel ($kapi_n) buffers"
if [ "$fails" -eq 0 ]; then
	ok "$what ($secs s)"
else
	not_ok "$what ($secs s)" "$fails failed steps, the first ones:" "$first"
fi
check_log_clean "no kernel report during the cycles"

if [ -e $KMEMLEAK ]; then
	sleep 6
	echo scan >$KMEMLEAK
	sleep 6
	echo scan >$KMEMLEAK
	known=$(kmemleak_known)
	new=$(sed -n 's/^unreferenced object \(0x[0-9a-f]*\).*/\1/p' $KMEMLEAK | while read -r a; do
		case " $LEAKS_BEFORE $known " in *" $a "*) ;; *) echo "$a" ;; esac
	done)
	if [ -n "$known" ]; then
		diag "kmemleak: $(echo $known | wc -w) objects of 6.1's class_register() error path (a kernel leak, from the faults suite), not counted"
		# Hidden from the harness's last scan only when they are all there is.
		[ -n "$new$LEAKS_BEFORE" ] || echo clear >$KMEMLEAK
	fi
	if [ -z "$new" ]; then
		ok "kmemleak reports nothing new after the $CYCLES cycles"
	else
		not_ok "kmemleak reports nothing new after the $CYCLES cycles" \
			"$(printf '%s\n' "$new" | wc -l) new objects:" "$(head -n 60 $KMEMLEAK)"
	fi
else
	skip "kmemleak after the cycles" "this kernel has no kmemleak"
fi
finish
