#!/bin/sh
# 77-dt-placement: a buffer with a memory-region gets memory inside it or none (issue 11).
# dt-place-fill takes all 8 MiB of the reusable region dt-pool-small; dt-place-over (64 KiB,
# the same region) must then be refused with a log line naming the region, never be made
# from the page allocator outside it (dma_alloc_pages() falls back there without a word);
# once dt-place-fill is unbound, dt-place-over fits.  The same for dt-pool-low, low in RAM,
# where the memory offered lies above the region (tests/dt/placement.dtsi).
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

# offered NAME: the address the refusal line says was offered.
offered() { mod_lines_of "$1" | sed -n 's/.*memory offered at \(0x[0-9a-f]*\), outside it.*/\1/p' | head -n 1; }

if ! dt_load "insmod with the device-tree nodes"; then
	finish
fi
# place POOL FILL OVER WHERE: FILL takes all of POOL, OVER is refused (the memory offered
# lies WHERE: below or above the region), then fits once FILL is unbound.
place() {
	REGION=$(reg_of "/reserved-memory/$1")
	if [ -z "$(pdev_of "/$2")" ] || [ -z "$(pdev_of "/$3")" ] || [ -z "$REGION" ]; then
		not_ok "the nodes $2, $3 and region $1 of tests/dt/placement.dtsi are in the tree" \
			"expected two platform devices and a region got '$(pdev_of "/$2")' '$(pdev_of "/$3")' '$REGION'"
		return
	fi
	kmark
	check "bind $2 (all of $1): made, inside the region" "OK yes" "$(bind "$2") $(inside "$2")"
	check "bind $3 while $1 is full: refused, no buffer" "refused no" \
		"$([ "$(bind "$3")" = OK ] && echo bound || echo refused) $(yesno [ -e "$CLASS/$3" ])"
	# Where the kernel offered memory elsewhere (arm64), the line says it was refused; where
	# it offered none (32-bit ARM), that the region is taken.
	n=$(mod_lines_of "$3" | grep -cE "memory-region .*${1%@*}.*(full or fragmented.*outside it|too small or taken)" || true)
	check "$3: one log line names ${1%@*} and says it is full (and that memory outside it was refused, where offered)" 1 "$n"
	diag "log: $(mod_lines_of "$3" | head -n 3)"
	o=$(offered "$3")
	# shellcheck disable=SC2086 # REGION is two words, address and size
	set -- "$@" $REGION
	if [ "$4" = below ]; then
		where=$([ -n "$o" ] && [ $((o)) -lt $(($5)) ] && echo below)
	else
		where=$([ -n "$o" ] && [ $((o)) -ge $(($5 + $6)) ] && echo above)
	fi
	# Only memory above a region is a case of its own (an end check must catch it); where
	# the page allocator's memory below the region lies depends on what ran before, so
	# "below" is only reported.
	if [ "$4" = below ]; then
		diag "$3: the memory offered ($o) lay ${where:-not} below the region ($5 + $6)"
	elif [ "$ARCH" = arm64 ]; then
		check "$3: the memory offered ($o) lay $4 the region ($5 + $6): the case this node is for" "$4" "$where"
	else
		skip "$3: the memory offered lay $4 the region" "the page allocator's layout is known on arm64 only (here: $o, the region $5 + $6)"
	fi
	unbind "$3"
	unbind "$2"
	check "after $2 is unbound, bind $3: made, inside the region" "OK yes" "$(bind "$3") $(inside "$3")"
	unbind "$3"
}
place dt-pool-small@6a000000 dt-place-fill dt-place-over below
place dt-pool-low@43000000 dt-place-low-fill dt-place-low-over above
check_log_clean "no kernel warning in the placement suite"
must_unload "rmmod after the placement checks"
finish
