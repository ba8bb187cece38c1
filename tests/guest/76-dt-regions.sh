#!/bin/sh
# 76-dt-regions: device-tree properties a hostile board file can hold (issue 10): a
# memory-region that is a mapped, non-reusable shared-dma-pool is honoured, the buffer's
# memory lies inside it (finding 7; tests/dt/regions.dtsi); a sync-offset or sync-size
# that is no number is refused with a log line that says so and prints no number
# (finding 13; tests/dt/invalid.dtsi); buffers in reusable regions in lowmem and (on armhf)
# in highmem lie inside them (issue 11).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
dt_requires "device-tree reserved regions and unreadable numbers"

yesno() { if "$@"; then echo yes; else echo no; fi; }

if ! dt_load "insmod with the device-tree nodes" info_enable=1; then
	finish
fi

# --- finding 13: sync-offset / sync-size that are no number ------------------------------
for pair in bad-sync-offset-nan:sync-offset bad-sync-size-nan:sync-size; do
	node=${pair%%:*} prop=${pair#*:}
	check "$node ($prop = \"ab\"): probe refused, no buffer, no driver bound" "no no" \
		"$(yesno [ -e "$CLASS/$node" ]) $(yesno has_driver "$node")"
	lines=$(mod_lines_of "$node")
	n=$(printf '%s' "$lines" | grep -c '^')
	text=$(printf '%s\n' "$lines" | sed "s/^u-dma-buf $node: //")
	if [ "$n" = 1 ] && printf '%s\n' "$text" | grep -qF "$prop" && printf '%s\n' "$text" | grep -qi 'not a number'; then
		ok "$node: one log line naming $prop and saying it is not a number"
	else
		not_ok "$node: one log line naming $prop and saying it is not a number" \
			"expected one line 'u-dma-buf $node: invalid property $prop: not a number' got $n:" "$lines"
	fi
	# A number: digits (or 0x...) standing alone, not part of a word such as u32.
	num=$(printf '%s\n' "$text" | grep -oE '(^|[^A-Za-z0-9_-])(0x[0-9a-fA-F]+|[0-9]+)([^A-Za-z0-9_]|$)' | head -n 1)
	check "$node: the log line prints no number (nothing was read)" "" "$num"
done

# --- finding 7: a mapped, non-reusable shared-dma-pool ------------------------------------
NODE=/dt-region-mapped
NAME=dt-region-mapped
PDEV=$(pdev_of $NODE)
REGION=$(reg_of /reserved-memory/dt-pool-mapped@6c000000)
diag "node $NODE: platform device ${PDEV:-none}; region dt-pool-mapped@6c000000: ${REGION:-none}"
if [ -z "$PDEV" ] || [ -z "$REGION" ]; then
	not_ok "the test node $NODE and its region are in the tree (tests/dt/regions.dtsi)" \
		"expected a platform device and a reg got '${PDEV:-}' and '${REGION:-}'"
else
	check "$NAME: no load probes it (its compatible is not the driver's)" no "$(yesno has_driver "$PDEV")"
	kmark
	ov=$("$BIN/ut" wr "$PDEVS/$PDEV/driver_override" u-dma-buf)
	bd=$("$BIN/ut" wr "$DRV/bind" "$PDEV")
	# Such a pool cannot be a coherent pool (the kernel's memremap() refuses RAM with a
	# WARNING) and dma_alloc_pages() would ignore it: the buffer is refused, never made
	# outside the memory the board designer placed.
	check "$NAME: driver_override u-dma-buf, then bind: refused, no buffer" "OK refused no" \
		"$ov $([ "$bd" = OK ] && echo bound || echo refused) $(yesno [ -e "$CLASS/$NAME" ])"
	n=$(klog_mod | grep -c "memory-region .*dt-pool-mapped.*reusable.*no-map" || true)
	check "$NAME: one log line names the region and says to mark it reusable or no-map" 1 "$n"
	diag "log: $(mod_lines_of "$NAME" | head -n 4)"
	"$BIN/ut" wr "$DRV/unbind" "$PDEV" >/dev/null
	"$BIN/ut" wr "$PDEVS/$PDEV/driver_override" "" nl >/dev/null
	check_log_clean "$NAME: no kernel warning (such as memremap's 'attempted on ram') from the mapped pool"
fi

# --- reserved regions in lowmem and in highmem (issue 11) ---------------------------------
# dt-cma-low (tests/dt/regions.dtsi) is a reusable pool in lowmem; on a 32-bit guest with
# highmem the example's udmabuf-cma@70000000 is in highmem.  Each buffer lies inside its
# region.
LOW_LO=0x60000000 LOW_SIZE=0x1000000 HIGH_LO=0x70000000 HIGH_SIZE=0x2000000
for pair in dt-cma-low:$LOW_LO:$LOW_SIZE udmabuf-cma:$HIGH_LO:$HIGH_SIZE; do
	name=${pair%%:*} rest=${pair#*:}
	lo=${rest%%:*} rsize=${rest#*:}
	pa=$(attr "$name" phys_addr) sz=$(attr "$name" size)
	if [ -z "$pa" ] || [ -z "$sz" ]; then
		not_ok "$name: a buffer in its reserved region $lo (+$rsize)" \
			"expected /sys/class/u-dma-buf/$name got none:" "$(mod_lines_of "$name" | head -n 4)"
	elif in_region "$pa" "$sz" "$lo" "$rsize"; then
		ok "$name: its $sz bytes at $pa lie inside its reserved region $lo (+$rsize)"
	else
		not_ok "$name: its memory lies inside its reserved region" \
			"expected $sz bytes within $lo + $rsize got phys_addr $pa"
	fi
done
# Where the kernel's lowmem ends ("HighMem [mem 0x70000000-...]" at boot; none on arm64).
HIGH_START=$(dmesg | sed -n 's/.*HighMem *\[mem \(0x[0-9a-f]*\)-.*/\1/p' | head -n 1)
if [ "$ARCH" = armhf ]; then
	if [ -n "$HIGH_START" ] && [ $((HIGH_START)) -ge $((LOW_LO + LOW_SIZE)) ] &&
		[ $((HIGH_START)) -le $((HIGH_LO)) ]; then
		ok "armhf: dt-cma-low@60000000 is in lowmem, udmabuf-cma@70000000 in highmem (highmem from $HIGH_START)"
	else
		not_ok "armhf: dt-cma-low@60000000 is in lowmem, udmabuf-cma@70000000 in highmem" \
			"expected a HighMem zone starting in [$LOW_LO + $LOW_SIZE, $HIGH_LO] got '${HIGH_START:-no HighMem zone}' (HighTotal $(meminfo HighTotal) kB)"
	fi
fi

check_log_clean "no kernel warning in the device-tree regions suite"
must_unload "rmmod after the device-tree regions checks"
finish
