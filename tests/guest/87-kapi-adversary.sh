#!/bin/sh
# 87-kapi-adversary: lifetimes of the in-kernel API and of module-made devices, attacked
# (issue 10; INTERFACE.md §9, §10b, §13.16): a buffer made by another module is the
# creator's until it removes it (manager delete refused; after a parent removal the name
# goes but the memory stays the creator's), create with no name and a parent, unbind +
# bind of a parameter buffer without a leak, START/END of a dma-buf syncing an importer's
# mapping, and manager delete / rmmod racing a parent's removal (no mapping of the parent
# left behind). On the debug kernel kmemleak, KASAN and DMA-API debug watch all of it.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

KMOD=${KMOD:-/t/kmod}
KO=$KMOD/udmabuf_kapi_test.ko
KO_IMP=$KMOD/udmabuf_import_test.ko
KNAME=udmabuf_kapi_test
PARAMS=/sys/module/$KNAME/parameters
KMEMLEAK=/sys/kernel/debug/kmemleak
PDRV=/sys/bus/platform/drivers/u-dma-buf

mc() { "$BIN/mgr_cmd" "$@"; }
# sec_mark sets SEC; sec_clean SEQ WHAT: check_log_clean since SEQ (kmark moves within a
# section).
sec_mark() { SEC=$("$BIN/kmsg" seq); }
sec_clean() {
	_k=$KSEQ
	KSEQ=$1
	check_log_clean "$2"
	KSEQ=$_k
}
SUITE_SEQ=$("$BIN/kmsg" seq)
exists() { if [ -e "$1" ]; then echo yes; else echo no; fi; }

# kapi_lines: the test module's lines since the mark.
kapi_lines() { klog | sed -n "s/^$KNAME: //p"; }
# kapi_tap LABEL: its check lines since the mark as TAP, labelled.
kapi_tap() {
	kapi_lines | sed -n -e "s/^ok - /ok - $1: /p" -e "s/^not ok - /not ok - $1: /p" -e 's/^# /# kapi: /p'
}
# kremove NAME: the module's remove of NAME (the creator's pointer for the kept buffer).
kremove() {
	kmark
	echo "$1" >"$PARAMS/remove"
	kapi_lines | sed -n "s/^remove $1: //p"
}
# kprobe: what the creator can still do with its pointer to the kept buffer.
kprobe() {
	kmark
	echo 1 >"$PARAMS/probe"
	kapi_lines | sed -n 's/^probe: //p'
}
# kapi_load PARAMS...: loads the module without its checks of every function (80-kapi has
# them), with PARAMS; sets KLOAD to OK or the errno name, and marks the log before.
kapi_load() {
	kmark
	KLOAD=$("$BIN/modctl" load "$KO" checks=0 "$@")
}
kapi_unload() { "$BIN/modctl" unload $KNAME; }

# --- kmemleak (the debug kernel) -------------------------------------------------------
# kmemleak_on: kmemleak is there and on (a kernel that has it off refuses the read).
kmemleak_on() {
	[ -e $KMEMLEAK ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -e $KMEMLEAK ] && cat $KMEMLEAK >/dev/null 2>&1
}
# kmemleak_begin: forget what earlier suites may have leaked (scan, then clear).
kmemleak_begin() {
	kmemleak_on || return 0
	sleep 6
	echo scan >$KMEMLEAK 2>/dev/null
	echo clear >$KMEMLEAK 2>/dev/null
}
# kmemleak_clean WHAT: nothing leaked since kmemleak_begin (two scans: objects younger
# than 5 s are never reported, and a leak needs two scans to be told from a pointer in
# flight).
kmemleak_clean() {
	if ! kmemleak_on; then
		skip "$1" "no kmemleak on this kernel, or it is off (the debug kernel has it)"
		return 0
	fi
	sleep 6
	if ! { echo scan >$KMEMLEAK && sleep 6 && echo scan >$KMEMLEAK; }; then
		not_ok "$1" "expected kmemleak to scan got a refusal: $(dmesg | grep -i kmemleak | tail -n 2)"
		return 0
	fi
	_leaks=$(cat $KMEMLEAK)
	if [ -z "$_leaks" ]; then
		ok "$1"
	else
		not_ok "$1" "expected kmemleak to report nothing got:" "$(printf '%s\n' "$_leaks" | head -n 40)"
		echo clear >$KMEMLEAK
	fi
}

