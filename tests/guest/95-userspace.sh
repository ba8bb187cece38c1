#!/bin/sh
# 95-userspace: the user-space side (issue 6) against a real DMA master, QEMU's edu:
# - examples/edu_loopback.c (built as /t/bin/edu_loopback): DMA loopback through the
#   two halves of a buffer, syncs through sysfs and through the ioctls, with the negative
#   control (bus mastering off: the data must not arrive);
# - tools/udmabuf.c (/t/bin/edu_udmabuf_cli): every command and error, --json output;
# - examples/edu_loopback.py and the udmabuf Python package (tests/guest/py/
#   test_userspace.py) under NumPy 1 (PYROOT) and NumPy 2 (the Debian 13 tree in it), both arches.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

EDU=$BIN/edu_loopback
CLI=$BIN/edu_udmabuf_cli

# expect_status WHAT STATUS CMD...: CMD exits with STATUS; its output is shown as diagnostics.
expect_status() {
	_w=$1 _e=$2
	shift 2
	_o=$("$@" 2>&1)
	_s=$?
	if [ $_s -eq "$_e" ]; then
		ok "$_w"
		diag "$_o"
	else
		not_ok "$_w" "expected exit status $_e got $_s:" "$_o"
	fi
}

# expect_mismatch WHAT CMD...: CMD exits 1 and reports MISMATCH (a negative control).
expect_mismatch() {
	_w=$1
	shift
	_o=$("$@" 2>&1)
	_s=$?
	if [ $_s -eq 1 ] && printf '%s\n' "$_o" | grep -q MISMATCH; then
		ok "$_w"
		diag "$_o"
	else
		not_ok "$_w" "expected exit status 1 and MISMATCH got $_s:" "$_o"
	fi
}

# cli ARGS...: runs the CLI; CLI_OUT (stdout), CLI_ERR (stderr), CLI_ST (status).
cli() {
	CLI_OUT=$("$CLI" "$@" 2>/tmp/cli.err)
	CLI_ST=$?
	CLI_ERR=$(cat /tmp/cli.err)
}
# cli_check WHAT STATUS STDERR_REGEX ARGS...: the CLI exits with STATUS and (when the
# regex is not empty) says so on stderr.
cli_check() {
	_w=$1 _e=$2 _r=$3
	shift 3
	cli "$@"
	if [ "$CLI_ST" -ne "$_e" ]; then
		not_ok "$_w" "udmabuf $*: expected exit status $_e got $CLI_ST" "stdout: $CLI_OUT" "stderr: $CLI_ERR"
	elif [ -n "$_r" ] && ! printf '%s\n' "$CLI_ERR" | grep -Eq -e "$_r"; then
		not_ok "$_w" "udmabuf $*: expected stderr matching /$_r/ got '$CLI_ERR'"
	else
		ok "$_w"
	fi
}
# has WHAT TEXT FIXED_STRING
has() {
	if printf '%s\n' "$2" | grep -Fq -e "$3"; then ok "$1"; else not_ok "$1" "expected '$3' in:" "$2"; fi
}
# stored DEV: "offset size direction owner" from sysfs
stored() { echo "$(attr "$1" sync_offset) $(attr "$1" sync_size) $(attr "$1" sync_direction) $(attr "$1" sync_owner)"; }

