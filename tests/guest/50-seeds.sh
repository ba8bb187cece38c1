#!/bin/sh
# 50-seeds: the programs users wrote for the established driver (shared/seeds/000, 002),
# unchanged but for the two lines INTERFACE.md §13.14 names: the README's C snippets and
# check_buf/clear_buf under every sync_mode × O_SYNC, dd to and from the node (§4), the
# NumPy article's script and the README's Python class.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

# dd_ok WHAT RECORDS ARGS...: dd succeeds and reports RECORDS+0 records out.
dd_ok() {
	_dw=$1 _dn=$2
	shift 2
	dd "$@" 2>/tmp/dd.err
	_ds=$?
	if [ $_ds -eq 0 ] && grep -q "^$_dn+0 records out" /tmp/dd.err; then
		ok "$_dw"
	else
		not_ok "$_dw" "expected exit 0 and $_dn+0 records out got exit $_ds:" "$(cat /tmp/dd.err)"
	fi
}

# same WHAT FILE1 FILE2
same() {
	if cmp "$2" "$3" >/tmp/cmp.out 2>&1; then ok "$1"; else not_ok "$1" "expected identical files got: $(cat /tmp/cmp.out)"; fi
}

if ! must_load "insmod udmabuf0=1M for the seeds" udmabuf0=1M info_enable=0; then
	finish
fi
SZ=$(attr udmabuf0 size)
N=$((SZ / 4096))

run_tap "$BIN/seed002"

# --- dd (the README's commands) ------------------------------------------------------
dd_ok "dd if=/dev/urandom of=/dev/udmabuf0 bs=4096 count=$N writes $N blocks" $N \
	if=/dev/urandom of=/dev/udmabuf0 bs=4096 count=$N
dd_ok "dd if=/dev/udmabuf0 of=file reads the buffer ($((SZ / 512)) blocks of 512)" $((SZ / 512)) \
	if=/dev/udmabuf0 of=/tmp/u1.bin
check "dd if=/dev/udmabuf0 gives exactly the size" "$SZ" "$(wc -c </tmp/u1.bin)"
"$BIN/ut" dump udmabuf0 /tmp/m1.bin
same "what dd read equals what a mapping shows" /tmp/u1.bin /tmp/m1.bin
dd if=/dev/urandom of=/dev/udmabuf0 bs=4096 count=$N 2>/dev/null
dd if=/dev/udmabuf0 of=/tmp/u2.bin 2>/dev/null
if cmp -s /tmp/u1.bin /tmp/u2.bin; then
	not_ok "a second dd from /dev/urandom changes the contents" "expected different data got the same"
else
	ok "a second dd from /dev/urandom changes the contents"
fi

dd if=/dev/urandom of=/tmp/r.bin bs=4096 count=$N 2>/dev/null
dd_ok "dd of a file into /dev/udmabuf0 writes $N blocks" $N if=/tmp/r.bin of=/dev/udmabuf0 bs=4096
dd_ok "dd of /dev/udmabuf0 into a file reads it back" $((SZ / 512)) if=/dev/udmabuf0 of=/tmp/x.bin
same "dd round trip file -> /dev/udmabuf0 -> file gives the same bytes (cmp)" /tmp/r.bin /tmp/x.bin
dd if=/dev/udmabuf0 of=/tmp/y.bin bs=3000 2>/dev/null
same "dd with bs=3000 (a short last block) reads the same bytes" /tmp/r.bin /tmp/y.bin
cat /dev/udmabuf0 >/tmp/z.bin
same "cat /dev/udmabuf0 reads the same bytes" /tmp/r.bin /tmp/z.bin
"$BIN/ut" dump udmabuf0 /tmp/m2.bin
same "a mapping shows the bytes dd wrote" /tmp/r.bin /tmp/m2.bin
rm -f /tmp/u1.bin /tmp/u2.bin /tmp/m1.bin /tmp/m2.bin /tmp/r.bin /tmp/x.bin /tmp/y.bin /tmp/z.bin

# --- Python ---------------------------------------------------------------------------
if [ -z "$PYROOT" ]; then
	for t in "seed 000 udmabuf_test.py with numpy.memmap" "seed 002 Udmabuf class" \
		"numpy on non-cached mappings (no SIGBUS)"; do
		skip "$t" "no Python in this boot (PYROOT is empty)"
	done
else
	chroot "$PYROOT" /usr/bin/python3 /t/guest/py/seeds.py
	st=$?
	[ $st -eq 0 ] || not_ok "python3 py/seeds.py ran to the end" "expected exit status 0 got $st"
fi

must_unload "rmmod after the seeds"
finish
