#!/bin/sh
# 71-dt-names: the naming rules of device-tree buffers and minor conflicts (INTERFACE.md
# §3, §13.13): device-name, else udmabuf<minor>, else the node's device name; two nodes
# asking for one minor (the first wins, the second fails alone); a minor reserved by a
# parameter buffer (the parameter buffer wins). Test nodes: tests/dt/names.dtsi, base.dtsi.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
dt_requires "device-tree naming rules"

LONG=dt-name-63-0123456789abcdef0123456789abcdef0123456789abcdef0123

# named NAME NODE MINOR WHAT: buffer NAME exists for NODE (device link) with MINOR ('' any).
named() {
	_p=$(pdev_of "$2")
	if [ -d "$CLASS/$1" ] && [ "$(buf_pdev "$1")" = "$_p" ] && dev_node_ok "$1" &&
		{ [ -z "$3" ] || [ "$(buf_minor "$1")" = "$3" ]; }; then
		ok "$4"
		diag "buffer $1, /dev/$1 $(attr "$1" dev), for $2 ($_p)"
	else
		not_ok "$4" \
			"expected buffer $1 with class dir, /dev node, device link to $_p${3:+ and minor $3} got:" \
			"class dir $([ -d "$CLASS/$1" ] && echo yes || echo no), link '$(buf_pdev "$1")', dev '$(attr "$1" dev)', /dev: $(ls -l "/dev/$1" 2>&1)" \
			"buffers: $(class_names | tr '\n' ' ')" "log: $(mod_lines_of "$1" | tail -n 3)"
	fi
}

# refused NAME NODE PATTERN WHAT: NODE's probe failed, nothing of NAME exists, and the
# module logged one line about it that matches PATTERN.
refused() {
	_p=$(pdev_of "$2")
	_left=
	[ -e "$CLASS/$1" ] && _left="$_left class dir;"
	[ -e "/dev/$1" ] && _left="$_left /dev node;"
	has_driver "$_p" && _left="$_left driver bound;"
	check "$4: the probe of $2 fails and leaves no $1" "" "${_left# }"
	_lines=$(mod_lines_of "$1")
	_n=$(printf '%s' "$_lines" | grep -c '^')
	if [ "$_n" = 1 ] && printf '%s\n' "$_lines" | grep -Eq "$3"; then
		ok "$4: one log line about $1 that names the minor"
		diag "$_lines"
	else
		not_ok "$4: one log line about $1 that names the minor" "expected 1 line matching /$3/ got $_n:" "$_lines"
	fi
}

# --- without parameter buffers -----------------------------------------------------------
if dt_load "insmod with the device-tree nodes" info_enable=1; then
	named dt-named /dt-name-given 41 "device-name dt-named and minor-number 41: buffer dt-named with minor 41"
	named udmabuf42 /dt-name-minor 42 "minor-number 42 without device-name: buffer udmabuf42 with minor 42"
	named udmabuf32 /udmabuf-minor 32 "the example udmabuf-minor (minor-number 32, no device-name): buffer udmabuf32 with minor 32"
	named dt-name-none /dt-name-none "" "neither device-name nor minor-number: buffer dt-name-none, the node's device name"
	bus=$(dt_bus_name)
	named "$bus" /amba_pl@0/dt-name-bus "" "neither, under the amba_pl@0 bus: the buffer is named after the platform device"
	check_true "the bus node's buffer name is its device name, not its node name" \
		"expected a name other than dt-name-bus got $bus" test "$bus" != dt-name-bus
	named "$LONG" /dt-name-long "" "a device-name of 63 characters (the longest) works"
	named dt-minor-first /dt-minor-first 43 "two nodes ask for minor 43: the first one probed, dt-minor-first, gets it"
	refused dt-minor-second /dt-minor-second 'minor[^0-9]*43([^0-9]|$)' "two nodes ask for minor 43: the second"
	named dt-minor-zero /dt-minor-zero 0 "minor-number 0 is dt-minor-zero's when no parameter buffer reserves it"
	check "every good node has its buffer, nothing else exists" \
		"$(dt_good_names | tr '\n' ' ')" "$(class_names | tr '\n' ' ')"
	check_log_clean "no kernel warning while the nodes probe"
	must_unload "rmmod"
fi

# --- a parameter buffer reserves minor 0 -------------------------------------------------
if dt_load "insmod udmabuf0=64K with a node asking for minor-number 0" udmabuf0=64K info_enable=1; then
	if [ -d "$CLASS/udmabuf0" ] && [ "$(buf_minor udmabuf0)" = 0 ] && [ "$(buf_pdev udmabuf0)" = u-dma-buf.0 ] &&
		[ "$(attr udmabuf0 size)" = 65536 ]; then
		ok "the parameter buffer udmabuf0 (u-dma-buf.0) has minor 0"
	else
		not_ok "the parameter buffer udmabuf0 (u-dma-buf.0) has minor 0" \
			"expected udmabuf0, minor 0, device u-dma-buf.0, size 65536 got dev '$(attr udmabuf0 dev)', device '$(buf_pdev udmabuf0)', size '$(attr udmabuf0 size)'"
	fi
	refused dt-minor-zero /dt-minor-zero 'minor[^0-9]*0([^0-9]|$)' "minor-number 0 reserved by udmabuf0: the node"
	check "every other good node has its buffer, next to udmabuf0" \
		"$(dt_good_names | grep -vx dt-minor-zero | { cat; echo udmabuf0; } | sort | tr '\n' ' ')" \
		"$(class_names | tr '\n' ' ')"
	check "udmabuf0 and the device-tree buffers work (udmabuf0, dt-named: pattern through write/mmap/read)" \
		"OK OK" "$("$BIN/ut" pattern udmabuf0 11) $("$BIN/ut" pattern dt-named 12)"
	check_log_clean "no kernel warning"
	must_unload "rmmod"
fi

finish
