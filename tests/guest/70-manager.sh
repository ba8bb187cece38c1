#!/bin/sh
# 70-manager: /dev/u-dma-buf-mgr (INTERFACE.md §10, §13.7): every command and error, the
# manager usable after each error, create -> use -> delete, delete of busy buffers and of
# parameter buffers, the names free again at once, the 256-buffer limit, root only.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

MGR=/dev/u-dma-buf-mgr

# mc STEP...: mgr_cmd's words (see mgr_cmd.c): w:TEXT writes, e:PATH tests existence.
mc() { "$BIN/mgr_cmd" "$@"; }

# Every log line of the module, the manager's included.
klog_all() { klog | grep -E '^u-dma-buf' || true; }

# usable AFTER: the manager still creates and deletes through a fresh open.
usable() {
	check "after $1 the manager still creates, and deletes, a buffer" "OK yes OK no" \
		"$(mc 'w:create mgr-ok 4096\n' e:/dev/mgr-ok 'w:delete mgr-ok\n' e:/dev/mgr-ok)"
}

# err WHAT ERRNO TEXT [ABSENT]: one write of TEXT fails with ERRNO, logs one line saying
# why, creates nothing (ABSENT, default /dev/e), and the manager stays usable.
err() {
	_ew=$1 _ee=$2 _et=$3 _ea=${4:-/dev/e}
	kmark
	check "$_ew -> $_ee" "$_ee no" "$(mc "w:$_et" "e:$_ea")"
	_el=$(klog_all)
	_en=$(printf '%s' "$_el" | grep -c '^')
	if [ "$_en" -eq 1 ]; then
		ok "$_ew: one log line says why ($_el)"
	else
		not_ok "$_ew: one log line says why" "expected 1 line got $_en:" "${_el:-(none)}"
	fi
	usable "$_ew"
}

long_text() { printf "%$1s" '' | tr ' ' "$2"; }

if ! must_load "insmod with no buffer" info_enable=1; then
	finish
fi

# --- the node ---------------------------------------------------------------------------
check "$MGR is a character device, mode 0600, owner root:root" "c 600 0:0" \
	"$([ -c $MGR ] && echo c) $(stat -c '%a %u:%g' $MGR 2>&1)"

# --- create -> use -> delete -------------------------------------------------------------
kmark
check "create a 16384: the write works and /dev/a appears" "OK yes" "$(mc 'w:create a 16384\n' e:/dev/a)"
check "a/size reads 16384" 16384 "$(attr a size)"
check_match "the manager logs 'u-dma-buf-mgr: create a size=16384'" '.+' \
	"$(klog | grep -Fx 'u-dma-buf-mgr: create a size=16384')"
check "a created by the manager is usable: write()/mmap/read() with sync_for_device/sync_for_cpu through sysfs" \
	OK "$("$BIN/ut" pattern a 3)"
dd if=/dev/urandom of=/tmp/mgr.rand bs=4096 count=4 2>/dev/null
dd if=/tmp/mgr.rand of=/dev/a bs=4096 2>/dev/null
dd if=/dev/a of=/tmp/mgr.back bs=4096 2>/dev/null
check "dd into /dev/a and back gives the same 16384 bytes" "same" \
	"$(cmp /tmp/mgr.rand /tmp/mgr.back >/dev/null 2>&1 && echo same || echo "differ ($(wc -c </tmp/mgr.back) bytes back)")"
check "a: sync_for_device then sync_for_cpu through sysfs work" "OK OK" \
	"$(wr a sync_for_device 1) $(wr a sync_for_cpu 1)"
kmark
check "delete a: the write works, /dev/a and its sysfs directory go" "OK no no" \
	"$(mc 'w:delete a\n' e:/dev/a e:$CLASS/a)"
check_match "the manager logs 'u-dma-buf-mgr: delete a'" '.+' "$(klog | grep -Fx 'u-dma-buf-mgr: delete a')"
check "the name a can be created again at once, and deleted" "OK yes OK no" \
	"$(mc 'w:create a 4096\n' e:/dev/a 'w:delete a\n' e:/dev/a)"
