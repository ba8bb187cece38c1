#!/bin/sh
# 99-bench: `udmabuf bench` (tools/udmabuf.c, /t/bin/edu_udmabuf_cli) in its short mode, so
# that the bench cannot rot: its table and its JSON are complete and sane (every figure
# there, positive, every kind measured or said why not), it restores the buffer, and it
# refuses a buffer that another process has open.  Nothing about speed (make bench
# measures; bench/README in the repo's README).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

CLI=$BIN/edu_udmabuf_cli
SZ=$((1 << 20))

if ! must_load "insmod udmabuf0=1M for the bench" udmabuf0=1M info_enable=0; then
	finish
fi
DIRECT=
[ -b /dev/vda ] && DIRECT="--direct /dev/vda"
[ -d /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null

# A pattern the bench must leave as it found it, and a sync_mode it must restore.
dd if=/dev/urandom of=/tmp/bench.pat bs=4096 count=$((SZ / 4096)) 2>/dev/null
dd if=/tmp/bench.pat of=/dev/udmabuf0 bs=4096 2>/dev/null
echo 2 >"$CLASS/udmabuf0/sync_mode"
sum_before=$(md5sum </tmp/bench.pat)

# --- the table ---------------------------------------------------------------------------
# shellcheck disable=SC2086 # DIRECT is two words or none
T=$("$CLI" bench udmabuf0 --quick --no-progress $DIRECT 2>/tmp/bench.err)
st=$?
check "udmabuf bench --quick udmabuf0 exits 0" 0 "$st"
[ $st -eq 0 ] || diag "$(cat /tmp/bench.err)"
has_line() {
	if printf '%s\n' "$T" | grep -Eq -e "$2"; then ok "$1"; else not_ok "$1" "expected a line matching /$2/ in:" "$T"; fi
}
num='[0-9][0-9.e+]* (MB/s|ns|us)'
has_line "table: says whose figures these are" "this machine's"
for what in "cached mapping" "O_SYNC, sync_mode 1 \(non-cached\)" "O_SYNC, sync_mode 2 \(write-combine\)" \
	"O_SYNC, sync_mode 3 \(dma-coherent\)"; do
	for op in "write \(memset\)" "read" "memcpy into it" "memcpy out of it"; do
		has_line "table: $what: $op, with figure, malloc figure and ratio" \
			"^$what: $op +$num +$num +[0-9.]+ +malloc$"
	done
done
for what in "read\(\) into malloc'd memory" "write\(\) from malloc'd memory" "read\(\), O_SYNC" "write\(\), O_SYNC"; do
	has_line "table: $what against memcpy" "^$what.* +$num +$num +[0-9.]+ +memcpy$"
done
has_line "table: a null syscall" "^null syscall \(getppid\) +$num"
for r in "4 KiB" "64 KiB" "1 MiB"; do
	for v in "sync_for_device $r, ioctl" "sync_for_cpu $r, ioctl" "sync_for_device $r, sysfs" "sync_for_cpu $r, sysfs"; do
		has_line "table: $v against a null syscall" "^$v +$num +$num +[0-9.]+ +null syscall$"
	done
done
for what in "untouched mmap\(\)" "untouched munmap\(\)" "untouched mmap\(\) \+ munmap\(\)" "first touch pass" \
	"first read pass" "first write pass" "munmap\(\) after the touch pass"; do
	has_line "table: $what against anonymous memory" "^$what.* +$num +$num +[0-9.]+ +anon$"
done
for k in "u-dma-buf" "u-dma-buf O_SYNC" "anonymous, THP off" "anonymous, THP on" "mainline /dev/udmabuf \(memfd\)" \
	"dma-heap system"; do
	has_line "table: mmap costs of $k: figures, or why not" "^$k +([0-9.]+ +){7}[0-9]+ +[0-9]+|^$k +[a-zA-Z]"
done
# Where the buffer cannot be ordinary pages (lib.sh pages_for) it is mapped as page
# frames, which O_DIRECT cannot pin: EFAULT, as tests/guest/92-zerocopy.sh expects.
PAGES=no
pages_for $((SZ >> 10)) && PAGES=yes
if [ -n "$DIRECT" ] && [ $PAGES = yes ]; then
	has_line "table: O_DIRECT into the mapping against malloc'd memory" "^O_DIRECT read into the mapping +$num +$num +[0-9.]+ +malloc$"
elif [ -n "$DIRECT" ]; then
	has_line "table: O_DIRECT into the mapping: says it failed and why (page frames)" \
		"^O_DIRECT into the mapping failed: Bad address \(a mapping of page frames cannot be pinned\)$"
	has_line "table: O_DIRECT into malloc'd memory all the same" "^O_DIRECT read into the mapping +- +$num +- +malloc$"
else
	skip "table: O_DIRECT row" "no /dev/vda in this boot"
fi
check "the bench restored the contents" "$sum_before" "$(dd if=/dev/udmabuf0 bs=4096 2>/dev/null | md5sum)"
check "the bench restored sync_mode (2)" 2 "$(attr udmabuf0 sync_mode)"
check "the bench restored sync_owner (0: CPU)" 0 "$(attr udmabuf0 sync_owner)"

# --- the JSON ----------------------------------------------------------------------------
# shellcheck disable=SC2086
J=$("$CLI" --json bench udmabuf0 --quick --no-progress --kprobe u_dma_buf:udmabuf_vm_fault $DIRECT 2>/tmp/bench.err)
st=$?
check "udmabuf --json bench --quick udmabuf0 exits 0" 0 "$st"
[ $st -eq 0 ] || diag "$(cat /tmp/bench.err)"
check "the JSON is one line, one object" "1 yes" "$(printf '%s\n' "$J" | wc -l) $(printf '%s\n' "$J" | grep -q '^{.*}$' && echo yes)"
jhas() {
	if printf '%s\n' "$J" | grep -Eq -e "$2"; then ok "$1"; else not_ok "$1" "expected /$2/ in:" "$J"; fi
}
jnum='[0-9][0-9.e+-]*'
jhas "JSON: buffer and size" "\"buffer\": \"udmabuf0\", \"size\": $SZ,"
jhas "JSON: the machine (arch, kernel) and the note" "\"machine\": \\{\"arch\": \"[^\"]+\", \"kernel\": \"[^\"]+\".*\"note\": "
has "JSON: the kernel is this one's" "$J" "\"kernel\": \"$KREL\""
for m in "cached mapping" "O_SYNC, sync_mode 1 (non-cached)" "O_SYNC, sync_mode 2 (write-combine)" "O_SYNC, sync_mode 3 (dma-coherent)"; do
	jhas "JSON: cpu: $m with its 4 figures and 4 ratios" \
		"\\{\"mapping\": \"$(printf '%s' "$m" | sed 's/[()]/\\&/g')\", \"bytes\": $jnum, \"write_MBps\": $jnum, \"read_MBps\": $jnum, \"memcpy_to_MBps\": $jnum, \"memcpy_from_MBps\": $jnum, \"write_ratio\": $jnum, \"read_ratio\": $jnum, \"memcpy_to_ratio\": $jnum, \"memcpy_from_ratio\": $jnum\\}"
done
jhas "JSON: rw: the figures and ratios" "\"rw\": \\{\"bytes\": $SZ, \"memcpy_MBps\": $jnum, \"read_MBps\": $jnum, \"write_MBps\": $jnum, \"read_osync_MBps\": $jnum, \"write_osync_MBps\": $jnum, \"read_ratio\": $jnum, \"write_ratio\": $jnum\\}"
jhas "JSON: sync: null syscall and null ioctl" "\"sync\": \\{\"null_syscall_ns\": $jnum, \"null_ioctl_ns\": $jnum, \"sysfs_writable\": 1"
for n in 4096 65536 $SZ; do
	jhas "JSON: sync range of $n bytes: ioctl and sysfs both ways" \
		"\\{\"bytes\": $n, \"ioctl_for_device_ns\": $jnum, \"ioctl_for_cpu_ns\": $jnum, \"sysfs_for_device_ns\": $jnum, \"sysfs_for_cpu_ns\": $jnum, \"ioctl_for_device_vs_null\": $jnum, \"ioctl_for_cpu_vs_null\": $jnum, \"null_syscall_paired_ns\": $jnum\\}"
done
mapk="\"mmap_us\": $jnum, \"munmap_us\": $jnum, \"cycle_us\": $jnum, \"first_touch_us\": $jnum, \"first_read_us\": $jnum, \"first_write_us\": $jnum, \"munmap_touched_us\": $jnum, \"touch_faults\": $jnum, \"write_faults\": $jnum"
for k in u-dma-buf u-dma-buf-osync anon; do
	jhas "JSON: map: $k measured" "\\{\"kind\": \"$k\", \"label\": \"[^\"]+\", \"bytes\": $SZ, $mapk"
done
# mainline udmabuf: CONFIG_UDMABUF is built into Debian's 6.12 kernels, not into 6.1.
for k in anon-thp mainline-udmabuf dma-heap-system; do
	jhas "JSON: map: $k measured or why not" "\\{\"kind\": \"$k\", \"label\": \"[^\"]+\", \"bytes\": $SZ, ($mapk|\"unavailable\": \"[^\"]+\"\\})"
done
# (the kernel's own udmabuf has a udmabuf_vm_fault too: the module's is the one in [u_dma_buf])
if grep -q ' udmabuf_vm_fault[[:space:]]*\[u_dma_buf\]' /proc/kallsyms 2>/dev/null && [ -w /sys/kernel/tracing/kprobe_events ]; then
	jhas "JSON: driver faults counted through the kprobe" "\"kind\": \"u-dma-buf\", .*\"touch_driver_faults\": [0-9]+, \"write_driver_faults\": [0-9]+"
	check "the bench removed its kprobe" "" "$(grep udmabuf_bench /sys/kernel/tracing/kprobe_events)"
else
	skip "JSON: driver faults counted through the kprobe" "no kprobe events or no udmabuf_vm_fault here"
fi
if [ -n "$DIRECT" ] && [ $PAGES = no ]; then
	jhas "JSON: direct: the malloc figure and the error of the mapping (page frames)" \
		"\"direct\": \\{\"path\": \"/dev/vda\", \"bytes\": $jnum, \"chunk\": $jnum, \"into_mapping_MBps\": null, \"into_malloc_MBps\": $jnum, \"ratio\": null, \"error\": \"Bad address\"\\}"
	J=$(printf '%s\n' "$J" | sed 's/"into_mapping_MBps": null, //; s/"ratio": null, //')
elif [ -n "$DIRECT" ]; then
	jhas "JSON: direct: both figures and the ratio" "\"direct\": \\{\"path\": \"/dev/vda\", \"bytes\": $jnum, \"chunk\": $jnum, \"into_mapping_MBps\": $jnum, \"into_malloc_MBps\": $jnum, \"ratio\": $jnum\\}"
fi
check "JSON: no null and no negative figure (every measurement was made)" "" \
	"$(printf '%s\n' "$J" | sed 's/"[a-z_]*driver_faults": null//g' | grep -oE '": (null|-[0-9.]+)' | head -n 3)"
if [ -n "$PYROOT" ]; then
	printf '%s\n' "$J" >/tmp/bench.json
	check "JSON: python3 json.loads() takes it, and every number in it is finite and >= 0" OK \
		"$(chroot "$PYROOT" /usr/bin/python3 -c '
import json, math
d = json.load(open("/tmp/bench.json"))
bad = []
def walk(v, p):
    if isinstance(v, dict):
        [walk(x, p + "." + k) for k, x in v.items()]
    elif isinstance(v, list):
        [walk(x, p + "[]") for x in v]
    elif isinstance(v, (int, float)) and not isinstance(v, bool) and (not math.isfinite(v) or v < 0):
        bad.append(p)
walk(d, "")
print("OK" if not bad else "bad: " + " ".join(bad))' 2>&1)"
else
	skip "JSON: python3 json.loads()" "no PYROOT in this boot"
fi

# --- permission ----------------------------------------------------------------------------
sleep 60 <>/dev/udmabuf0 &
holder=$!
sleep 1
cli_out=$("$CLI" bench udmabuf0 --quick --no-progress 2>&1)
st=$?
kill $holder 2>/dev/null
wait $holder 2>/dev/null
if [ $st -eq 1 ] && printf '%s\n' "$cli_out" | grep -q "in use by process $holder"; then
	ok "the bench refuses a buffer another process has open: exit 1, names the process"
else
	not_ok "the bench refuses a buffer another process has open: exit 1, names the process" "got $st:" "$cli_out"
fi
check "... and did not touch it" "$sum_before" "$(dd if=/dev/udmabuf0 bs=4096 2>/dev/null | md5sum)"
cli_out=$("$CLI" bench 2>&1)
check "udmabuf bench without a buffer: exit 2 (usage)" 2 "$?"
cli_out=$("$CLI" bench nope 2>&1)
check "udmabuf bench of a missing buffer: exit 1" 1 "$?"
finish
