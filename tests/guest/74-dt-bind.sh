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
settle() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

settle
cma0=$(meminfo CmaFree)
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

# The user scenario step by step; the second buffer of the region must fit only after
# the old allocation has gone back.
run_tap "$BIN/dt_bind" hold udmabuf-cma udmabuf-cma 0x70000000 0x2000000 dt-cma-second dt-cma-second
run_tap "$BIN/dt_bind" hold udmabuf-nomap udmabuf-nomap 0x68000000 0x800000 dt-nomap-second dt-nomap-second

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

settle
cma1=$(meminfo CmaFree)
if [ $((cma0 - cma1)) -le "$CMA_SLACK" ]; then
	ok "CmaFree is back after rmmod, within $CMA_SLACK kB ($cma0 -> $cma1 kB)"
else
	not_ok "CmaFree is back after rmmod, within $CMA_SLACK kB" \
		"expected a drop <= $CMA_SLACK kB got $((cma0 - cma1)) kB ($cma0 -> $cma1 kB)"
fi
# Exact whatever the meminfo noise: the whole 32 MiB region in one piece, and 3/4 of the
# default CMA area (CmaTotal counts the region too).
if dt_load "after the cycles the nodes probe again" info_enable=0; then
	check "udmabuf-cma and dt-cma-second both in the region again" "yes yes" \
		"$(in_region "$(attr udmabuf-cma phys_addr)" 16777216 0x70000000 0x2000000 && echo yes || echo no) $(in_region "$(attr dt-cma-second phys_addr)" 16777216 0x70000000 0x2000000 && echo yes || echo no)"
	must_unload "rmmod"
fi
big=$((($(meminfo CmaTotal) / 1024 - 32) * 3 / 4))M
if must_load "after the cycles a parameter buffer of 3/4 of CMA (udmabuf1=$big) still loads" udmabuf1=$big info_enable=0; then
	check "udmabuf1=$big is usable" OK "$("$BIN/ut" pattern udmabuf1 7)"
	must_unload "rmmod of udmabuf1=$big"
fi

finish
