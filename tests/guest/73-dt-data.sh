#!/bin/sh
# 73-dt-data: data through every device-tree example buffer (coherent, non-coherent,
# CMA region, no-map pool, bus child): mmap, read, write with and without O_SYNC in every
# sync_mode 0..7 and no SIGBUS on non-cached mappings (syncpaths), dd in every sync_mode,
# the syncs on the no-map buffer, and NumPy's memmap (INTERFACE.md §4, §5, §12.8).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"
# shellcheck source=tests/guest/dt_lib.sh
. "${0%/*}/dt_lib.sh"
dt_requires "data through device-tree buffers"

if ! dt_load "insmod with the device-tree nodes" info_enable=0; then
	finish
fi

# --- syncpaths: sync_mode 0..7 x O_SYNC, mmap/read/write, no SIGBUS ------------------------
# The examples, and the mmap strategies off, on and page set by quirk-mmap-* properties.
for n in $(dt_example_names) dt-quirk-off dt-quirk-on dt-quirk-all; do
	if [ "$n" = udmabuf-noncoherent ]; then
		# Its preset range is the second half, from the device; syncpaths hands the
		# whole buffer over with the stored range, so store the whole range first.
		wr "$n" sync_offset 0 >/dev/null
		wr "$n" sync_size "$(attr "$n" size)" >/dev/null
		wr "$n" sync_direction 0 >/dev/null
		diag "$n: stored sync range set to the whole buffer, bidirectional, for syncpaths"
	fi
	t0=$(cut -d' ' -f1 /proc/uptime)
	run_tap "$BIN/syncpaths" "$n" "$n"
	diag "$n: syncpaths took $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }') s"
done

# --- dd in every sync_mode ---------------------------------------------------------------
# Random data once (the largest buffer + 8 pages); mode m writes the slice at page m.
max=0
for n in $(dt_example_names); do
	s=$(attr "$n" size)
	[ "$s" -gt "$max" ] && max=$s
done
dd if=/dev/urandom of=/tmp/dt-rand bs=4096 count=$((max / 4096 + 8)) 2>/dev/null
for n in $(dt_example_names); do
	pages=$(($(attr "$n" size) / 4096))
	fails=
	for m in 0 1 2 3 4 5 6 7; do
		wr "$n" sync_mode $m >/dev/null
		dd if=/tmp/dt-rand of=/tmp/dt-want bs=4096 skip=$m count=$pages 2>/dev/null
		if ! dd if=/tmp/dt-want of="/dev/$n" bs=4096 2>/tmp/dd.err; then
			fails="$fails mode $m: dd to /dev/$n: $(tail -n 1 /tmp/dd.err);"
			continue
		fi
		dd if="/dev/$n" of=/tmp/dt-got bs=4096 2>/dev/null
		cmp -s /tmp/dt-want /tmp/dt-got || fails="$fails mode $m: dd back differs;"
		"$BIN/ut" dump "$n" /tmp/dt-got >/dev/null
		cmp -s /tmp/dt-want /tmp/dt-got || fails="$fails mode $m: the mapping differs;"
	done
	wr "$n" sync_mode 1 >/dev/null
	check "$n: dd of $pages pages to /dev/$n and back, and the mapping, in sync_mode 0..7" "" "${fails# }"
done
rm -f /tmp/dt-rand /tmp/dt-want /tmp/dt-got

