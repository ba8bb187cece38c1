#!/bin/sh
# 75-bind: buffers bound to a parent device (INTERFACE.md §2 bind parameters, §10 bus=/
# device=, §13.9): the QEMU edu PCI device through the manager, udmabufN_bind= and
# bind=; a platform (and on arm64 an amba) device; missing parents; PCI removal of the
# parent while the buffer is mapped, then rescan and rmmod.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mc() { "$BIN/mgr_cmd" "$@"; }
klog_all() { klog | grep -E '^u-dma-buf' || true; }

# parent_of NAME: where the sysfs device link of buffer NAME points (resolved).
parent_of() { readlink -f "$CLASS/$1/device" 2>/dev/null || echo none; }

# A platform device on each architecture that every kernel here has (platform devices
# get a 32-bit DMA mask from the driver core).
# first_of PATTERN...: the name of the first existing path.
first_of() {
	for _p in "$@"; do
		[ -e "$_p" ] && basename "$_p" && return 0
	done
	return 0
}
case $ARCH in
amd64) PLAT=serial8250 ;;
arm64 | armhf) PLAT=$(first_of /sys/bus/platform/devices/*.fw-cfg /sys/bus/platform/devices/*.pcie) ;;
*) PLAT= ;;
esac
AMBA=$(first_of /sys/bus/amba/devices/*)

EDU=$("$BIN/mgr_edu" find)
if [ -z "$EDU" ]; then
	not_ok "the QEMU edu device (1234:11e8) is on the PCI bus" "expected it (-device edu) got: $(ls /sys/bus/pci/devices)"
	finish
fi
EDU_SYS=$(readlink -f "/sys/bus/pci/devices/$EDU")
diag "edu is $EDU ($EDU_SYS); platform parent ${PLAT:-none}; amba parent ${AMBA:-none}"

if ! must_load "insmod with no buffer" info_enable=3; then
	finish
fi

# --- the manager: bus=pci device=<edu> ---------------------------------------------------
kmark
check "create eb 65536 bus=pci device=$EDU" "OK yes" "$(mc "w:create eb 65536 bus=pci device=$EDU\n" e:/dev/eb)"
check "eb: the sysfs device link points at the edu PCI device" "$EDU_SYS" "$(parent_of eb)"
check_match "eb: the log says 'u-dma-buf: eb installed.'" '.+' "$(klog | grep -Fx 'u-dma-buf: eb installed.')"
diag "eb: phys_addr $(attr eb phys_addr), dma_coherent $(attr eb dma_coherent); log: $(klog_all | grep -i 'dma' | tr '\n' '|')"
check "eb is usable: write()/mmap/read() with sync through sysfs" OK "$("$BIN/ut" pattern eb 1)"
check "edu copies RAM -> device -> RAM through eb's DMA address (bus master)" OK "$("$BIN/mgr_edu" dma eb)"
exec 8</dev/eb
check "delete eb while it is open -> EBUSY" "EBUSY yes" "$(mc 'w:delete eb\n' e:/dev/eb)"
exec 8<&-
check "delete eb after the close" "OK no no" "$(mc 'w:delete eb\n' e:/dev/eb e:$CLASS/eb)"
check "the edu device is untouched by the buffer's life: still on the bus" yes \
	"$([ -e "/sys/bus/pci/devices/$EDU" ] && echo yes || echo no)"
check "create with device= only and a pci/ path is not a platform name: device=$EDU alone -> ENODEV" ENODEV \
	"$(mc "w:create eb 4096 device=$EDU\n")"
check "two buffers bound to edu at once" "OK $EDU_SYS $EDU_SYS" \
	"$(mc "w:create eb1 8192 bus=pci device=$EDU;create eb2 1M bus=pci device=$EDU\n") $(parent_of eb1) $(parent_of eb2)"
check "both are usable" "OK OK" "$("$BIN/ut" pattern eb1 2) $("$BIN/ut" pattern eb2 3)"

# Every mmap mode: the memory is the buffer's own, mapped for edu (coherent memory in off).
for m in off on auto page; do
	check "eb-$m: create bound to edu with quirk-mmap-$m, usable, and edu DMA through it" "OK $EDU_SYS OK OK" \
		"$(mc "w:create eb-$m 20000 bus=pci device=$EDU quirk-mmap-$m\n") $(parent_of eb-$m) $("$BIN/ut" pattern eb-$m 5) $("$BIN/mgr_edu" dma eb-$m)"
	mc "w:delete eb-$m\n" >/dev/null
done

# --- PCI removal of the parent while a buffer is mapped ---------------------------------
# eb1 is mapped and open during the removal, eb2 is unused: both nodes go at once.
kmark
run_tap "$BIN/mgr_edu" remove eb1 "$EDU"
check "eb2 (unused) went with its parent too" "no no" "$(mc e:/dev/eb2 e:$CLASS/eb2)"
check "delete eb1 after the parent's removal -> ENODEV (the name is gone)" ENODEV "$(mc 'w:delete eb1\n')"
check "the name eb1 can be created again at once (unbound)" "OK yes" "$(mc 'w:create eb1 4096\n' e:/dev/eb1)"
mc 'w:delete eb1\n' >/dev/null
check "create bound to the removed edu -> ENODEV" ENODEV "$(mc "w:create eb3 4096 bus=pci device=$EDU\n")"
check_log_clean "no kernel warning from the parent's removal under a mapping"
echo 1 >/sys/bus/pci/rescan
check "echo 1 > /sys/bus/pci/rescan brings edu back at $EDU" "$EDU" "$("$BIN/mgr_edu" find)"
check "after the rescan a buffer can be bound to the new edu, and DMA works" "OK OK OK" \
	"$(mc "w:create eb 16384 bus=pci device=$EDU\n") $("$BIN/ut" pattern eb 4) $("$BIN/mgr_edu" dma eb)"
must_unload "rmmod after the removal and rescan (a bound buffer in place)"
check "no node left after rmmod" "" "$(ls /dev/eb /dev/eb1 /dev/eb2 2>/dev/null)"

# --- udmabufN_bind= and bind= -----------------------------------------------------------
if must_load "insmod udmabuf0=64K udmabuf0_bind=pci/$EDU" udmabuf0=64K "udmabuf0_bind=pci/$EDU"; then
	check "udmabuf0: the sysfs device link points at edu" "$EDU_SYS" "$(parent_of udmabuf0)"
	check "udmabuf0 bound by parameter is usable and edu DMA works" "OK OK" \
		"$("$BIN/ut" pattern udmabuf0 5) $("$BIN/mgr_edu" dma udmabuf0)"
	check "delete udmabuf0 (bound parameter buffer) through the manager" "OK no" \
		"$(mc 'w:delete udmabuf0\n' e:/dev/udmabuf0)"
	must_unload "rmmod after udmabuf0_bind="
fi
bind_args="bind=pci/$EDU udmabuf0=16K udmabuf1=32K"
[ -n "$PLAT" ] && bind_args="$bind_args udmabuf2=8K udmabuf2_bind=$PLAT"
# shellcheck disable=SC2086
if must_load "insmod $bind_args" $bind_args; then
	check "bind=: udmabuf0 and udmabuf1 are bound to edu" "$EDU_SYS $EDU_SYS" "$(parent_of udmabuf0) $(parent_of udmabuf1)"
	check "bind=: both usable" "OK OK" "$("$BIN/ut" pattern udmabuf0 6) $("$BIN/ut" pattern udmabuf1 7)"
	if [ -n "$PLAT" ]; then
		check "udmabuf2_bind=$PLAT wins over bind=" "$(readlink -f /sys/bus/platform/devices/$PLAT)" "$(parent_of udmabuf2)"
		check "udmabuf2 (platform parent) is usable" OK "$("$BIN/ut" pattern udmabuf2 8)"
	fi
	# Removal with parameter buffers: udmabuf0 mapped, udmabuf1 unused.
	kmark
	run_tap "$BIN/mgr_edu" remove udmabuf0 "$EDU"
	check "udmabuf1 went with edu; udmabuf2 (other parent) stays" "no yes" \
		"$(mc e:/dev/udmabuf1 e:/dev/udmabuf2)"
	check_log_clean "no kernel warning from removing the parent of parameter buffers"
	echo 1 >/sys/bus/pci/rescan
	check "edu is back after the rescan" "$EDU" "$("$BIN/mgr_edu" find)"
	must_unload "rmmod after the parent of parameter buffers was removed and rescanned"
fi

# --- platform and amba parents ------------------------------------------------------------
if must_load "insmod for platform parents"; then
	if [ -n "$PLAT" ]; then
		P_SYS=$(readlink -f "/sys/bus/platform/devices/$PLAT")
		check "create pb 16384 device=$PLAT (platform bus by default)" "OK $P_SYS" \
			"$(mc "w:create pb 16384 device=$PLAT\n") $(parent_of pb)"
		check "pb is usable" OK "$("$BIN/ut" pattern pb 9)"
		check "create pb2 8192 bus=platform device=$PLAT" "OK $P_SYS" \
			"$(mc "w:create pb2 8192 bus=platform device=$PLAT\n") $(parent_of pb2)"
		check "delete pb pb2" "OK no no" "$(mc 'w:delete pb;delete pb2\n' e:/dev/pb e:/dev/pb2)"
	else
		not_ok "a platform device to bind to on $ARCH" "expected one got: $(ls /sys/bus/platform/devices)"
	fi
	if [ -n "$AMBA" ]; then
		check "create ab 8192 bus=amba device=$AMBA" "OK $(readlink -f "/sys/bus/amba/devices/$AMBA")" \
			"$(mc "w:create ab 8192 bus=amba device=$AMBA\n") $(parent_of ab)"
		check "ab is usable" OK "$("$BIN/ut" pattern ab 10)"
		mc 'w:delete ab\n' >/dev/null
	else
		skip "create bound to an amba device" "no amba bus on $ARCH"
	fi
	# A bus the kernel has without that device: ENODEV; a bus it does not have: EINVAL.
	if [ -d /sys/bus/amba ]; then
		check "bus=amba with a missing device -> ENODEV" ENODEV "$(mc 'w:create ab 8192 bus=amba device=no-such.pl011\n')"
	else
		check "bus=amba on a kernel without amba -> EINVAL (unknown bus)" EINVAL "$(mc 'w:create ab 8192 bus=amba device=no-such.pl011\n')"
	fi
	check "bus=pci with a missing device -> ENODEV" ENODEV "$(mc 'w:create pb3 8192 bus=pci device=0000:ff:1f.7\n')"
	check "an unknown bus -> EINVAL, nothing created" "EINVAL no" \
		"$(mc 'w:create ub 8192 bus=usb device=1-1\n') $(mc e:/dev/ub)"
	must_unload "rmmod after the platform parents"
fi

# --- missing parents at insmod ------------------------------------------------------------
for args in "udmabuf0=4096 udmabuf0_bind=pci/0000:7f:1f.7" "udmabuf0=4096 udmabuf0_bind=no-such-device" \
	"bind=pci/0000:7f:1f.7 udmabuf1=4096" "udmabuf0=4096 udmabuf0_bind=platform/no-such-device"; do
	kmark
	# shellcheck disable=SC2086
	load $args
	check "insmod $args fails with ENODEV" ENODEV "$LOAD"
	check_match "insmod $args: the log names the missing parent" '.+' \
		"$(klog_all | grep -E 'no device|not found|no such' | head -n 1)"
	cleanup
done
check "nothing is left from the failed loads" "" "$(ls /dev/udmabuf0 /dev/udmabuf1 /dev/u-dma-buf-mgr 2>/dev/null)"
check_log_clean "no kernel warning in the bind suite"
finish
