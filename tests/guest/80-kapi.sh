#!/bin/sh
# 80-kapi: the in-kernel API (INTERFACE.md §10b) through tests/kmod/udmabuf_kapi_test,
# which runs its checks when loaded and logs "udmabuf_kapi_test: ok - ..." lines; then
# the buffers it makes meet user space (open -> in-kernel remove refused, manager
# delete), and loads run while the manager creates and deletes at the same time.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

KMOD=${KMOD:-/t/kmod}
KO=$KMOD/udmabuf_kapi_test.ko
KNAME=udmabuf_kapi_test
PARAMS=/sys/module/$KNAME/parameters

mc() { "$BIN/mgr_cmd" "$@"; }

if [ ! -e "$KO" ]; then
	skip "the in-kernel API checks of udmabuf_kapi_test.ko" "no $KO in this guest (the harness builds tests/kmod/*/ into \$KMOD)"
	finish
fi

# kapi_lines: the test module's lines since the mark, as TAP (# lines stay diagnostics).
kapi_lines() { klog | sed -n "s/^$KNAME: //p"; }

# kremove NAME: the module's in-kernel search + remove of NAME; prints its result.
kremove() {
	kmark
	echo "$1" >"$PARAMS/remove"
	kapi_lines | sed -n "s/^remove $1: //p"
}

EDU=$("$BIN/mgr_edu" find)
if ! must_load "insmod u-dma-buf with no buffer"; then
	finish
fi
kmark
r=$("$BIN/modctl" load "$KO" ${EDU:+pci=$EDU} keep=kapi-keep)
check "insmod $KNAME ${EDU:+pci=$EDU} keep=kapi-keep" OK "$r"
lines=$(kapi_lines)
printf '%s\n' "$lines" | grep -E '^(ok|not ok) - |^#' | sed 's/^# /# kapi: /'
check_match "$KNAME ran to its end" 'done: 0 failed' "$(printf '%s\n' "$lines" | grep '^done:')"

# --- its buffer and user space -----------------------------------------------------------
check "kapi-keep made in the kernel has a node and is usable from user space" OK "$("$BIN/ut" pattern kapi-keep 1)"
exec 8</dev/kapi-keep
check "in-kernel remove of kapi-keep while user space has it open -> -EBUSY (-16)" -16 "$(kremove kapi-keep)"
check "kapi-keep is still there" yes "$(mc e:/dev/kapi-keep)"
exec 8<&-
check "in-kernel remove of kapi-keep after the close -> 0" 0 "$(kremove kapi-keep)"
check "kapi-keep's node is gone" no "$(mc e:/dev/kapi-keep)"
check "in-kernel remove of it again -> -ENODEV (-19)" -19 "$(kremove kapi-keep)"
mc 'w:create kmgr 8192\n' >/dev/null
check "in-kernel remove of a buffer the manager made -> 0" "0 no" "$(kremove kmgr) $(mc e:/dev/kmgr)"
r=$("$BIN/modctl" unload $KNAME)
check "rmmod $KNAME" OK "$r"

# unbind_pdev NAME: unbind the platform device of buffer NAME from u-dma-buf (a removal
# that cannot be refused); prints OK or what failed.
unbind_pdev() {
	_pd=$(basename "$(readlink "$CLASS/$1/device")")
	if echo "$_pd" >/sys/bus/platform/drivers/u-dma-buf/unbind; then echo OK; else echo "unbind $_pd failed"; fi
}

# A kept buffer is in use by the module that made it (INTERFACE 13.16): the manager cannot
# delete it; an unbind takes its name while the memory waits for the creator's remove.
kmark
r=$("$BIN/modctl" load "$KO" keep=kapi-keep2)
check "insmod $KNAME keep=kapi-keep2 (no PCI parent)" OK "$r"
check "manager delete of the buffer made in the kernel -> EBUSY, it stays" "EBUSY yes" \
	"$(mc 'w:delete kapi-keep2\n' e:/dev/kapi-keep2)"
check "unbind of its platform device takes the node" "OK no" "$(unbind_pdev kapi-keep2) $(mc e:/dev/kapi-keep2)"
kmark
echo 1 >"$PARAMS/recheck"
lines=$(kapi_lines)
printf '%s\n' "$lines" | grep -E '^(ok|not ok) - '
check "the module's checks of its pointer to the deleted buffer ran" "recheck done" \
	"$(printf '%s\n' "$lines" | grep '^recheck done')"
check "rmmod $KNAME after its buffer was unbound" OK "$("$BIN/modctl" unload $KNAME)"

