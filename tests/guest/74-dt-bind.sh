#!/bin/sh
# 74-dt-bind: unbind and bind of device-tree buffers (issue 3, INTERFACE.md §12.1): 50
# cycles without users and 50 with a user holding the buffer open and mapped (the node
# goes at once, the mapping keeps working, a re-bind allocates anew, inside the reserved
# region), the memory coming back after the last user, rmmod at the end, no leak.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
dt_requires "device-tree unbind and bind"

CYCLES=50

# max_param_mib: the largest parameter buffer udmabuf1 (whole MiB) that loads next to
# the device-tree buffers: what of the default CMA area is free in one piece. CmaFree
# moves by 10-15 MiB on its own here; this does not.
max_param_mib() {
	_lo=0 _hi=$(($(meminfo CmaTotal) / 1024))
	while [ $_lo -lt $_hi ]; do
		_mid=$(((_lo + _hi + 1) / 2))
		if load udmabuf1=${_mid}M info_enable=0; then
			_lo=$_mid
			unload
		else
			_hi=$((_mid - 1))
		fi
	done
	echo $_lo
}

max0=$(max_param_mib)
diag "CmaFree before: $(meminfo CmaFree) kB; largest udmabuf1 next to the device-tree buffers: $max0 MiB"
if ! dt_load "insmod with the device-tree nodes" info_enable=0; then
	finish
fi
# The second buffers of the two regions stay unbound, so that a re-bind while the old
# buffer is still mapped finds room in the region (tests/dt/regions.dtsi).
check "unbind dt-cma-second and dt-nomap-second (free half of each region)" "OK OK" \
	"$("$BIN/ut" wr "$DRV/unbind" dt-cma-second) $("$BIN/ut" wr "$DRV/unbind" dt-nomap-second)"

# NAME PDEV-NODE REGION-ADDR REGION-SIZE (0 0: none)
BUFS="udmabuf-cma /udmabuf-cma 0x70000000 0x2000000
udmabuf-nomap /udmabuf-nomap 0x68000000 0x800000
udmabuf-plain /udmabuf-plain 0 0
udmabuf-noncoherent /udmabuf-noncoherent 0 0
udmabuf-pl /amba_pl@0/udmabuf-pl 0 0"

printf '%s\n' "$BUFS" | while read -r n node rlo rsize; do
	run_tap "$BIN/dt_bind" cycles "$n" "$(pdev_of "$node")" $CYCLES "$rlo" "$rsize" 0
done
printf '%s\n' "$BUFS" | while read -r n node rlo rsize; do
	run_tap "$BIN/dt_bind" cycles "$n" "$(pdev_of "$node")" $CYCLES "$rlo" "$rsize" 1
done
check "after the cycles every expected buffer but the two second ones is bound" \
	"$(dt_good_names | grep -vxE 'dt-cma-second|dt-nomap-second' | tr '\n' ' ')" "$(class_names | tr '\n' ' ')"
check_log_clean "no kernel warning during the unbind/bind cycles"
diag "CmaFree after the cycles: $(meminfo CmaFree) kB"

# A re-bind gets a fresh buffer with the node's presets, whatever was stored before.
n=udmabuf-noncoherent
r="$(wr $n sync_mode 1) $(wr $n sync_offset 0) $(wr $n sync_size 4096) $(wr $n sync_direction 0)"
r="$r $("$BIN/ut" wr "$DRV/unbind" $n) $("$BIN/ut" wr "$DRV/bind" $n)"
check "$n: after changed sync settings, unbind and bind, the buffer has its node's presets again" \
	"OK OK OK OK OK OK 6 0x80000 524288 2 4" \
	"$r $(attr $n sync_mode) $(attr $n sync_offset) $(attr $n sync_size) $(attr $n sync_direction) $(attr $n quirk_mmap_mode)"

# The user scenario step by step; the second buffer of the region must fit only after
# the old allocation has gone back. While the region is full, the failed bind's log line
# names the cause: the buffer's memory-region, not cma= or the DMA mask (§12.9).
for pair in udmabuf-cma:dt-cma-second:0x70000000:0x2000000:udmabuf-cma@70000000 \
	udmabuf-nomap:dt-nomap-second:0x68000000:0x800000:udmabuf-pool@68000000; do
	IFS=: read -r a b lo size region <<EOF
$pair
EOF
	kmark
	run_tap "$BIN/dt_bind" hold "$a" "$a" "$lo" "$size" "$b" "$b"
	line=$(mod_lines_of "$b" | grep -iE 'cannot|fail' | head -n 1)
	if printf '%s\n' "$line" | grep -Eq "memory-region|$region" &&
		! printf '%s\n' "$line" | grep -Eq 'cma=|DMA mask'; then
		ok "$a: the failed bind of $b (region full) logs a line that names the memory-region as the cause"
	else
		not_ok "$a: the failed bind of $b (region full) logs a line that names the memory-region as the cause" \
			"expected a line about memory-region / $region without a cma= or DMA-mask hint got:" "${line:-nothing}"
	fi
done

# Nothing of the regions leaked: with both buffers of each region unbound, both bind again.
for pair in udmabuf-cma:dt-cma-second udmabuf-nomap:dt-nomap-second; do
	a=${pair%:*} b=${pair#*:}
	r="$("$BIN/ut" wr "$DRV/unbind" "$a") $("$BIN/ut" wr "$DRV/unbind" "$b")"
	r="$r $("$BIN/ut" wr "$DRV/bind" "$b") $("$BIN/ut" wr "$DRV/bind" "$a")"
	check "$a and $b: unbound together and bound again in the other order, both fit in the region (nothing leaked)" \
		"OK OK OK OK" "$r"
done
check "at the end every expected buffer is bound" \
	"$(dt_good_names | tr '\n' ' ')" "$(class_names | tr '\n' ' ')"
fails=
for n in $(dt_good_names); do
	r=$("$BIN/ut" pattern "$n" 41)
	[ "$r" = OK ] || fails="$fails $n: $r;"
done
check "every buffer works after the cycles (pattern through write/mmap/read)" "" "${fails# }"
check_log_clean "no kernel warning"
must_unload "rmmod after the unbind/bind cycles"

max1=$(max_param_mib)
diag "CmaFree after: $(meminfo CmaFree) kB; largest udmabuf1 next to the device-tree buffers: $max1 MiB"
if [ "$max1" -ge $((max0 - 2)) ] && [ "$max1" -gt 0 ]; then
	ok "the default CMA area has as much free in one piece as before the cycles, within 2 MiB"
else
	not_ok "the default CMA area has as much free in one piece as before the cycles, within 2 MiB" \
		"expected the largest udmabuf1 to stay at $max0 MiB got $max1 MiB (a leak of the cycles' buffers)"
fi
if dt_load "after the cycles the nodes probe again" info_enable=0; then
	check "udmabuf-cma and dt-cma-second both in the region again" "yes yes" \
		"$(in_region "$(attr udmabuf-cma phys_addr)" 16777216 0x70000000 0x2000000 && echo yes || echo no) $(in_region "$(attr dt-cma-second phys_addr)" 16777216 0x70000000 0x2000000 && echo yes || echo no)"
	must_unload "rmmod"
fi

finish