if [ ! -e "$KO" ]; then
	skip "the in-kernel API adversary checks" "no $KO in this guest (the harness builds tests/kmod/*/ into \$KMOD)"
	finish
fi
EDU=$("$BIN/mgr_edu" find)
[ -n "$EDU" ] || not_ok "the QEMU edu device is on the PCI bus" "expected 1234:11e8 got none"

# --- finding 11: unbind + bind of a module-made platform device leaks nothing -----------
kmemleak_begin
sec_mark
if must_load "insmod udmabuf0=1M (a parameter buffer on platform device u-dma-buf.0)" udmabuf0=1M; then
	fails=
	n=1
	while [ $n -le 3 ]; do
		r=$("$BIN/ut" wr $PDRV/unbind u-dma-buf.0)
		[ "$r" = OK ] || fails="$fails round $n unbind: $r;"
		[ ! -e /dev/udmabuf0 ] || fails="$fails round $n: /dev/udmabuf0 still there after the unbind;"
		r=$("$BIN/ut" wr $PDRV/bind u-dma-buf.0)
		[ "$r" = OK ] || fails="$fails round $n bind: $r;"
		r="$(attr udmabuf0 size) $("$BIN/ut" pattern udmabuf0 $n)"
		[ "$r" = "1048576 OK" ] || fails="$fails round $n after the bind: expected size 1048576 and the pattern OK got '$r';"
		n=$((n + 1))
	done
	check "three rounds of echo u-dma-buf.0 > unbind, > bind: the buffer goes and comes back (1 MiB, usable)" "" "${fails# }"
	must_unload "rmmod after the unbind/bind rounds"
	check "no u-dma-buf.0 platform device is left after the rmmod" no "$(exists /sys/bus/platform/devices/u-dma-buf.0)"
	kmemleak_clean "kmemleak: nothing leaked by the unbind/bind rounds of a parameter buffer and the rmmod"
	sec_clean "$SEC" "no kernel warning from the unbind/bind rounds of a parameter buffer"
fi

if ! must_load "insmod u-dma-buf with no buffer"; then
	finish
fi

# --- finding 12: create with no name, any minor, and a parent ----------------------------
sec_mark
if [ -n "$EDU" ]; then
	kapi_load pci="$EDU" noname=1
	check "insmod $KNAME pci=$EDU noname=1" OK "$KLOAD"
	lines=$(kapi_tap kapi | grep -E ' - kapi: noname: |^# kapi: # noname' || true)
	if [ -n "$lines" ]; then
		printf '%s\n' "$lines"
	else
		not_ok "noname: the checks of u_dma_buf_device_create(NULL, -1, 1 MiB, 0, edu) ran" "expected its lines got none"
	fi
	check "rmmod $KNAME" OK "$(kapi_unload)"
else
	skip "u_dma_buf_device_create(NULL, -1, 1 MiB, 0, parent) is named udmabuf<minor>" "no edu device"
fi

# --- finding 2: the creator's buffer is in use until its remove --------------------------
kapi_load keep=kadv-hold touch=1
check "insmod $KNAME keep=kadv-hold touch=1 (the creator fills the buffer through getmap's address)" OK "$KLOAD"
kapi_tap creator | grep -E '^(not )?ok - ' || true
check "manager delete of a buffer another module created -> EBUSY (§13.16), the node stays" "EBUSY yes" \
	"$(mc 'w:delete kadv-hold\n') $(exists /dev/kadv-hold)"
check "after the refused delete the creator's pointer works and its memory holds what it wrote" \
	"getmap=0 sync=0 data=ok" "$(kprobe)"
check "the creator's remove -> 0, the node goes" "0 no" "$(kremove kadv-hold) $(exists /dev/kadv-hold)"
check "rmmod $KNAME" OK "$(kapi_unload)"
sec_clean "$SEC" "no kernel warning from create without a name, and a manager delete of a created buffer"