# --- sync_for_cpu / sync_for_device ------------------------------------------------------
# The no-map pool has no linear mapping: the syncs must not oops and must move the owner.
for n in udmabuf-nomap udmabuf-noncoherent udmabuf-coherent udmabuf-cma; do
	size=$(attr "$n" size)
	got=
	for step in "sync_for_device 1 1" "sync_for_cpu 1 0" \
		"sync_for_device $(printf '0x%08X%08X' 0 $((4096 | 3 << 2 | 1))) 1" \
		"sync_for_cpu $(printf '0x%08X%08X' $((size - 8192)) $((8192 | 2 << 2 | 1))) 0"; do
		# shellcheck disable=SC2086 # three words
		set -- $step
		got="$got $1=$2:$(wr "$n" "$1" "$2"),owner=$(attr "$n" sync_owner),reads=$(attr "$n" "$1");"
	done
	want=" sync_for_device=1:OK,owner=1,reads=0; sync_for_cpu=1:OK,owner=0,reads=0; sync_for_device=$(printf '0x%08X%08X' 0 $((4096 | 3 << 2 | 1))):OK,owner=1,reads=0; sync_for_cpu=$(printf '0x%08X%08X' $((size - 8192)) $((8192 | 2 << 2 | 1))):OK,owner=0,reads=0;"
	check "$n: sync_for_device / sync_for_cpu (stored range and one-off ranges) work and set sync_owner" "$want" "$got"
	r=$(wr "$n" sync_for_device "$(printf '0x%08X%08X' $((size - 4096)) $((8192 | 3 << 2 | 1)))")
	check "$n: a one-off sync past the end is EINVAL, sync_owner stays 0" "EINVAL 0" "$r $(attr "$n" sync_owner)"
	check "$n: the buffer still works after the syncs" OK "$("$BIN/ut" pattern "$n" 31)"
done
check_log_clean "no oops or warning from the syncs"

# --- NumPy ---------------------------------------------------------------------------------
if [ -z "$PYROOT" ]; then
	skip "NumPy memmap on device-tree buffers" "no PYROOT in this boot"
else
	cat >/tmp/dt_numpy.py <<'PY'
# NumPy memmap of device-tree buffers in several sync_modes (opened without O_SYNC, so
# sync_mode 5, 6, 7 give non-cached, write-combine and DMA-coherent mappings): whole-buffer
# writes read back through read(), unaligned 4- and 8-byte views, flush().  Prints TAP.
import os, sys, time
import numpy as np

def attr(name, a, value=None):
    path = '/sys/class/u-dma-buf/%s/%s' % (name, a)
    if value is None:
        with open(path) as f:
            return f.read().strip()
    with open(path, 'w') as f:
        f.write(str(value))

def tap(good, what, diag=''):
    print(('ok - ' if good else 'not ok - ') + what)
    if not good:
        print('# ' + diag)
    sys.stdout.flush()

t0 = time.time()
for name in sys.argv[1:]:
    size = int(attr(name, 'size'))
    for mode in (1, 5, 6, 7):
        what = '%s: numpy.memmap in sync_mode %d' % (name, mode)
        step = 'setting sync_mode'
        try:
            attr(name, 'sync_mode', mode)
            step = 'memmap'
            a = np.memmap('/dev/' + name, dtype=np.uint8, mode='r+', shape=(size,))
            step = 'whole-buffer write'
            want = ((np.arange(size, dtype=np.uint32) * 2654435761) >> 13).astype(np.uint8) ^ mode
            a[:] = want
            step = 'flush'
            a.flush()
            step = 'read() back'
            fd = os.open('/dev/' + name, os.O_RDONLY)
            got = np.frombuffer(os.pread(fd, size, 0), dtype=np.uint8)
            os.close(fd)
            bad = np.nonzero(got != want)[0]
            step = 'unaligned views'
            n4 = (size - 8) // 4
            v4 = np.ndarray((n4,), dtype=np.uint32, buffer=a, offset=1)
            v4[:] = np.arange(n4, dtype=np.uint32)
            ok4 = bool((v4 == np.arange(n4, dtype=np.uint32)).all())
            v8 = np.ndarray((n4 // 2,), dtype=np.uint64, buffer=a, offset=3)
            v8[:] = 0x0123456789abcdef
            ok8 = bool((v8 == 0x0123456789abcdef).all()) and int(a[3]) == 0xef
            del v4, v8
            del a
            tap(len(bad) == 0 and ok4 and ok8,
                what + ': write, flush, read() back, unaligned 4/8-byte views',
                'first difference at %s, unaligned u32 %s, u64 %s' %
                (bad[0] if len(bad) else 'none', ok4, ok8))
        except Exception as e:
            tap(False, what, 'failed at %s: %r' % (step, e))
    attr(name, 'sync_mode', 1)
print('# numpy: %.1f s' % (time.time() - t0))
PY
	run_tap chroot "$PYROOT" /usr/bin/python3 /tmp/dt_numpy.py udmabuf-nomap udmabuf-noncoherent udmabuf-cma
fi

check_log_clean "no kernel warning"
must_unload "rmmod after the data tests"
finish