check "create, delete and create again of one name in a single write" "OK yes" \
	"$(mc 'w:create a 4096\ndelete a\ncreate a 8192\n' e:/dev/a)"
check "the recreated a has the new size" 8192 "$(attr a size)"
mc 'w:delete a\n' >/dev/null

# --- options -------------------------------------------------------------------------------
check "size=, K suffix: create k size=8K makes 8192 bytes" "OK 8192" \
	"$(mc 'w:create k size=8K\n') $(attr k size)"
check "M suffix: create m 1M makes 1048576 bytes" "OK 1048576" "$(mc 'w:create m 1M\n') $(attr m size)"
check "lower-case suffix and hex: create x 0x2k makes 2048 bytes" "OK 2048" \
	"$(mc 'w:create x 0x2k\n') $(attr x size)"
check "a size that is not a page multiple: create o 5000" "OK 5000" "$(mc 'w:create o 5000\n') $(attr o size)"
check "delete k m x o" "OK no no no no" "$(mc 'w:delete k\ndelete m\ndelete x\ndelete o\n' e:/dev/k e:/dev/m e:/dev/x e:/dev/o)"
for q in off:1 on:2 auto:3 page:4; do
	check "create q 8192 quirk-mmap-${q%:*} -> quirk_mmap_mode ${q#*:}, usable" "OK ${q#*:} OK" \
		"$(mc "w:create q 8192 quirk-mmap-${q%:*}\n") $(attr q quirk_mmap_mode) $("$BIN/ut" pattern q 4)"
	mc 'w:delete q\n' >/dev/null
done
for bits in 32 64; do
	check "create d 8192 dma-mask=$bits works and the buffer is usable" "OK OK" \
		"$(mc "w:create d 8192 dma-mask=$bits\n") $("$BIN/ut" pattern d 5)"
	mc 'w:delete d\n' >/dev/null
done
phys=$(mc 'w:create d 8192 dma-mask=32\n' >/dev/null; attr d phys_addr)
mc 'w:delete d\n' >/dev/null
if [ -n "$phys" ] && [ $((phys + 8192)) -le $((0x100000000)) ]; then
	ok "dma-mask=32: the buffer lies below 4 GiB ($phys)"
else
	not_ok "dma-mask=32: the buffer lies below 4 GiB" "expected phys_addr + 8192 <= 0x100000000 got '$phys'"
fi
# The boundary values of dma-mask are accepted (12 bits can hardly be satisfied: ENOMEM).
kmark
r=$(mc 'w:create d 4096 dma-mask=12\n')
case $r in
OK | ENOMEM) ok "dma-mask=12 is accepted (got $r: a buffer, or ENOMEM when the platform cannot give memory that low)" ;;
*) not_ok "dma-mask=12 is accepted (a buffer, or ENOMEM when the platform cannot give memory that low)" \
	"expected OK or ENOMEM (§10 lists EINVAL ENODEV EEXIST EBUSY ENOMEM) got $r" "log: $(klog_all | head -n 3)" ;;
esac
mc 'w:delete d\n' >/dev/null
check "options in any order, tabs as separators: create\\tt\\tquirk-mmap-on\\tsize=4096" "OK 4096" \
	"$(mc 'w:create\tt\tquirk-mmap-on\tsize=4096\n') $(attr t size)"
check "leading and trailing blanks, empty commands: '  delete t  ;;\\n\\n'" "OK no" "$(mc 'w:  delete t  ;;\n\n' e:/dev/t)"
name63=$(long_text 63 n)
check "a name of 63 characters works" "OK yes OK" \
	"$(mc "w:create $name63 4096\n" "e:/dev/$name63" "w:delete $name63\n")"

# --- terminators, several commands per write, partial writes, close ---------------------
check "three commands in one write, ended by \\n, ';' and NUL" "OK yes yes yes" \
	"$(mc 'w:create m1 4096\ncreate m2 4096;create m3 4096\0' e:/dev/m1 e:/dev/m2 e:/dev/m3)"
