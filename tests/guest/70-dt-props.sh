#!/bin/sh
# 70-dt-props: the devicetree/ examples as buffers (issue 3, INTERFACE.md §3): each one
# under its name with the size, region, sync state, coherency and mmap mode its node
# asks for, its device link at the node's platform device; no load at boot, and
# autoloading by the node's modalias (MODULE_DEVICE_TABLE).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
dt_requires "device-tree properties"

# --- before any load ---------------------------------------------------------------------
missing='' bound=''
for n in $(dt_example_names); do
	dt_example "$n"
	p=$(pdev_of "$E_NODE") || { missing="$missing $E_NODE"; continue; }
	has_driver "$p" && bound="$bound $p"
done
check "every example node is a platform device (of_node link) in the guest" "" "${missing# }"
check "the boot did not load u-dma-buf by itself: not loaded, no example node has a driver" \
	"no ''" "$(loaded && echo yes || echo no) '${bound# }'"

boot_log=$(dmesg)
# The kernel prints a physical address (%pa) with the width of phys_addr_t: 8 hex digits
# on armhf (no LPAE), 16 on arm64.
if [ "$WORD_BITS" = 32 ]; then PA_CMA=0x70000000 PA_POOL=0x68000000; else
	PA_CMA=0x0000000070000000 PA_POOL=0x0000000068000000; fi
for want in "Reserved memory: created CMA memory pool at $PA_CMA, size 32 MiB" \
	"Reserved memory: created DMA memory pool at $PA_POOL, size 8 MiB"; do
	if printf '%s\n' "$boot_log" | grep -qF "$want"; then
		ok "boot log: $want"
	else
		not_ok "boot log: $want" "expected that line got:" \
			"$(printf '%s\n' "$boot_log" | grep -i 'reserved mem' | head -n 8)"
	fi
