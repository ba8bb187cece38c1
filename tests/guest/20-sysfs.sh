#!/bin/sh
# 20-sysfs: /sys/class/u-dma-buf/<name>/ — modes, read formats, defaults, writes
# accepted and refused, and the encoded sync command.
# INTERFACE.md §5.2, §7, §12.5, §12.6, §13.1, §13.4, §13.5.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

# check_fmt WHAT DEV ATTR REGEX: the file is exactly one line matching REGEX, with its newline.
check_fmt() {
	_f=$CLASS/$2/$3
	_c=$(cat "$_f" 2>&1; echo .)
	_c=${_c%.}
	_body=${_c%"
"}
	if [ "$_body" != "$_c" ] && printf '%s\n' "$_body" | grep -Eqx -e "$4" &&
		[ "$(printf '%s' "$_c" | grep -c '^')" = 1 ]; then
		ok "$1"
	else
		not_ok "$1" "expected /$4/ and a newline got '$(attr_raw "$2" "$3")'"
	fi
}

# check_write WHAT DEV ATTR TEXT RESULT-REGEX [nl]: one write() of TEXT gives OK or the errno.
check_write() {
	check_match "$1" "$5" "$(wr "$2" "$3" "$4" ${6:+"$6"})"
}

# refused_keeps DEV ATTR TEXT ERRNOS [nl]: the write is refused and the stored value stays.
refused_keeps() {
	_before=$(attr "$1" "$2")
	_shown=$(printf '%s' "$3" | od -An -c | tr -s ' ' | sed 's/^ //')
	[ -n "${5:-}" ] && _shown="$_shown \\n"
	check_write "$2: writing '$_shown' fails with $4" "$1" "$2" "$3" "$4" ${5:+"$5"}
	check "$2: after the refused '$_shown' it still reads $_before" "$_before" "$(attr "$1" "$2")"
}

# enc OFFSET SIZE DIR: the encoded command as the seed README builds it.
enc() { printf '0x%08X%08X' "$1" $(($2 | $3 << 2 | 1)); }

D=udmabuf0
if ! must_load "insmod udmabuf0=1M udmabuf1=5000 for the sysfs tests" udmabuf0=1M udmabuf1=5000 info_enable=0; then
	finish
fi
SZ=$(attr $D size)

# ------------------------------------------------------------------------
# Modes.

for a in driver_version size phys_addr sync_owner dma_coherent quirk_mmap_mode ioctl_version; do
	check "$a has mode 0444" 444 "$(stat -c %a "$CLASS/$D/$a" 2>&1)"
done
for a in sync_mode sync_offset sync_size sync_direction sync_for_cpu sync_for_device; do
	check "$a has mode 0664" 664 "$(stat -c %a "$CLASS/$D/$a" 2>&1)"
done

# ------------------------------------------------------------------------
# Read formats and the initial state (§13.4).

check_fmt "driver_version reads MAJOR.MINOR.PATCH" $D driver_version '[0-9]+\.[0-9]+\.[0-9]+'
check_fmt "size reads the requested size in decimal (1M)" $D size 1048576
check_fmt "size reads the requested size, not page-rounded (5000)" udmabuf1 size 5000
check_fmt "phys_addr reads 0x and 16 lowercase hex digits" $D phys_addr '0x[0-9a-f]{16}'
check_match "phys_addr is a non-zero page-aligned address" '0x[0-9a-f]{13}000' \
	"$(attr $D phys_addr | grep -v '^0x0*$')"
check_fmt "sync_mode starts at 1" $D sync_mode 1
check_fmt "sync_offset starts at 0x0" $D sync_offset 0x0
check_fmt "sync_size starts at the size" $D sync_size "$SZ"
check_fmt "sync_size starts at the size (5000)" udmabuf1 sync_size 5000
check_fmt "sync_direction starts at 0" $D sync_direction 0
check_fmt "sync_owner starts at 0 (CPU)" $D sync_owner 0
check_fmt "sync_for_cpu reads 0" $D sync_for_cpu 0
check_fmt "sync_for_device reads 0" $D sync_for_device 0
check_fmt "dma_coherent of a parameter buffer on $ARCH reads $EXPECT_COHERENT" $D dma_coherent "$EXPECT_COHERENT"
check_fmt "quirk_mmap_mode reads the configured default 3" $D quirk_mmap_mode 3
check_fmt "ioctl_version reads 2" $D ioctl_version 2

# ------------------------------------------------------------------------
# Read-only attributes refuse writes.

for a in size phys_addr sync_owner dma_coherent quirk_mmap_mode ioctl_version driver_version; do
	refused_keeps $D $a 1 '(open:)?(EACCES|EPERM|EIO|EINVAL)'
done

# ------------------------------------------------------------------------
# sync_mode: 0..7 in decimal, hex, octal, with a newline; the rest refused.

for v in 0 1 2 3 4 5 6 7; do
	check_write "sync_mode accepts $v" $D sync_mode $v OK
	check "sync_mode reads $v after writing it" $v "$(attr $D sync_mode)"
done
check_write "sync_mode accepts 0x6" $D sync_mode 0x6 OK
check "sync_mode reads 6 after 0x6" 6 "$(attr $D sync_mode)"
check_write "sync_mode accepts octal 05" $D sync_mode 05 OK
check "sync_mode reads 5 after 05" 5 "$(attr $D sync_mode)"
check_write "sync_mode accepts '7' with a trailing newline" $D sync_mode 7 OK nl
check "sync_mode reads 7 after '7\\n'" 7 "$(attr $D sync_mode)"
wr $D sync_mode 2 >/dev/null
for v in abc 1x ' 1' '1 ' 0x 08; do
	refused_keeps $D sync_mode "$v" EINVAL
done
refused_keeps $D sync_mode '' EINVAL nl
refused_keeps $D sync_mode -1 EINVAL
for v in 8 255 4294967299 18446744073709551619 99999999999999999999999; do
	refused_keeps $D sync_mode "$v" 'EINVAL|ERANGE'
done
wr $D sync_mode 1 >/dev/null

# ------------------------------------------------------------------------
# sync_direction: 0..2; 3 (the seed helper's "bidirectional") is refused.

for v in 0 1 2; do
	check_write "sync_direction accepts $v" $D sync_direction $v OK
	check "sync_direction reads $v after writing it" $v "$(attr $D sync_direction)"
done
wr $D sync_direction 1 >/dev/null
for v in 3 4 4294967298; do refused_keeps $D sync_direction "$v" 'EINVAL|ERANGE'; done
for v in -1 abc 2x; do refused_keeps $D sync_direction "$v" EINVAL; done
wr $D sync_direction 0 >/dev/null

# ------------------------------------------------------------------------
# sync_offset (read as 0x%llx) and sync_size (decimal): each alone <= size (§13.5).

check_write "sync_offset accepts 4096" $D sync_offset 4096 OK
check "sync_offset reads 0x1000 after 4096" 0x1000 "$(attr $D sync_offset)"
check_write "sync_offset accepts 0xAbC0" $D sync_offset 0xAbC0 OK
check "sync_offset reads lowercase 0xabc0 after 0xAbC0" 0xabc0 "$(attr $D sync_offset)"
check_write "sync_offset accepts octal 010" $D sync_offset 010 OK
check "sync_offset reads 0x8 after 010" 0x8 "$(attr $D sync_offset)"
check_write "sync_offset accepts the size ($SZ)" $D sync_offset "$SZ" OK
check "sync_offset reads $(printf '0x%x' "$SZ") after $SZ" "$(printf '0x%x' "$SZ")" "$(attr $D sync_offset)"
wr $D sync_offset 0x2000 >/dev/null
for v in $((SZ + 1)) $((SZ * 2)) 4294967296 18446744073709551615; do
	refused_keeps $D sync_offset "$v" 'EINVAL|ERANGE'
done
refused_keeps $D sync_offset 0x10000000000000000 'EINVAL|ERANGE'
for v in -1 abc 0x1g; do refused_keeps $D sync_offset "$v" EINVAL; done
refused_keeps udmabuf1 sync_offset 5001 'EINVAL|ERANGE'
check_write "sync_offset of a 5000-byte buffer accepts 5000" udmabuf1 sync_offset 5000 OK

check_write "sync_size accepts 4096" $D sync_size 4096 OK
check "sync_size reads 4096" 4096 "$(attr $D sync_size)"
check_write "sync_size accepts 0x3000" $D sync_size 0x3000 OK
check "sync_size reads 12288 after 0x3000" 12288 "$(attr $D sync_size)"
check_write "sync_size accepts the size ($SZ)" $D sync_size "$SZ" OK nl
check "sync_size reads $SZ" "$SZ" "$(attr $D sync_size)"
wr $D sync_size 8192 >/dev/null
for v in $((SZ + 1)) 4294967296 4295975936 18446744073709551615; do
	refused_keeps $D sync_size "$v" 'EINVAL|ERANGE'
done
for v in -1 abc 12k; do refused_keeps $D sync_size "$v" EINVAL; done
refused_keeps udmabuf1 sync_size 5001 'EINVAL|ERANGE'
refused_keeps udmabuf1 sync_size 8192 'EINVAL|ERANGE'

# ------------------------------------------------------------------------
# sync_for_cpu / sync_for_device: the stored form (1), the encoded form, refusals.

owner() { attr $D sync_owner; }
# sync_ok ATTR TEXT OWNER WHAT [nl]
sync_ok() {
	check_write "$4: accepted" $D "$1" "$2" OK ${5:+"$5"}
	check "$4: sync_owner becomes $3" "$3" "$(owner)"
	check "$4: $1 reads 0 again" 0 "$(attr $D "$1")"
}
# sync_refused ATTR TEXT ERRNOS WHAT
sync_refused() {
	_o=$(owner)
	check_write "$4: refused with $3" $D "$1" "$2" "$3"
	check "$4: sync_owner stays $_o" "$_o" "$(owner)"
	check "$4: $1 reads 0" 0 "$(attr $D "$1")"
}

wr $D sync_offset 0 >/dev/null
wr $D sync_size "$SZ" >/dev/null
wr $D sync_direction 0 >/dev/null
sync_ok sync_for_device 1 1 "sync_for_device 1 (stored range)"
sync_ok sync_for_cpu 1 0 "sync_for_cpu 1 (stored range)"
sync_ok sync_for_device 0x1 1 "sync_for_device 0x1"
sync_ok sync_for_cpu 1 0 "sync_for_cpu '1\\n'" nl

# Distinct stored values, to see that the encoded form leaves them alone.
wr $D sync_offset 0x3000 >/dev/null
wr $D sync_size 0x5000 >/dev/null
wr $D sync_direction 2 >/dev/null
stored="0x3000 20480 2"
for dir in 0 1 2 3; do
	sync_ok sync_for_device "$(enc 0 0x10000 $dir)" 1 "sync_for_device $(enc 0 0x10000 $dir) (offset 0, 64 KiB, dir $dir)"
	sync_ok sync_for_cpu "$(enc 0x1000 0x10000 $dir)" 0 "sync_for_cpu $(enc 0x1000 0x10000 $dir) (offset 4 KiB, 64 KiB, dir $dir)"
done
sync_ok sync_for_device "$(enc $((SZ - 16)) 16 1)" 1 "sync_for_device of the last 16 bytes (offset + size = size)"
sync_ok sync_for_cpu "$(enc 0 "$SZ" 2)" 0 "sync_for_cpu of the whole buffer, encoded"
sync_ok sync_for_device "$(enc 0x100 0x20 1)" 1 "sync_for_device encoded with a trailing newline" nl
check "the encoded commands leave sync_offset, sync_size, sync_direction unchanged" "$stored" \
	"$(attr $D sync_offset) $(attr $D sync_size) $(attr $D sync_direction)"
sync_ok sync_for_cpu 0 1 "sync_for_cpu 0 does nothing"
sync_ok sync_for_cpu 1 0 "sync_for_cpu 1 with offset 0x3000 size 20480"

# Refused while the owner is the CPU (0), then while it is the device (1).
for o in cpu device; do
	if [ $o = cpu ]; then wr $D sync_for_cpu 1 >/dev/null; else wr $D sync_for_device 1 >/dev/null; fi
	for a in sync_for_device sync_for_cpu; do
		w="$a with owner $o"
		sync_refused $a "$(enc $((SZ - 16)) 32 1)" EINVAL "$w: offset size-16 + size 32 > size"
		sync_refused $a "$(enc "$SZ" 16 0)" EINVAL "$w: offset = size, size 16"
		sync_refused $a "$(enc 0 $((SZ + 16)) 2)" EINVAL "$w: size + 16 bytes"
		sync_refused $a "$(enc 0xFFFFF000 0x2000 0)" EINVAL "$w: offset 0xFFFFF000 + 0x2000 (wraps in 32 bits)"
		sync_refused $a "$(enc 0xFFFFFFFF 0x10 3)" EINVAL "$w: offset 0xFFFFFFFF + 16 (wraps in 32 bits)"
		sync_refused $a 0xFFFFFFFFFFFFFFF1 EINVAL "$w: 0xFFFFFFFFFFFFFFF1"
		sync_refused $a abc EINVAL "$w: garbage 'abc'"
		sync_refused $a -1 EINVAL "$w: -1"
		sync_refused $a 0x1ffffffffffffffff 'EINVAL|ERANGE' "$w: 65-bit number"
	done
done

# The stored form checks offset + size against the size when the sync runs (§13.5).
for o in cpu device; do
	wr $D sync_offset 0 >/dev/null
	wr $D sync_size "$SZ" >/dev/null
	if [ $o = cpu ]; then wr $D sync_for_cpu 1 >/dev/null; else wr $D sync_for_device 1 >/dev/null; fi
	wr $D sync_offset $((SZ / 2)) >/dev/null
	wr $D sync_size "$SZ" >/dev/null
	for a in sync_for_device sync_for_cpu; do
		sync_refused $a 1 EINVAL "$a 1 with owner $o, stored offset size/2 + size > size"
	done
	wr $D sync_offset "$SZ" >/dev/null
	wr $D sync_size 16 >/dev/null
	for a in sync_for_device sync_for_cpu; do
		sync_refused $a 1 EINVAL "$a 1 with owner $o, stored offset = size, size 16"
	done
done
wr $D sync_offset $((SZ - 4096)) >/dev/null
wr $D sync_size 4096 >/dev/null
sync_ok sync_for_device 1 1 "sync_for_device 1 with the stored last page (offset + size = size)"
sync_ok sync_for_cpu 1 0 "sync_for_cpu 1 with the stored last page"

# A 5000-byte buffer: the limit is the size, not the page-rounded 8192.
D=udmabuf1
sync_refused sync_for_device "$(enc 0 0x1390 0)" EINVAL "5000-byte buffer: 5008 bytes (inside the rounded 8192)"
sync_ok sync_for_device "$(enc 0 0x1380 0)" 1 "5000-byte buffer: 4992 bytes"
sync_ok sync_for_cpu "$(enc 4984 16 0)" 0 "5000-byte buffer: the last 16 bytes (offset 4984)"
D=udmabuf0

# ------------------------------------------------------------------------
# debug_vma is optional (§7).

if [ -e "$CLASS/$D/debug_vma" ]; then
	check "debug_vma has mode 0644 (root only: it fills the kernel log)" 644 "$(stat -c %a "$CLASS/$D/debug_vma")"
	check_fmt "debug_vma reads a decimal" $D debug_vma '[0-3]'
	for v in 0 3; do check_write "debug_vma accepts $v" $D debug_vma $v OK; done
	wr $D debug_vma 0 >/dev/null
	refused_keeps $D debug_vma 4 'EINVAL|ERANGE'
	refused_keeps $D debug_vma x EINVAL
else
	skip "debug_vma" "optional attribute not present"
fi

must_unload "rmmod after the sysfs tests"
finish