check "a command ended by NUL alone runs" "OK no" "$(mc 'w:delete m1\0' e:/dev/m1)"
check "a command ended by ';' alone runs" "OK no" "$(mc 'w:delete m2;' e:/dev/m2)"
check "a command split over three writes runs when its end arrives, not before" "OK no OK no OK yes" \
	"$(mc 'w:cre' e:/dev/s1 'w:ate s1 40' e:/dev/s1 'w:96\n' e:/dev/s1)"
check "the command split over writes made a 4096-byte buffer" 4096 "$(attr s1 size)"
check "an unterminated command runs at close, not before" "OK no closed yes" \
	"$(mc 'w:create u1 4096' e:/dev/u1 close e:/dev/u1)"
check "an unterminated delete runs at close" "OK yes closed no" \
	"$(mc 'w:delete u1' e:/dev/u1 close e:/dev/u1)"
kmark
check "an unterminated failing command at close: the close works, nothing is created" "OK closed no" \
	"$(mc 'w:create e 0' close e:/dev/e)"
check_match "the failing command at close is logged" '.+' "$(klog_all | head -n 1)"
usable "a failing command at close"
check "a failing command in the middle of a write fails that write; the commands before it ran, the rest of the write is dropped" \
	"EINVAL yes no" "$(mc 'w:create f1 4096\nbogus\ncreate f2 4096\n' e:/dev/f1 e:/dev/f2)"
check "after a failed write the next write on the same file works" "EINVAL OK yes" \
	"$(mc 'w:bogus\n' 'w:create f2 4096\n' e:/dev/f2)"
mc 'w:delete m3;delete s1;delete f1;delete f2\n' >/dev/null
check "the buffers of these tests are gone" "no no no no" "$(mc e:/dev/m3 e:/dev/s1 e:/dev/f1 e:/dev/f2)"