done
for region in /reserved-memory/udmabuf-cma@70000000:0x70000000:0x2000000 \
	/reserved-memory/udmabuf-pool@68000000:0x68000000:0x800000; do
	check "the guest's device tree has ${region%%:*} with reg ${region#*:}" \
		"$(echo "${region#*:}" | tr : ' ')" "$(reg_of "${region%%:*}")"
done

# --- the buffers -------------------------------------------------------------------------
if ! dt_load "insmod with the device-tree nodes (info_enable=3)" info_enable=3; then
	finish
fi
for n in $(dt_example_names); do
	dt_example "$n"
	if [ ! -d "$CLASS/$n" ]; then
		not_ok "$n: /sys/class/u-dma-buf/$n exists" "expected the buffer of $E_NODE got:" \
			"class: $(class_names | tr '\n' ' ')" "log: $(mod_lines_of "$n" | tail -n 3)"
		continue
	fi
	ok "$n: /sys/class/u-dma-buf/$n exists"
	check_true "$n: /dev/$n is a character device with the class device's numbers" \
		"expected a char device $(attr "$n" dev) got: $(ls -l "/dev/$n" 2>&1)" dev_node_ok "$n"
	check "$n: size" "$E_SIZE" "$(attr "$n" size)"
	phys=$(attr "$n" phys_addr)
	check_match "$n: phys_addr is 0x and 16 lowercase hex digits" '0x[0-9a-f]{16}' "$phys"
	diag "$n: phys_addr $phys, dev $(attr "$n" dev)"
	if [ "$E_RLO" != - ]; then
		check_true "$n: phys_addr + size lies inside the region $E_RLO + $E_RSIZE" \
			"expected [$phys, +$E_SIZE) inside [$E_RLO, +$E_RSIZE)" in_region "$phys" "$E_SIZE" "$E_RLO" "$E_RSIZE"
	fi
	check "$n: dma_coherent" "$E_COH" "$(attr "$n" dma_coherent)"
	check "$n: sync_mode" "$E_MODE" "$(attr "$n" sync_mode)"
	check "$n: sync_direction" "$E_DIR" "$(attr "$n" sync_direction)"
	check "$n: sync_offset" "$E_OFF" "$(attr "$n" sync_offset)"
	check "$n: sync_size" "$E_SSIZE" "$(attr "$n" sync_size)"
	check "$n: sync_owner starts at 0 (CPU)" 0 "$(attr "$n" sync_owner)"
	check "$n: sync_for_cpu and sync_for_device read 0" "0 0" "$(attr "$n" sync_for_cpu) $(attr "$n" sync_for_device)"
	# A region in highmem (32-bit ARM) gives coherent memory: mode off (lib.sh CMA_PAGES_KB).
	if [ "$E_RLO" != - ] && [ -n "$HIGHMEM_START" ] &&
		[ $((E_RLO)) -ge $((HIGHMEM_START)) ] && [ "$E_QUIRK" != 1 ]; then
		check "$n: quirk_mmap_mode 1: its region lies in highmem, so the buffer is coherent memory" \
			1 "$(attr "$n" quirk_mmap_mode)"
	else
		check "$n: quirk_mmap_mode" "$E_QUIRK" "$(attr "$n" quirk_mmap_mode)"
	fi
	p=$(pdev_of "$E_NODE")
	check "$n: the device link points at the platform device of $E_NODE" "$p" "$(buf_pdev "$n")"
	check "$n: that platform device's driver is u-dma-buf" "$DRV" "$(readlink -f "$PDEVS/$p/driver")"
	if mod_lines_of "$p" | grep -qx "u-dma-buf $p: driver installed\."; then
		ok "$n: log line 'u-dma-buf $p: driver installed.'"
	else
		not_ok "$n: log line 'u-dma-buf $p: driver installed.'" "got:" "$(mod_lines_of "$p")"
	fi
done
check "udmabuf32: minor-number 32 gives minor 32" 32 "$(buf_minor udmabuf32)"
# dma-mask = <40> on udmabuf-coherent: the info block's DMA line (info_enable bit 1).
check "udmabuf-coherent: dma-mask 40 gives the log line 'dma mask = 0x000000ffffffffff'" \
	"u-dma-buf udmabuf-coherent: dma mask       = 0x000000ffffffffff" \
	"$(mod_lines_of udmabuf-coherent | grep 'dma mask')"
check "udmabuf-noncoherent: its log says mmap mode 4 (quirk-mmap-page)" \
	"u-dma-buf udmabuf-noncoherent: mmap mode      = 4" \
	"$(mod_lines_of udmabuf-noncoherent | grep 'mmap mode')"

# --- properties the examples do not show (tests/dt/props.dtsi) ----------------------------
printf '%s\n' "$DT_PROPS" | while read -r n size mode dir off ssize quirk; do
	[ -n "$n" ] || continue
	check "$n: size sync_mode sync_direction sync_offset sync_size quirk_mmap_mode" \
		"$size $mode $dir $off $ssize $quirk" \
		"$(attr "$n" size) $(attr "$n" sync_mode) $(attr "$n" sync_direction) $(attr "$n" sync_offset) $(attr "$n" sync_size) $(attr "$n" quirk_mmap_mode)"
done
check "dt-mask-64: dma-mask 64 gives the log line 'dma mask = 0xffffffffffffffff'" \
	"u-dma-buf dt-mask-64: dma mask       = 0xffffffffffffffff" \
	"$(mod_lines_of dt-mask-64 | grep 'dma mask')"
check "every good node has its buffer, nothing else exists" \
	"$(dt_good_names | tr '\n' ' ')" "$(class_names | tr '\n' ' ')"

check "no u-dma-buf log line about an example says error or cannot" "" \
	"$(for n in $(dt_example_names); do mod_lines_of "$n"; done | grep -iE 'error|cannot|fail|invalid')"
check_log_clean "no kernel warning while the nodes probe"

must_unload "rmmod with every device-tree buffer bound"
left=
for n in $(dt_example_names); do
	dt_example "$n"
	[ -e "$CLASS/$n" ] || [ -e "/dev/$n" ] && left="$left $n"
	has_driver "$(pdev_of "$E_NODE")" && left="$left $E_NODE(driver)"
done
check "after rmmod no example buffer, node or driver binding is left" "" "${left# }"

# --- autoload ----------------------------------------------------------------------------
# What udev/mdev do for a new node: modprobe of its modalias through modules.alias.
p=$(pdev_of /udmabuf-plain)
alias=$(cat "$PDEVS/$p/modalias")
mkdir -p "/lib/modules/$KREL/extra"
cp "$MOD" "/lib/modules/$KREL/extra/u-dma-buf.ko"
depmod -a "$KREL" 2>/tmp/depmod.err
if grep -q '^alias of:N\*T\*Cikwzm,u-dma-buf u_dma_buf$' "/lib/modules/$KREL/modules.alias" 2>/dev/null; then
	ok "depmod finds the module's device-table alias of:N*T*Cikwzm,u-dma-buf"
else
	not_ok "depmod finds the module's device-table alias of:N*T*Cikwzm,u-dma-buf" \
		"expected 'alias of:N*T*Cikwzm,u-dma-buf u_dma_buf' in modules.alias got:" \
		"$(cat "/lib/modules/$KREL/modules.alias" /tmp/depmod.err 2>&1)"
fi
kmark
modprobe "$alias" 2>/tmp/modprobe.err
st=$?
if [ $st -eq 0 ] && loaded && [ -d "$CLASS/udmabuf-plain" ]; then
	ok "modprobe '$alias' (the node's modalias) loads u-dma-buf and the buffers appear"
else
	not_ok "modprobe '$alias' (the node's modalias) loads u-dma-buf and the buffers appear" \
		"expected exit 0, loaded, udmabuf-plain got exit $st, $(loaded && echo loaded || echo 'not loaded'), $(class_names | tr '\n' ' ')" \
		"$(cat /tmp/modprobe.err)"
fi
check "after the autoload every expected buffer is there" "$(dt_good_names | tr '\n' ' ')" "$(class_names | tr '\n' ' ')"
rm -rf "/lib/modules/$KREL/extra"
must_unload "rmmod after the autoload"

finish