if ! lspci_edu=$(grep -l 0x11e8 /sys/bus/pci/devices/*/device 2>/dev/null) || [ -z "$lspci_edu" ]; then
	skip "edu DMA loopback" "no edu PCI device in this guest"
	EDU_OK=0
else
	EDU_OK=1
fi

if ! must_load "insmod udmabuf0=1M for the user-space tests" udmabuf0=1M info_enable=0; then
	finish
fi
SZ=$(attr udmabuf0 size)
PHYS=$(attr udmabuf0 phys_addr)

# --- C loopback -------------------------------------------------------------------------
if [ $EDU_OK = 1 ]; then
	expect_status "C edu loopback, syncs through sysfs: the data arrives" 0 "$EDU" udmabuf0
	echo 0x100 >"$CLASS/udmabuf0/sync_offset"
	echo 512 >"$CLASS/udmabuf0/sync_size"
	echo 1 >"$CLASS/udmabuf0/sync_direction"
	expect_status "C edu loopback, syncs through the ioctls: the data arrives" 0 "$EDU" --ioctl udmabuf0
	check "issue 15 item 4: the ioctl loopback (one-off SET_SYNC_FOR_*) leaves the stored range 0x100 512 1; the CPU owns the buffer" \
		"0x100 512 1 0" "$(stored udmabuf0)"
	expect_status "C edu loopback of 4080 bytes (the largest edu takes in QEMU 7.2)" 0 "$EDU" --ioctl --count 4080 udmabuf0
	expect_mismatch "negative control (sysfs): bus mastering off, the data does not arrive" "$EDU" --no-bus-master udmabuf0
	expect_mismatch "negative control (ioctl): bus mastering off, the data does not arrive" "$EDU" --ioctl --no-bus-master udmabuf0
	expect_status "bus mastering on again after the control: the data arrives" 0 "$EDU" udmabuf0
	expect_status "edu_loopback on a buffer that does not exist: exit 2" 2 "$EDU" no-such-buffer
	expect_status "edu_loopback with a bad --count: exit 2 (usage)" 2 "$EDU" --count 4096 udmabuf0
fi

# --- CLI --------------------------------------------------------------------------------
rm -f /tmp/cli-*.json /tmp/cli-*.expect
cli_check "udmabuf list exits 0" 0 "" list
has "udmabuf list shows udmabuf0 with its size and DMA address" "$CLI_OUT" "$PHYS"
cli --json list
printf '%s\n' "$CLI_OUT" >/tmp/cli-list.json
printf '{"name": "udmabuf0", "size": %s, "dma_addr": "%s"}\n' "$SZ" "$PHYS" >/tmp/cli-list.expect
has "udmabuf --json list has udmabuf0's object" "$CLI_OUT" "{\"name\": \"udmabuf0\", \"size\": $SZ, \"dma_addr\": \"$PHYS\"}"
cli_check "udmabuf show udmabuf0 exits 0" 0 "" show udmabuf0
has "udmabuf show prints phys_addr" "$CLI_OUT" "phys_addr:       $PHYS"
has "udmabuf show prints quirk_mmap_mode" "$CLI_OUT" "quirk_mmap_mode: $(attr udmabuf0 quirk_mmap_mode)"
cli show udmabuf0 --json
printf '%s\n' "$CLI_OUT" >/tmp/cli-show.json
printf '{"name": "udmabuf0", "size": %s, "phys_addr": "%s", "dma_coherent": %s, "sync_owner": %s, "dma_mask_bits": 32}\n' \
	"$SZ" "$PHYS" "$(attr udmabuf0 dma_coherent)" "$(attr udmabuf0 sync_owner)" >/tmp/cli-show.expect
has "udmabuf show --json (flag last) has the size as a number" "$CLI_OUT" "\"size\": $SZ,"
cli_check "udmabuf show of a missing buffer: exit 1, 'no buffer'" 1 "no buffer 'nope'" show nope

cli_check "udmabuf create cli0 64K" 0 "" create cli0 64K
check "cli0 exists with 65536 bytes" 65536 "$(attr cli0 size)"
check "/dev/cli0 exists" yes "$([ -c /dev/cli0 ] && echo yes)"
cli --json create cli1 0x2000 dma-mask=32 quirk-mmap-page
printf '%s\n' "$CLI_OUT" >/tmp/cli-create.json
echo '{"created": "cli1", "size": 8192}' >/tmp/cli-create.expect
check "udmabuf create with options (dma-mask=32 quirk-mmap-page) makes a buffer in page mode" \
	"0 8192 4" "$CLI_ST $(attr cli1 size) $(attr cli1 quirk_mmap_mode)"
cli_check "udmabuf create of a taken name: exit 1, EEXIST" 1 "File exists" create cli0 4096
cli --json create cli0 4096
printf '%s\n' "$CLI_OUT" >/tmp/cli-error.json
echo '{"errno": "EEXIST"}' >/tmp/cli-error.expect
has "its --json error object names EEXIST" "$CLI_OUT" '"errno": "EEXIST"'
cli_check "udmabuf create with dma-mask=99: exit 1, EINVAL" 1 "Invalid argument" create cli2 4096 dma-mask=99
cli_check "udmabuf create with a bad size: exit 2 (usage)" 2 "bad size" create cli2 12Q
cli_check "udmabuf create with size 0: exit 2" 2 "size must be" create cli2 0
cli_check "udmabuf create with an unknown option: exit 2" 2 "unknown create option" create cli2 4096 colour=red
cli_check "udmabuf create of 256 MiB (more than is contiguous): exit 1, ENOMEM" 1 "memory" create cli2 256M
cli_check "udmabuf create with a name containing '/': exit 2" 2 "bad buffer name" create a/b 4096

echo 0x200 >"$CLASS/cli0/sync_offset"
echo 1024 >"$CLASS/cli0/sync_size"
echo 2 >"$CLASS/cli0/sync_direction"
cli_check "udmabuf sync-device cli0 --offset 4096 --size 100 --dir to" 0 "" sync-device cli0 --offset 4096 --size 100 --dir to
check "issue 15 item 4: the CLI's sync is one-off: the stored range stays 0x200 1024 2, the device owns it" "0x200 1024 2 1" "$(stored cli0)"
cli --json sync-cpu cli0 --offset 16 --size 48 --dir from
printf '%s\n' "$CLI_OUT" >/tmp/cli-sync.json
echo '{"synced": "cli0", "for": "cpu", "offset": 16, "size": 48, "direction": 2, "via": "ioctl"}' >/tmp/cli-sync.expect
check "udmabuf --json sync-cpu cli0 --offset 16 --size 48 --dir from: stored range unchanged, CPU owns it" \
	"0 0x200 1024 2 0" "$CLI_ST $(stored cli0)"
cli_check "udmabuf sync-device cli0 (whole buffer)" 0 "" sync-device cli0
check "whole buffer synced for the device: stored range unchanged, owner device" "0x200 1024 2 1" "$(stored cli0)"
cli_check "udmabuf sync-cpu --sysfs --offset 32 --size 64" 0 "" sync-cpu cli0 --sysfs --offset 32 --size 64
check "the sysfs (encoded) sync leaves the stored range, CPU owns it" "0x200 1024 2 0" "$(stored cli0)"
cli_check "udmabuf sync-cpu of the last 5 bytes (widened inside the buffer)" 0 "" sync-cpu cli0 --offset 65531 --size 5
cli_check "udmabuf sync-cpu --sysfs --size 100: exit 1 (not a multiple of 16)" 1 "multiple of 16" sync-cpu cli0 --sysfs --size 100
cli_check "udmabuf sync-device past the end: exit 1, EINVAL" 1 "outside" sync-device cli0 --offset 65000 --size 1000
cli_check "udmabuf sync-device --dir sideways: exit 2" 2 "usage" sync-device cli0 --dir sideways
cli_check "udmabuf sync-cpu of a missing buffer: exit 1" 1 "no buffer" sync-cpu nope

if [ $EDU_OK = 1 ]; then
	expect_status "C edu loopback through a buffer the CLI created (cli1, 8 KiB)" 0 "$EDU" --ioctl --count 4080 cli1
fi

exec 3</dev/cli0
cli_check "udmabuf delete of an open buffer: exit 1, EBUSY" 1 "busy" delete cli0
exec 3<&-
cli --json delete cli0
printf '%s\n' "$CLI_OUT" >/tmp/cli-delete.json
echo '{"deleted": "cli0"}' >/tmp/cli-delete.expect
check "udmabuf --json delete cli0: exit 0 and the buffer is gone" "0 gone" "$CLI_ST $([ -e $CLASS/cli0 ] || echo gone)"
cli_check "udmabuf delete cli0 again: exit 1, ENODEV" 1 "No such device" delete cli0
cli_check "udmabuf delete cli1" 0 "" delete cli1
cli_check "udmabuf with no command: exit 2 (usage)" 2 "usage" ""
cli_check "udmabuf frobnicate: exit 2 (usage)" 2 "usage" frobnicate
cli_check "udmabuf --yaml list: exit 2 (usage)" 2 "usage" --yaml list
cli --help
check "issue 15: udmabuf --help exits 0 and prints the usage on stdout" "0 yes" \
	"$CLI_ST $(printf '%s\n' "$CLI_OUT" | grep -q '^usage: udmabuf' && echo yes)"
cli_check "issue 15: udmabuf create with size ' -1' is refused (not 2^64-1): exit 2" 2 "bad size" create cli9 " -1"
cli_check "udmabuf create with size '+4096' is refused: exit 2" 2 "bad size" create cli9 "+4096"
cli_check "udmabuf sync-cpu --offset ' 16' is refused: exit 2" 2 "bad offset" sync-cpu udmabuf0 --offset " 16"
cli_check "udmabuf create with size '12x' is refused: exit 2" 2 "bad size" create cli9 12x
# --json with odd names: a tab, a quote, a backslash, non-ASCII, a byte that is not UTF-8.
ODD=$(printf 'odd"q\\\303\251')
cli --json create "$ODD" 4096
check "a buffer named odd\"q\\é (quote, backslash, non-ASCII) is created by the CLI" "0 4096" "$CLI_ST $(attr "$ODD" size)"
printf '%s\n' "$CLI_OUT" >/tmp/cli-odd-create.json
cli --json list
printf '%s\n' "$CLI_OUT" >/tmp/cli-odd-list.json
cli --json show "$ODD"
printf '%s\n' "$CLI_OUT" >/tmp/cli-odd-show.json
cli --json show "$(printf 'tab\there')"
printf '%s\n' "$CLI_OUT" >/tmp/cli-odd-tab.json
cli --json show "$(printf 'bad\377byte')"
printf '%s\n' "$CLI_OUT" >/tmp/cli-odd-byte.json
cli --json delete "$ODD"
printf '%s\n' "$CLI_OUT" >/tmp/cli-odd-delete.json
check "and deleted" "0 gone" "$CLI_ST $([ -e "$CLASS/$ODD" ] || echo gone)"
cli_check "udmabuf create of a name with a tab: exit 2" 2 "bad buffer name" create "$(printf 'a\tb')" 4096
cli_check "udmabuf create of a name with ';': exit 2" 2 "bad buffer name" create "a;create b 4096" 4096

# --- review of issue 15: the CLI ------------------------------------------------------------
# 6: a whole buffer whose size is not a multiple of 16 syncs (two commands: the 16-byte
# multiples, then the last 16 bytes).
echo "create b100 100" >/dev/u-dma-buf-mgr
cli_check "review 6: udmabuf sync-cpu of a whole 100-byte buffer: exit 0" 0 "" sync-cpu b100
cli_check "review 6: udmabuf sync-device b100 --offset 3 (97 bytes to the end): exit 0" 0 "" sync-device b100 --offset 3
check "review 6: the device owns b100 afterwards" 1 "$(attr b100 sync_owner)"
echo "delete b100" >/dev/u-dma-buf-mgr
# 7: --json stays valid while buffers come and go. A buffer named 0race (sorted first) is
# created and deleted in a loop; list and show run meanwhile; every output must parse.
(
	i=0
	while [ ! -e /tmp/race.stop ] && [ $i -lt 20000 ]; do
		echo "create 0race 4096" >/dev/u-dma-buf-mgr 2>/dev/null
		echo "delete 0race" >/dev/u-dma-buf-mgr 2>/dev/null
		i=$((i + 1))
	done
) &
RACE=$!
rm -f /tmp/race.stop /tmp/cli-race-*.out
i=0
while [ $i -lt 150 ]; do
	"$CLI" --json list >/tmp/cli-race-list-$i.out 2>/dev/null
	"$CLI" --json show 0race >/tmp/cli-race-show-$i.out 2>/dev/null
	i=$((i + 1))
done
touch /tmp/race.stop
wait $RACE
echo "delete 0race" >/dev/u-dma-buf-mgr 2>/dev/null
# (checked by test_userspace.py's cli_race, which parses every /tmp/cli-race-*.out)
# 20: every buffer is listed, as many as the module makes (256 minors; the CLI stopped
# at 300 before, which the module cannot reach, so this checks the count, not that limit);
# u-dma-buf-mgr is not a buffer name; control characters in a name are not printed raw;
# a usage error under --json prints JSON.
i=0 made=0
while [ $i -lt 300 ]; do
	echo "create many$i 4096" 2>/dev/null >/dev/u-dma-buf-mgr && made=$((made + 1))
	i=$((i + 1))
done
cli list
check "review 20: udmabuf list shows all $made buffers manyN the module made" "$made" \
	"$(printf '%s\n' "$CLI_OUT" | grep -c '^many')"
cli --json list
printf '%s\n' "$CLI_OUT" >/tmp/cli-many-list.json
i=0
while [ $i -lt 300 ]; do
	echo "delete many$i" 2>/dev/null >/dev/u-dma-buf-mgr
	i=$((i + 1))
done
cli_check "review 20: udmabuf create u-dma-buf-mgr is refused: exit 2" 2 "bad buffer name" create u-dma-buf-mgr 4096
check "review 20: and /dev/u-dma-buf-mgr is still the manager" yes "$([ -c /dev/u-dma-buf-mgr ] && [ ! -e $CLASS/u-dma-buf-mgr/size ] && echo yes)"
cli show "$(printf 'esc\033[31mred')"
check "review 20: a name with an escape sequence is shown as \\x1b on stderr, not raw" "1 no yes" \
	"$CLI_ST $(printf '%s' "$CLI_ERR" | grep -q "$(printf '\033')" && echo yes || echo no) $(printf '%s' "$CLI_ERR" | grep -Fq 'esc\x1b[31mred' && echo yes || echo no)"
cli --json frobnicate
printf '%s\n' "$CLI_OUT" >/tmp/cli-usage.json
echo '{"error": "usage"}' >/tmp/cli-usage.expect
check "review 20: udmabuf --json frobnicate exits 2 (and prints a JSON error, checked below)" 2 "$CLI_ST"
cli --json create "a;b" 4096
printf '%s\n' "$CLI_OUT" >/tmp/cli-badname.json
echo '{"errno": "EINVAL"}' >/tmp/cli-badname.expect
if [ $EDU_OK = 1 ]; then
	expect_status "review 20: edu_loopback --count 16junk: exit 2 (usage)" 2 "$EDU" --count 16junk udmabuf0
fi

# --- Python -----------------------------------------------------------------------------
# The package tests run twice: under the NumPy 1.x of PYROOT (Debian 12) and under the NumPy
# 2.x of the Debian 13 tree inside it (/t/pyroot-numpy2 has its path, tests/lib/pyroot.sh).
NP2=
NP2_REQUIRED=0
# "!required": the host had no NumPy 2 tree under CI (tests/lib/pyroot.sh): a failure.
[ "$(cat /t/pyroot-numpy2 2>/dev/null)" = "!required" ] && NP2_REQUIRED=1
if [ -n "$PYROOT" ] && [ -s /t/pyroot-numpy2 ] && [ $NP2_REQUIRED = 0 ]; then
	NP2=$PYROOT$(cat /t/pyroot-numpy2)
	for d in dev proc sys tmp t; do
		mkdir -p "$NP2/$d" && mount -o rbind "/$d" "$NP2/$d" || NP2=
	done
	[ -x "$NP2/usr/bin/python3" ] || NP2=
fi
if [ -z "$PYROOT" ]; then
	skip "Python loopback and package tests" "no Python in this boot (PYROOT is empty)"
else
	if [ $EDU_OK = 1 ] && [ "$ARCH" = amd64 ]; then
		expect_status "Python edu loopback (ioctls): the data arrives" 0 chroot "$PYROOT" /usr/bin/python3 /t/examples/edu_loopback.py udmabuf0
		expect_status "Python edu loopback (sysfs): the data arrives" 0 chroot "$PYROOT" /usr/bin/python3 /t/examples/edu_loopback.py --sysfs udmabuf0
		expect_mismatch "Python negative control: bus mastering off, the data does not arrive" chroot "$PYROOT" /usr/bin/python3 /t/examples/edu_loopback.py --no-bus-master --allocate udmabuf0
	fi
	if [ $EDU_OK = 1 ]; then
		expect_status "Python edu loopback with allocate() on a Pool ($ARCH): the data arrives" 0 chroot "$PYROOT" /usr/bin/python3 /t/examples/edu_loopback.py --allocate udmabuf0
	fi
	for np in 1 2; do
		if [ $np = 1 ]; then root=$PYROOT; else root=$NP2; fi
		if [ -z "$root" ]; then
			if [ $NP2_REQUIRED = 1 ]; then
				not_ok "python3 py/test_userspace.py under NumPy 2" "no NumPy 2 tree in PYROOT and CI=true: the NumPy 2 run is required (see the job log)"
			else
				skip "python3 py/test_userspace.py under NumPy 2" "no NumPy 2 tree in PYROOT (the host could not make it; see the job log)"
			fi
			continue
		fi
		# The package against stand-ins (no device): fork, exit, dtypes, strided syncs...
		{
			chroot "$root" /usr/bin/python3 -u /t/guest/py/test_standin.py 2>&1
			echo $? >/tmp/py.st
		} | sed "s/^\(\(not \)\{0,1\}ok - \)standin numpy[0-9]*: /\1py standin numpy$np: /"
		st=$(cat /tmp/py.st)
		[ "$st" -eq 0 ] || not_ok "python3 py/test_standin.py under NumPy $np ran to the end" "expected exit status 0 got $st"
		{
			chroot "$root" /usr/bin/python3 -u /t/guest/py/test_userspace.py 2>&1
			echo $? >/tmp/py.st
		} | sed "s/^\(\(not \)\{0,1\}ok - \)py: /\1py numpy$np: /"
		st=$(cat /tmp/py.st)
		[ "$st" -eq 0 ] || not_ok "python3 py/test_userspace.py under NumPy $np ran to the end" "expected exit status 0 got $st"
	done
fi
if [ -n "$NP2" ]; then
	for d in t tmp sys proc dev; do umount -l "$NP2/$d" 2>/dev/null; done
fi

for d in "$CLASS"/*; do
	b=${d##*/}
	case $b in udmabuf0 | u-dma-buf-mgr | "*") ;; *) echo "delete $b" >/dev/u-dma-buf-mgr ;; esac
done
# (test_userspace.py loads udmabuf_pte_test for review 15's memory-type check)
[ -d /sys/module/udmabuf_pte_test ] && "$BIN/modctl" unload udmabuf_pte_test >/dev/null
must_unload "rmmod after the user-space tests"
finish