# --- errors -------------------------------------------------------------------------------
err "garbage 'xyzzy'" EINVAL 'xyzzy\n'
err "binary garbage" EINVAL '\x01\x02\xff\xfe\x7f\n'
err "unknown command 'destroy e'" EINVAL 'destroy e\n'
err "'create' without a name" EINVAL 'create\n'
err "'create e' without a size" EINVAL 'create e\n'
err "'delete' without a name" EINVAL 'delete\n'
err "'delete e f': two names" EINVAL 'delete e f\n'
err "unknown option 'frob=1'" EINVAL 'create e 4096 frob=1\n'
err "unknown option 'quirk-mmap-bogus'" EINVAL 'create e 4096 quirk-mmap-bogus\n'
err "a size with junk '4096x'" EINVAL 'create e 4096x\n'
err "a negative size '-4096'" EINVAL 'create e -4096\n'
err "size 0" EINVAL 'create e 0\n'
err "size=0" EINVAL 'create e size=0\n'
err "a size past 64 bits '99999999999999999999'" EINVAL 'create e 99999999999999999999\n'
err "'size=' without a value" EINVAL 'create e size=\n'
err "dma-mask=11" EINVAL 'create e 4096 dma-mask=11\n'
err "dma-mask=65" EINVAL 'create e 4096 dma-mask=65\n'
err "dma-mask=0" EINVAL 'create e 4096 dma-mask=0\n'
err "dma-mask=abc" EINVAL 'create e 4096 dma-mask=abc\n'
err "bus=pci without device=" EINVAL 'create e 4096 bus=pci\n'
err "a name with '/': create e/f" EINVAL 'create e/f 4096\n' /dev/e/f
check "create e/f made nothing in sysfs either" "no no" "$(mc e:$CLASS/e!f e:$CLASS/e)"
err "a name that is only '/'" EINVAL 'create / 4096\n' /dev/e
err "a name with '!' (the driver core would make the node /dev/e/f): create e!f" EINVAL 'create e!f 4096\n' /dev/e/f
err "the name '.'" EINVAL 'create . 4096\n'
err "the name '..'" EINVAL 'create .. 4096\n'
err "the name u-dma-buf-mgr" EINVAL 'create u-dma-buf-mgr 4096\n' $CLASS/u-dma-buf-mgr
name64=$(long_text 64 n)
err "a name of 64 characters" EINVAL "create $name64 4096\n" "/dev/$name64"
err "17 words in one command" EINVAL 'create e 4096 quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on quirk-mmap-on\n'
err "delete of an unknown name" ENODEV 'delete nosuch\n' /dev/nosuch
err "create with a missing PCI parent" ENODEV 'create e 4096 bus=pci device=0000:7f:1f.7\n'
err "create with a missing platform parent" ENODEV 'create e 4096 device=no-such-device\n'
mc 'w:create dup 4096\n' >/dev/null
err "create of a name that exists" EEXIST 'create dup 8192\n' /dev/nonexistent
check "the existing buffer is untouched by the refused create" 4096 "$(attr dup size)"
mc 'w:delete dup\n' >/dev/null
# Sizes that cannot be allocated: the error is ENOMEM (a log line with the cause), never
# a buffer truncated to 32 bits, never a page-allocator WARNING.  On a 32-bit kernel
# (armhf) a size of 4 GiB or more is no size_t: EINVAL, with the whole size in the log
# line (so it was not cut to 32 bits first).
for s in 0x100000000 0x100001000 4G 64G 0xfffffffffffff000 0xffffffffffffffff; do
	kmark
	r=$(mc "w:create e $s\n" e:/dev/e)
	case $WORD_BITS:$s:$r in
	64:*:"ENOMEM no") ok "create e $s (>= 4 GiB, more than the guest has) -> ENOMEM, nothing created" ;;
	*:0xffff*:"EINVAL no") ok "create e $s (past the last page) -> EINVAL, nothing created" ;;
	32:*:"EINVAL no")
		case $s in 4G) dec=4294967296 ;; 64G) dec=68719476736 ;; *) dec=$((s)) ;; esac
		if klog_all | grep -F "$dec" | grep -qi 'invalid\|must be'; then
			ok "create e $s (>= 4 GiB: no 32-bit size_t) -> EINVAL, nothing created, the log names the whole size $dec"
		else
			not_ok "create e $s (>= 4 GiB: no 32-bit size_t) -> EINVAL, nothing created, the log names the whole size" \
				"expected a log line with $dec and the limit got:" "$(klog_all)"
		fi
		;;
	32:*) not_ok "create e $s (>= 4 GiB: no 32-bit size_t) -> EINVAL, nothing created" \
		"expected 'EINVAL no' got '$r' (OK here means a size cut to 32 bits)" ;;
	*) not_ok "create e $s (>= 4 GiB, more than the guest has) -> ENOMEM, nothing created" \
		"expected 'ENOMEM no' got '$r' (EINVAL or OK here means a size cut to 32 bits)" ;;
	esac
	check_match "create e $s: a log line says why" '.+' "$(klog_all | head -n 1)"
	check_log_clean "create e $s: no kernel warning"
done
usable "the sizes >= 4 GiB"

# The log line of an over-long command, and the two ways it can arrive.
long=$(long_text 1100 a)
kmark
check "a 1100-byte line in one write -> EINVAL, nothing created" "EINVAL no" "$(mc "w:create e 4096 $long\n" e:/dev/e)"
check_match "the over-long line is logged as such" '.*longer than 1024.*' "$(klog_all | head -n 1)"
check "after a 1100-byte line failed, the next write on the same file runs its command" "EINVAL OK yes" \
	"$(mc "w:create e 4096 $long\n" 'w:create l1 4096\n' e:/dev/l1)"
mc 'w:delete l1\n' >/dev/null
half=$(long_text 600 b)
check "a 1200-byte line over three writes: the write that passes 1024 bytes -> EINVAL, the end of the line is dropped, the next command runs" \
	"OK EINVAL OK no OK yes" "$(mc "w:create e 4096 $half" "w:$half" "w:$half\n" e:/dev/e 'w:create l2 4096\n' e:/dev/l2)"
mc 'w:delete l2\n' >/dev/null
blanks=$(long_text $((1024 - 14)) ' ')
check "a command of exactly 1024 bytes (padded with blanks) runs" "OK yes" \
	"$(mc "w:create l3 4096$blanks\n" e:/dev/l3)"
