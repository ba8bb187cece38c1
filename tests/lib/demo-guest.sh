#!/bin/sh
# What `make demo` runs in the guest (as a suite, see tests/README.md): one buffer from
# module load to removal, each step shown with its command and checked.
# shellcheck shell=dash

# Debian's arm64 kernel has CMA; its amd64 kernel has none, and the page allocator gives at
# most 4 MiB of contiguous memory there.
case $ARCH in
arm64) SIZE=8M ;;
*) SIZE=4M ;;
esac
DEV=/dev/udmabuf0
SYSFS=/sys/class/u-dma-buf/udmabuf0
status=0

show() {
	printf '\n$ %s\n' "$*"
}
pass() {
	echo "ok - $*"
}
fail() {
	echo "not ok - $*"
	status=1
}
# new_kernel_lines COUNT: the kernel log lines after the first COUNT.
new_kernel_lines() {
	dmesg | tail -n "+$(($1 + 1))"
}

lines=$(dmesg | wc -l)
show "insmod u-dma-buf.ko udmabuf0=$SIZE"
if ! insmod "$MOD" "udmabuf0=$SIZE"; then
	fail "insmod u-dma-buf.ko udmabuf0=$SIZE"
	new_kernel_lines "$lines"
	exit 1
fi
pass "insmod u-dma-buf.ko udmabuf0=$SIZE"
show "dmesg   # the lines the module printed"
new_kernel_lines "$lines" | grep -v -e 'taints kernel' -e 'module verification failed'

show "ls -l $DEV"
ls -l "$DEV"
if [ -c "$DEV" ]; then pass "$DEV is a character device"; else fail "$DEV is a character device"; fi

show "cat $SYSFS/<attribute>   # each sysfs attribute"
for attr in "$SYSFS"/*; do
	[ -f "$attr" ] && [ "${attr##*/}" != uevent ] &&
		printf '%-18s %s\n' "${attr##*/}" "$(head -n 1 "$attr" 2>/dev/null)"
done
bytes=$(cat "$SYSFS/size")

count=$((bytes / 4096))
show "dd if=/dev/urandom of=in bs=4096 count=$count; dd if=in of=$DEV bs=4096; dd if=$DEV of=out bs=4096; cmp in out"
dd if=/dev/urandom of=/tmp/in bs=4096 count="$count" 2>/dev/null
dd if=/tmp/in of="$DEV" bs=4096 2>&1 | tail -n 1
dd if="$DEV" of=/tmp/out bs=4096 2>&1 | tail -n 1
if cmp /tmp/in /tmp/out; then
	pass "dd round trip: $bytes random bytes read back unchanged"
else
	fail "dd round trip: $bytes random bytes read back unchanged"
fi
rm -f /tmp/in /tmp/out

show "python3: numpy.memmap('$DEV', mode='r+') writes a pattern, read() checks it"
cat >/tmp/memmap.py <<'PYTHON'
import sys
import numpy as np

dev = sys.argv[1]
buf = np.memmap(dev, dtype=np.uint8, mode="r+")
print(f"memmap of {dev}: {buf.size} bytes")
pattern = ((np.arange(buf.size, dtype=np.uint64) * 2654435761) >> 13).astype(np.uint8)
buf[:] = pattern
buf.flush()
del buf
with open(dev, "rb") as f:
    back = np.frombuffer(f.read(), dtype=np.uint8)
same = np.array_equal(back, pattern)
print(f"read() gives back what the memmap wrote: {same}")
sys.exit(0 if same else 1)
PYTHON
if [ -z "$PYROOT" ]; then
	fail "numpy.memmap write, read() back (this guest has no Python root)"
elif chroot "$PYROOT" /usr/bin/python3 /tmp/memmap.py "$DEV"; then
	pass "numpy.memmap write, read() back"
else
	fail "numpy.memmap write, read() back"
fi

lines=$(dmesg | wc -l)
show "rmmod u_dma_buf"
if rmmod u_dma_buf; then pass "rmmod u_dma_buf"; else fail "rmmod u_dma_buf"; fi
new_kernel_lines "$lines"
if [ ! -e "$DEV" ]; then pass "$DEV is gone"; else fail "$DEV is gone"; fi
exit "$status"