# A kept buffer unbound, then the module unloads: its exit gives the pointer back (-ENODEV)
# and with it the memory.
kmark
check "insmod $KNAME keep=kapi-keep3" OK "$("$BIN/modctl" load "$KO" keep=kapi-keep3)"
check "manager delete of kapi-keep3 -> EBUSY; unbind takes it" "EBUSY OK no" \
	"$(mc 'w:delete kapi-keep3\n') $(unbind_pdev kapi-keep3) $(mc e:/dev/kapi-keep3)"
check "rmmod $KNAME: its exit removes kapi-keep3 through its pointer -> -ENODEV (-19)" "OK -19" \
	"$("$BIN/modctl" unload $KNAME) $(kapi_lines | sed -n 's/^exit remove: //p')"

# edu_round MODE WHAT: one round of the edu driver with kapi-edu in mmap mode MODE.
edu_round() {
	_m=$1 _w=$2
	kmark
	check "$_w: insmod $KNAME edu_driver=1 edu_mode=$_m (a PCI driver for edu that creates kapi-edu in probe)" OK \
		"$("$BIN/modctl" load "$KO" edu_driver=1 edu_mode="$_m")"
	_l=$(kapi_lines | grep -E '^(ok|not ok) - driver' || true)
	if [ -n "$_l" ]; then
		printf '%s\n' "$_l" | sed "s/ - / - $_w: /"
	else
		not_ok "$_w: the edu driver's probe ran" "expected its lines got none"
	fi
	check "$_w: edu is bound to udmabuf_kapi_edu" udmabuf_kapi_edu "$(basename "$(readlink "/sys/bus/pci/devices/$EDU/driver")")"
	check "$_w: kapi-edu's sysfs device link points at edu, and it is usable" "$EDU_SYS OK" \
		"$(readlink -f $CLASS/kapi-edu/device) $("$BIN/ut" pattern kapi-edu 2)"
	check "$_w: edu DMA through kapi-edu" OK "$("$BIN/mgr_edu" dma kapi-edu)"
	kmark
	run_tap "$BIN/mgr_edu" detach kapi-edu "$DRV/unbind" "$EDU" | sed "s/ - / - $_w: /"
	check "$_w: the driver's own remove found kapi-edu already gone (-ENODEV, -19)" -19 \
		"$(kapi_lines | sed -n 's/^driver remove: //p')"
	check "$_w: edu has no driver after the unbind, and is still on the bus" "none yes" \
		"$([ -e "/sys/bus/pci/devices/$EDU/driver" ] && echo bound || echo none) $([ -e "/sys/bus/pci/devices/$EDU" ] && echo yes || echo no)"
	echo "$EDU" >"$DRV/bind"
	check "$_w: binding the driver again creates kapi-edu again" yes "$(mc e:/dev/kapi-edu)"
	check "$_w: rmmod $KNAME (its driver goes, and kapi-edu with it)" "OK no" \
		"$("$BIN/modctl" unload $KNAME) $(mc e:/dev/kapi-edu)"
	check_log_clean "$_w: no kernel warning from the driver unbind under a mapping"
}

# --- a driver of edu owns a bound buffer: driver unbind while user space maps it ---------
if [ -n "$EDU" ]; then
	EDU_SYS=$(readlink -f "/sys/bus/pci/devices/$EDU")
	DRV=/sys/bus/pci/drivers/udmabuf_kapi_edu
	edu_round 0 "edu driver, default mmap mode"
	edu_round 1 "edu driver, mmap mode off (coherent memory)"
else
	not_ok "the QEMU edu device is on the PCI bus" "expected 1234:11e8 got none"
fi

# --- loads racing with manager commands --------------------------------------------------
kmark
(
	i=0
	while [ $i -lt 150 ]; do
		mc "w:create kr$((i % 3)) 4096\n" "w:delete kr$(((i + 2) % 3))\n" >/dev/null
		i=$((i + 1))
	done
	mc 'w:delete kr0;' 'w:delete kr1;' 'w:delete kr2;' >/dev/null
) &
racer=$!
n=0 fails=0
while [ $n -lt 5 ]; do
	kmark
	r=$("$BIN/modctl" load "$KO" ${EDU:+pci=$EDU})
	[ "$r" = OK ] || fails=$((fails + 1))
	bad=$(kapi_lines | grep '^not ok' || true)
	[ -z "$bad" ] || {
		fails=$((fails + 1))
		diag "load $n: $bad"
	}
	"$BIN/modctl" unload $KNAME >/dev/null || fails=$((fails + 1))
	n=$((n + 1))
done
wait $racer
check "five loads of $KNAME (all checks) while the manager creates and deletes: every check passed" 0 "$fails"
check "no buffer is left by the racing loads" "" "$(cd /dev && ls -d kr[0-2] kapi* udmabuf200 2>/dev/null)"
check_log_clean "no kernel warning in the in-kernel API suite"
must_unload "rmmod u-dma-buf"
finish