check "a command of 1025 bytes -> EINVAL" "EINVAL no" "$(mc "w:create l4 4096$blanks \n" e:/dev/l4)"
mc 'w:delete l3\ndelete l4\n' >/dev/null
usable "the over-long lines"

# --- root only ----------------------------------------------------------------------------
check "uid 65534 cannot open the manager (mode 0600)" "open:EACCES" "$(mc -o 65534 'w:create n1 4096\n')"
# The opener decides (INTERFACE 13.20): an fd root opened works in a process that dropped
# its privileges.
check "opened by root, written after setuid(65534) -> created" "OK yes" \
	"$(mc -u 65534 'w:create n1 4096\n' e:/dev/n1)"
check "opened by root, written by uid 0 without CAP_SYS_ADMIN -> created" "OK yes" \
	"$(mc -c 'w:create n2 4096\n' e:/dev/n2)"
check "delete n1 n2" "OK no no" "$(mc 'w:delete n1;delete n2\n' e:/dev/n1 e:/dev/n2)"
usable "the writes after dropping privileges"

# --- delete while in use ------------------------------------------------------------------
run_tap "$BIN/mgr_busy" busy 65536

# --- the 256-buffer limit -----------------------------------------------------------------
# Counted over every source (§13.7): fill it with the manager, the 257th -> ENOSPC.
kmark
i=0 r=OK
while [ $i -lt 256 ]; do
	r=$(mc "w:create lim$i 4096\n")
	[ "$r" = OK ] || break
	i=$((i + 1))
done
check "256 buffers can be created" "256 OK" "$i $r"
check "the 257th create -> ENOSPC, and nothing is created" "ENOSPC no" "$(mc 'w:create lim256 4096\n' e:/dev/lim256)"
n=$i i=0 fails=0
while [ $i -lt "$n" ]; do
	[ "$(mc "w:delete lim$i\n")" = OK ] || fails=$((fails + 1))
	i=$((i + 1))
done
check "the $n buffers can be deleted" 0 "$fails"
usable "the 256-buffer limit"
check_log_clean "no kernel warning while filling the 256 minors"

cleanup

# --- delete of parameter buffers --------------------------------------------------------
if must_load "insmod udmabuf0=8K udmabuf3=16K" udmabuf0=8K udmabuf3=16K; then
	check "delete udmabuf0 (a parameter buffer): works, node and sysfs directory go" "OK no no" \
		"$(mc 'w:delete udmabuf0\n' e:/dev/udmabuf0 e:$CLASS/udmabuf0)"
	check "create udmabuf0 through the manager right after: works and is usable" "OK OK" \
		"$(mc 'w:create udmabuf0 4096\n') $("$BIN/ut" pattern udmabuf0 6)"
	check "the name of a parameter buffer is taken: create udmabuf3 -> EEXIST" EEXIST \
		"$(mc 'w:create udmabuf3 4096\n')"
	"$BIN/ut" pattern udmabuf3 1 >/dev/null
	exec 8</dev/udmabuf3
	check "delete of a parameter buffer that is open -> EBUSY" "EBUSY yes" "$(mc 'w:delete udmabuf3\n' e:/dev/udmabuf3)"
	exec 8<&-
	check "after the close it can be deleted" "OK no" "$(mc 'w:delete udmabuf3\n' e:/dev/udmabuf3)"
	must_unload "rmmod with the manager's udmabuf0 in place of the parameter buffer"
fi

# --- rmmod with manager buffers in place --------------------------------------------------
if must_load "insmod for rmmod with manager buffers"; then
	mc 'w:create r1 4096;create r2 65536 quirk-mmap-off;create r3 8192\n' >/dev/null
	must_unload "rmmod while three manager buffers exist removes them"
	check "no node of the manager buffers, nor the manager's, is left after rmmod" "" \
		"$(ls /dev/r1 /dev/r2 /dev/r3 $MGR $CLASS/r1 2>/dev/null)"
fi
check_log_clean "no kernel warning in the manager suite"
finish