if [ -n "$EDU" ]; then
	kmemleak_begin
	sec_mark
	kapi_load keep=kadv-edu keep_pci=1 pci="$EDU" touch=1
	check "insmod $KNAME keep=kadv-edu keep_pci=1 pci=$EDU touch=1 (bound to edu)" OK "$KLOAD"
	kapi_tap "creator, bound" | grep -E '^(not )?ok - ' || true
	check "kadv-edu is bound to edu" "$(readlink -f "/sys/bus/pci/devices/$EDU")" "$(readlink -f $CLASS/kadv-edu/device)"
	kmark
	echo 1 >"/sys/bus/pci/devices/$EDU/remove"
	check "after edu's removal (echo 1 > remove) kadv-edu's name is gone: no node, no sysfs directory" "no no" \
		"$(exists /dev/kadv-edu) $(exists $CLASS/kadv-edu)"
	check "the name is free at once: the manager can create kadv-edu again, and delete it" "OK OK" \
		"$(mc 'w:create kadv-edu 4096\n' 'w:delete kadv-edu\n')"
	check "after the removal the creator's getmap and sync -> -ENODEV, and the memory it got is still its own (holds its data)" \
		"getmap=-19 sync=-19 data=ok" "$(kprobe)"
	check "the creator's remove after the parent's removal -> -ENODEV (-19), and frees" -19 "$(kremove kadv-edu)"
	echo 1 >/sys/bus/pci/rescan
	check "echo 1 > /sys/bus/pci/rescan brings edu back" "$EDU" "$("$BIN/mgr_edu" find)"
	check "rmmod $KNAME" OK "$(kapi_unload)"
	kmemleak_clean "kmemleak: nothing leaked by a created buffer whose parent went before its creator's remove"
	sec_clean "$SEC" "no kernel warning from the parent's removal under a creator (KASAN would report a read of freed memory)"
else
	skip "a created buffer whose parent is removed stays the creator's" "no edu device"
fi

# --- finding 4: dma-buf START/END sync the importers' mappings ---------------------------
if [ ! -e "$KO_IMP" ]; then
	skip "DMA_BUF_IOCTL_SYNC syncs an importer's mapping" "no $KO_IMP in this guest"
elif ! dma_probe_start; then
	skip "DMA_BUF_IOCTL_SYNC syncs an importer's mapping" "$DMA_PROBE_WHY"
	dma_probe_stop
else
	sec_mark
	kmark
	check "manager create kadv-exp 64K" OK "$(mc 'w:create kadv-exp 65536\n')"
	r=$("$BIN/kadv_sync" kadv-exp "$KO_IMP")
	check "export kadv-exp, the importer attaches + maps and keeps it (hold=1), SYNC START and END" \
		"load=OK start=0 end=0" "$r"
	trace=$(cat $TRACEFS/trace)
	dma_probe_stop
	imp=$(klog | sed -n 's/^udmabuf_import_test: //p')
	printf '%s\n' "$imp" | sed -n -e 's/^ok - /ok - importer: /p' -e 's/^not ok - /not ok - importer: /p'
	hold=$(printf '%s\n' "$imp" | sed -n 's/^hold: //p')
	impdev=$(printf '%s\n' "$hold" | sed -n 's/.*dev=\([^ ]*\).*/\1/p')
	need=$(printf '%s\n' "$hold" | sed -n 's/.*need_sync=\([01]\).*/\1/p')
	diag "importer: ${hold:-no hold line}"
	# calls PHASE: the probed DMA-API sync calls between kadv_sync's trace markers.
	calls() {
		printf '%s\n' "$trace" | awk -v p="$1" '
			/kadv_sync: start/ { ph = "start"; next }
			/kadv_sync: end/ { ph = "end"; next }
			/kadv_sync: done/ { ph = "done"; next }
			ph == p' | sed -n 's/^.* \([a-z]*\)_\(single\|sg\): ([^)]*) /\1 \2 /p' | tr -d '"'
	}
	start=$(calls start)
	end=$(calls end)
	diag "DMA-API sync calls during SYNC START:" "${start:-none}" "during SYNC END:" "${end:-none}"
	if [ -z "$impdev" ]; then
		not_ok "the importer held a mapping" "expected a 'hold: dev=...' line got:" "$imp"
	elif [ "$need" = 0 ]; then
		skip "SYNC START syncs the importer's mapping for the CPU (sg, dev=$impdev)" \
			"on $KREL the importer device $impdev is DMA-coherent: the inline dma_sync_sg_* wrappers skip the call (dma_dev_need_sync() = 0)"
		skip "SYNC END syncs the importer's mapping for the device (sg, dev=$impdev)" \
			"on $KREL the importer device $impdev is DMA-coherent: the inline dma_sync_sg_* wrappers skip the call"
	else
		check_match "SYNC START syncs the importer's mapping for the CPU: dma_sync_sg_for_cpu with dev=$impdev (INTERFACE.md §9)" \
			"cpu sg dev=$impdev .*" "$(printf '%s\n' "$start" | grep "dev=$impdev " | head -n 1)"
		check_match "SYNC END syncs the importer's mapping for the device: dma_sync_sg_for_device with dev=$impdev" \
			"device sg dev=$impdev .*" "$(printf '%s\n' "$end" | grep "dev=$impdev " | head -n 1)"
	fi
	check "rmmod udmabuf_import_test (it unmaps and detaches), then delete kadv-exp" "OK OK" \
		"$("$BIN/modctl" unload udmabuf_import_test) $(mc 'w:delete kadv-exp\n')"
	sec_clean "$SEC" "no kernel warning from the syncs of a dma-buf an importer holds mapped"
