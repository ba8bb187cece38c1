#!/bin/sh
# 72-dt-invalid: every invalid device-tree property, one node each (tests/dt/invalid.dtsi):
# that node's probe fails with one log line from the module naming the property and the
# value, nothing of it appears in /sys/class/u-dma-buf or /dev, it fails the same way when
# bound again, and every good node still works (INTERFACE.md §3, issue 3).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
dt_requires "invalid device-tree properties"

LONG=bad-name-long-0123456789abcdef0123456789abcdef0123456789abcdefXY
# node (= its device-name and platform device); what is wrong; property; value (ERE)
BAD="
bad-size-missing;size missing;size;missing
bad-size-zero;size 0;size;(= |: |\\()(0|0x0)([^0-9x]|$)
bad-minor-256;minor-number 256;minor-number;256|0x100
bad-sync-mode-0;sync-mode 0;sync-mode;(= |: |\\()0([^0-9x]|$)
bad-sync-mode-4;sync-mode 4;sync-mode;(= |: |\\()(4|0x4)([^0-9x]|$)
bad-sync-direction-3;sync-direction 3;sync-direction;(= |: |\\()(3|0x3)([^0-9x]|$)
bad-sync-offset;sync-offset 0x10000 = size;sync-offset;65536|0x10000
bad-sync-size;sync-offset 0x8000 + sync-size 0x8001 > size;sync-size;32769|0x8001
bad-dma-mask-11;dma-mask 11;dma-mask;(= |: |\\()(11|0xb)([^0-9x]|$)
bad-dma-mask-65;dma-mask 65;dma-mask;(= |: |\\()(65|0x41)([^0-9x]|$)
bad-region-plain;memory-region at a reserved region that is no pool;memory-region;dt-rsv-plain@6f000000
bad-region-bus;memory-region at a node outside reserved-memory;memory-region;amba_pl@0
bad-name-long;device-name of 64 characters;device-name;$LONG
bad-iommus;iommus (documented as refused);iommus;
"

# bad_nodes: the node names, one a line.
bad_nodes() { printf '%s\n' "$BAD" | awk -F';' 'NF > 1 { print $1 }'; }

# check_refused NODE WHAT PROP VALUE_ERE LABEL: the probe of NODE failed and left nothing;
# the module's log lines about it since kmark are exactly one, naming PROP and the value.
check_refused() {
	_left=
	[ -e "$CLASS/$1" ] && _left="$_left /sys/class/u-dma-buf/$1;"
	[ -e "/dev/$1" ] && _left="$_left /dev/$1;"
	[ "$1" = bad-name-long ] && { [ -e "$CLASS/$LONG" ] || [ -e "/dev/$LONG" ]; } && _left="$_left $LONG;"
	has_driver "$1" && _left="$_left driver bound;"
	check "$1 ($2)$5: probe fails, nothing in /sys/class/u-dma-buf or /dev, no driver bound" "" "${_left# }"
	_lines=$(mod_lines_of "$1")
	_n=$(printf '%s' "$_lines" | grep -c '^')
	if [ "$_n" = 1 ] && printf '%s\n' "$_lines" | grep -qF -- "$3" &&
		{ [ -z "$4" ] || printf '%s\n' "$_lines" | sed "s/^u-dma-buf $1: //" | grep -Eq -- "$4"; }; then
		ok "$1 ($2)$5: one log line naming $3${4:+ and the value}"
		diag "$_lines"
	else
		not_ok "$1 ($2)$5: one log line naming $3${4:+ and the value (/$4/)}" \
			"expected exactly one line 'u-dma-buf $1: ...$3...' got $_n:" "$_lines"
	fi
}

check_all() {
	printf '%s\n' "$BAD" | while IFS=';' read -r node what prop value; do
		[ -n "$node" ] || continue
		check_refused "$node" "$what" "$prop" "$value" "$1"
	done
}

if ! dt_load "insmod with the invalid nodes" info_enable=1; then
	finish
fi
missing=
for n in $(bad_nodes); do
	[ -d "$PDEVS/$n" ] || missing="$missing $n"
done
check "every invalid node is a platform device in the guest" "" "${missing# }"
check_all ""
check "exactly the good nodes have buffers, nothing of the invalid ones" \
	"$(dt_good_names | tr '\n' ' ')" "$(class_names | tr '\n' ' ')"
fails=
for n in $(dt_good_names); do
	r=$("$BIN/ut" pattern "$n" 21)
	[ "$r" = OK ] || fails="$fails $n: $r;"
done
check "every good buffer works next to the failed ones (pattern through write/mmap/read)" "" "${fails# }"

# The same refusal when each invalid node is bound again by hand.
kmark
for n in $(bad_nodes); do
	r=$("$BIN/ut" wr "$DRV/bind" "$n")
	[ "$r" != OK ] || not_ok "$n: a bind by hand is refused" "expected an error got OK"
done
check_all " bound again by hand"
check "after the binds by hand still exactly the good buffers" \
	"$(dt_good_names | tr '\n' ' ')" "$(class_names | tr '\n' ' ')"
check_log_clean "no kernel warning from the failed probes"
must_unload "rmmod after the failed probes"

finish
