# shellcheck shell=sh
# Shell helpers of the device-tree suites NN-dt-*.sh (sourced after lib.sh). They run only
# in the -dt boots (DT=1): arm64 or armhf with QEMU's device tree plus tests/dt/base.dtsi, every
# devicetree/*.dtsi, the other tests/dt/*.dtsi and devicetree/*-overlay.dts
# (tests/lib/dt.sh).

DTBASE=/sys/firmware/devicetree/base
PDEVS=/sys/bus/platform/devices
# shellcheck disable=SC2034 # used by the suites
DRV=/sys/bus/platform/drivers/u-dma-buf

# The devicetree/ examples: buffer name, node path, size, reserved region (address and
# size, or - -), dma_coherent, sync_mode, sync_direction, sync_offset, sync_size,
# quirk_mmap_mode.  What each example says it gives.
DT_EXAMPLES='
udmabuf-plain /udmabuf-plain 4194304 - - 0 1 0 0x0 4194304 3
udmabuf32 /udmabuf-minor 1048576 - - 0 1 0 0x0 1048576 3
udmabuf-cma /udmabuf-cma 16777216 0x70000000 0x2000000 0 1 0 0x0 16777216 3
udmabuf-nomap /udmabuf-nomap 4194304 0x68000000 0x800000 0 1 0 0x0 4194304 3
udmabuf-coherent /udmabuf-coherent 1048576 - - 1 1 0 0x0 1048576 3
udmabuf-noncoherent /udmabuf-noncoherent 1048576 - - 0 6 2 0x80000 524288 4
udmabuf-pl /amba_pl@0/udmabuf-pl 2097152 - - 0 1 0 0x0 2097152 3
'
# Every buffer that a load without parameters creates: the examples and the good test
# nodes of tests/dt (names.dtsi, base.dtsi, regions.dtsi, phys.dtsi); the bus node's name
# is its platform device's, found at run time (dt_bus_name).
DT_TEST_GOOD='dt-minor-zero dt-named udmabuf42 dt-name-none dt-name-63-0123456789abcdef0123456789abcdef0123456789abcdef0123 dt-minor-first dt-cma-second dt-cma-low dt-nomap-second
dt-quirk-on dt-quirk-off dt-quirk-auto dt-quirk-on-off dt-quirk-off-auto dt-quirk-all dt-sync-always dt-sync-3-always dt-sync-u64 dt-mask-64
dt-phys dt-phys-pl dt-phys-sized'
# shellcheck disable=SC2034 # used by 70-dt-props
# The nodes of tests/dt/props.dtsi: name, size, sync_mode, sync_direction, sync_offset,
# sync_size, quirk_mmap_mode.
DT_PROPS='
dt-quirk-on 65536 1 0 0x0 65536 2
dt-quirk-off 65536 1 0 0x0 65536 1
dt-quirk-auto 65536 1 0 0x0 65536 3
dt-quirk-on-off 65536 1 0 0x0 65536 1
dt-quirk-off-auto 65536 1 0 0x0 65536 3
dt-quirk-all 65536 1 0 0x0 65536 4
dt-sync-always 65536 5 0 0x0 65536 3
dt-sync-3-always 65536 7 0 0x0 65536 3
dt-sync-u64 131072 1 1 0x10000 32768 3
dt-mask-64 65536 1 0 0x0 65536 3
'

dt_example_names() {
	printf '%s\n' "$DT_EXAMPLES" | awk 'NF { print $1 }'
}

# dt_example NAME: sets E_NODE E_SIZE E_RLO E_RSIZE E_COH E_MODE E_DIR E_OFF E_SSIZE E_QUIRK.
dt_example() {
	# shellcheck disable=SC2034
	read -r _ E_NODE E_SIZE E_RLO E_RSIZE E_COH E_MODE E_DIR E_OFF E_SSIZE E_QUIRK <<EOF
$(printf '%s\n' "$DT_EXAMPLES" | awk -v n="$1" '$1 == n')
EOF
}

# pdev_of NODE_PATH: the platform device made from the node (by its of_node link).
pdev_of() {
	for _p in "$PDEVS"/*; do
		[ "$(readlink -f "$_p/of_node" 2>/dev/null)" = "$DTBASE$1" ] && { basename "$_p"; return 0; }
	done
	return 1
}

# dt_bus_name: the buffer name of /amba_pl@0/dt-name-bus (its platform device's name).
dt_bus_name() { pdev_of /amba_pl@0/dt-name-bus; }

# dt_good_names: every buffer a load without parameters must create, sorted.
dt_good_names() {
	# shellcheck disable=SC2086 # a list of names
	{ dt_example_names; printf '%s\n' $DT_TEST_GOOD; dt_bus_name; } | sort
}

# class_names: the buffers that exist, sorted.
class_names() {
	for _c in "$CLASS"/*; do
		[ -e "$_c" ] && basename "$_c"
	done | sort
}

# has_driver PDEV
has_driver() { [ -e "$PDEVS/$1/driver" ]; }

# buf_pdev NAME: the platform device the buffer's device link points at (empty if none).
buf_pdev() {
	_l=$(readlink -f "$CLASS/$1/device" 2>/dev/null) || return 0
	case $_l in
	/sys/devices/platform/*) basename "$_l" ;;
	esac
}

# buf_minor NAME: the minor number from the class device's dev attribute.
buf_minor() { attr "$1" dev | cut -d: -f2; }

# dev_node_ok NAME: /dev/NAME is a character device with the class device's numbers.
dev_node_ok() {
	[ -c "/dev/$1" ] || return 1
	_want=$(attr "$1" dev)
	# busybox stat: major and minor in hex
	_got=$(stat -c '%t:%T' "/dev/$1" 2>/dev/null) || return 1
	[ "$(printf '%d:%d' "0x${_got%:*}" "0x${_got#*:}")" = "$_want" ]
}

# reg_of NODE_PATH: the node's reg (two 2-cell numbers) as "0xADDR 0xSIZE".
reg_of() {
	od -An -v -tx1 "$DTBASE$1/reg" 2>/dev/null | tr -s ' \n' ' ' | awk '{
		a = ""; s = "";
		for (i = 1; i <= 8; i++) a = a $i;
		for (i = 9; i <= 16; i++) s = s $i;
		sub(/^0+/, "", a); sub(/^0+/, "", s);
		printf "0x%s 0x%s\n", (a == "" ? "0" : a), (s == "" ? "0" : s) }'
}

# in_region ADDR SIZE LO RSIZE: [ADDR, ADDR+SIZE) lies in [LO, LO+RSIZE).
in_region() {
	[ $(($1)) -ge $(($3)) ] && [ $(($1 + $2)) -le $(($3 + $4)) ]
}

# mod_lines_of NAME: the module's log lines about NAME since kmark, without the driver
# core's "probe with driver u-dma-buf failed" line.
mod_lines_of() {
	klog | grep -F "u-dma-buf $1: " | grep -v 'probe with driver u-dma-buf failed with error' || true
}

# dt_load WHAT PARAMS...: must_load with the DT nodes probing (kmark first).
dt_load() {
	kmark
	must_load "$@"
}

# dt_requires: a DT suite outside a -dt boot skips everything.
dt_requires() {
	if [ "${DT:-0}" != 1 ]; then
		skip "$1" "not a device-tree boot (DT=${DT:-unset}); run with tests/run -k arm64-6.12-dt"
		exit 0
	fi
}