fi

# --- finding 3: delete and rmmod racing the parent's removal -----------------------------
# edu gets a plain driver (udmabuf_import_edu of the importer module, which does not
# depend on u-dma-buf, so that u-dma-buf can be unloaded under it), so that on the debug
# kernel the DMA-API debug code checks at its unbind that no mapping of edu is left
# ("device driver has pending DMA allocations while released from device").
EDRV=udmabuf_import_edu
if [ -n "$EDU" ] && [ -e "$KO_IMP" ]; then
	kmemleak_begin
	check "insmod udmabuf_import_test edu=1 (a plain driver of edu)" OK "$("$BIN/modctl" load "$KO_IMP" edu=1)"
	check "edu is bound to $EDRV" $EDRV "$(basename "$(readlink "/sys/bus/pci/devices/$EDU/driver")")"
	# The window made certain: edu's unbind waits (the importer's notifier) until a
	# manager delete has unpublished kst and enters udmabuf_destroy_bound(); the removal
	# runs at SCHED_FIFO, so it preempts the delete there (on a kernel with voluntary
	# preemption; the debug kernel has none and runs the delete through).  The device of
	# kst must go before edu's sysfs directory does: before the fix, device_del() found
	# its directory gone ("sysfs group 'power' not found for kobject 'kst'").
	sec_mark
	kmark
	r=$(mc "w:create kst 65536 bus=pci device=$EDU\n")
	echo 1 >/sys/module/udmabuf_import_test/parameters/stall
	"$BIN/modctl" rtwrite "/sys/bus/pci/devices/$EDU/remove" 1 >/dev/null &
	n=0
	while ! klog | grep -q 'udmabuf_import_test: stall: waiting' && [ $n -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	d=$(mc "w:delete kst\n")
	wait
	st=$(klog | sed -n 's/.*udmabuf_import_test: stall: //p' | tr '\n' ' ')
	check "a delete racing edu's removal, stalled between unpublishing kst and deleting its device: created, deleted, the removal released by the delete" \
		"OK OK waiting released" "$r $d ${st% }"
	check "kst is gone" "" "$(ls /dev/kst 2>/dev/null)"
	echo 1 >/sys/bus/pci/rescan
	check "edu is back after the rescan" "$EDU" "$("$BIN/mgr_edu" find)"
	# The removal preempted the delete when it was released before the delete ended.
	order=$(klog | grep -E 'udmabuf_import_test: stall: released|u-dma-buf: kst removed' |
		sed 's/.*stall: released/released/; s/.*kst removed.*/removed/' | tr '\n' ' ')
	if [ "$order" = "released removed " ]; then
		sec_clean "$SEC" "no kernel warning from a delete preempted by the parent's removal"
	else
		skip "no kernel warning from a delete preempted by the parent's removal" \
			"the delete ran to its end before the removal went on ($order): this kernel did not preempt it (no voluntary preemption), so the window was not reached"
	fi
	# A create while edu is being removed, after u-dma-buf's notifier ran but while edu is
	# still on its bus (the importer's late notifier holds the removal there): refused.
	# Before the fix the buffer was made under edu's sysfs directory, which the removal then
	# took away, and its delete warned as above.
	sec_mark
	kmark
	echo 1 >/sys/module/udmabuf_import_test/parameters/stall_late
	echo 1 >"/sys/bus/pci/devices/$EDU/remove" &
	n=0
	while ! klog | grep -q 'udmabuf_import_test: stall_late: waiting' && [ $n -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	r=$(mc "w:create kdy 65536 bus=pci device=$EDU\n" e:/dev/kdy)
	echo 1 >/sys/module/udmabuf_import_test/parameters/release
	wait
	check "create kdy for edu during its removal, after our notifier ran: ENODEV, no buffer" "ENODEV no" "$r"
	[ -e /dev/kdy ] && mc "w:delete kdy\n" >/dev/null
	check "the removal was held and released" "released" \
		"$(klog | sed -n 's/.*udmabuf_import_test: stall_late: //p' | grep -v waiting)"
	echo 1 >/sys/bus/pci/rescan
	check "edu is back after the rescan" "$EDU" "$("$BIN/mgr_edu" find)"
	sec_clean "$SEC" "no kernel warning from a create during the parent's removal"
	kmark
	fails=
	n=1
	while [ $n -le 20 ]; do
		r=$(mc "w:create kr$n 65536 bus=pci device=$EDU\n")
		[ "$r" = OK ] || fails="$fails $n:create:$r"
		if [ $((n % 2)) = 1 ]; then
			mc "w:delete kr$n\n" >/dev/null &
			echo 1 >"/sys/bus/pci/devices/$EDU/remove"
		else
			echo 1 >"/sys/bus/pci/devices/$EDU/remove" &
			mc "w:delete kr$n\n" >/dev/null
		fi
		wait
		[ -e "/dev/kr$n" ] && fails="$fails $n:kr$n-left"
		echo 1 >/sys/bus/pci/rescan
		[ "$("$BIN/mgr_edu" find)" = "$EDU" ] || fails="$fails $n:no-rescan"
		n=$((n + 1))
	done
	check "20 rounds of manager delete racing edu's removal (and a rescan): node gone, edu back" "" "${fails# }"
	check "edu is bound to $EDRV again" $EDRV "$(basename "$(readlink "/sys/bus/pci/devices/$EDU/driver")")"
	fails=
	n=1
	while [ $n -le 5 ]; do
		r=$(mc "w:create kx$n 65536 bus=pci device=$EDU\n")
		[ "$r" = OK ] || fails="$fails $n:create:$r"
		unload &
		echo 1 >"/sys/bus/pci/devices/$EDU/remove"
		wait
		loaded && fails="$fails $n:rmmod-refused"
		echo 1 >/sys/bus/pci/rescan
		[ "$("$BIN/mgr_edu" find)" = "$EDU" ] || fails="$fails $n:no-rescan"
		load || fails="$fails $n:insmod:$LOAD"
		n=$((n + 1))
	done
	check "5 rounds of rmmod racing edu's removal (and a rescan, insmod)" "" "${fails# }"
	dma=$(klog | grep -E 'DMA-API|pending DMA' | head -n 5 || true)
	check "no DMA-API debug report: no mapping of edu outlived its removal" "" "$dma"
	check_log_clean "no kernel warning from the delete / rmmod races with the parent's removal"
	check "rmmod udmabuf_import_test" OK "$("$BIN/modctl" unload udmabuf_import_test)"
	kmemleak_clean "kmemleak: nothing leaked by the races with the parent's removal"
else
	skip "delete and rmmod racing the parent's removal" "no edu device or no $KO_IMP"
fi

sec_clean "$SUITE_SEQ" "no kernel warning in the in-kernel API adversary suite"
must_unload "rmmod u-dma-buf"
finish
