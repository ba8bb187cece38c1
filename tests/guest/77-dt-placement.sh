#!/bin/sh
# 77-dt-placement: a buffer with a memory-region gets memory inside it or none (issue 11).
# dt-place-fill takes all 4 MiB of the reusable region dt-pool-small; dt-place-over (64 KiB,
# the same region) must then be refused with a log line naming the region, never be made
# from the page allocator outside it (dma_alloc_pages() falls back there without a word);
# once dt-place-fill is unbound, dt-place-over fits (tests/dt/placement.dtsi).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
dt_requires "memory-region placement"

yesno() { if "$@"; then echo yes; else echo no; fi; }
# bind NAME: driver_override u-dma-buf and bind of NAME's platform device; OK or the errno.
bind() {
	"$BIN/ut" wr "$PDEVS/$(pdev_of "/$1")/driver_override" u-dma-buf >/dev/null
	"$BIN/ut" wr "$DRV/bind" "$(pdev_of "/$1")"
}
unbind() {
	"$BIN/ut" wr "$DRV/unbind" "$(pdev_of "/$1")" >/dev/null
	"$BIN/ut" wr "$PDEVS/$(pdev_of "/$1")/driver_override" "" nl >/dev/null
}
# inside NAME: yes when NAME's memory lies in dt-pool-small.
inside() {
	# shellcheck disable=SC2086 # REGION is two words, address and size
	yesno in_region "$(attr "$1" phys_addr)" "$(attr "$1" size)" $REGION
}

REGION=$(reg_of /reserved-memory/dt-pool-small@6a000000)
if [ -z "$(pdev_of /dt-place-fill)" ] || [ -z "$(pdev_of /dt-place-over)" ] || [ -z "$REGION" ]; then
	not_ok "the nodes of tests/dt/placement.dtsi are in the tree" \
		"expected two platform devices and a region got '$(pdev_of /dt-place-fill)' '$(pdev_of /dt-place-over)' '$REGION'"
	finish
fi
if ! dt_load "insmod with the device-tree nodes"; then
	finish
fi

kmark
check "bind dt-place-fill (4 MiB, all of dt-pool-small): made, inside the region" "OK yes" \
	"$(bind dt-place-fill) $(inside dt-place-fill)"
check "bind dt-place-over (64 KiB more) while the region is full: refused, no buffer" "refused no" \
	"$([ "$(bind dt-place-over)" = OK ] && echo bound || echo refused) $(yesno [ -e "$CLASS/dt-place-over" ])"
n=$(mod_lines_of dt-place-over | grep -c "memory-region .*dt-pool-small.*full or fragmented.*outside it" || true)
check "dt-place-over: one log line names dt-pool-small, says it is full and that memory outside it was refused" 1 "$n"
diag "log: $(mod_lines_of dt-place-over | head -n 3)"
unbind dt-place-over
unbind dt-place-fill
check "after dt-place-fill is unbound, bind dt-place-over: made, inside the region" "OK yes" \
	"$(bind dt-place-over) $(inside dt-place-over)"
unbind dt-place-over
check_log_clean "no kernel warning in the placement suite"
must_unload "rmmod after the placement checks"
finish
