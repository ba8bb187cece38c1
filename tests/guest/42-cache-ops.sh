#!/bin/sh
# 42-cache-ops: every way to ask for cache maintenance, seen from the kernel's side.
# QEMU models no caches, so data read back proves nothing about a sync: what these checks
# see is the DMA-API sync call the module made (kprobes on the DMA API's sync entry points,
# lib.sh dma_probe_*): which device, address, size and direction, for each request of
# INTERFACE.md §5.2 (sysfs, stored and encoded), §8 (the sync ioctls), §4 (read()/write()
# with O_SYNC or sync-always), §13.10 (fsync/msync), §5.1 (the write-back before an
# uncached mapping), §9 (DMA_BUF_IOCTL_SYNC) and §10b (u_dma_buf_device_sync()).
# Where the DMA API makes no call (a DMA-coherent device on 6.12, or coherent memory of
# mmap mode off, which must get no sync at all), the expectation is "no call", and the
# check name says which applies.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mc() { "$BIN/mgr_cmd" "$@"; }
# shellcheck disable=SC2317 # called through expect
req() { "$BIN/syncreq" "$@" 2>&1; }
KAPI=$KMOD/udmabuf_kapi_test.ko
KAPI_SYNC=/sys/module/udmabuf_kapi_test/parameters/sync

if ! must_load "insmod with no buffer"; then
	finish
fi
if ! dma_probe_start; then
	skip "every cache-maintenance request is seen in the DMA API" "$DMA_PROBE_WHY"
	finish
fi

# The buffer of the checks (16 pages, default mmap mode: memory with pages, which gets
# the syncs) and one in mmap mode off (coherent memory, which must get none).
B=cs
SZ=65536
check "create $B $SZ" OK "$(mc "w:create $B $SZ\n")"
check "create cs-off $SZ quirk-mmap-off" OK "$(mc "w:create cs-off $SZ quirk-mmap-off\n")"
PHYS=$(attr $B phys_addr)
if dma_probe_needed $B; then
	NEEDED=1
	if [ "$KVER" = 6.1 ]; then
		WHY="6.1 calls the DMA API for every device"
	else
		WHY="$B is not DMA-coherent: the call must reach the DMA API"
	fi
else
	NEEDED=0
	WHY="$B is DMA-coherent and $KVER's DMA API makes no call for it: none expected"
fi

# call WHO OFF SIZE DIR: the line of one sync of buffer $B (lib.sh dma_probe_read).
call() {
	printf '%s single dev=%s addr=0x%x size=%d dir=%d' "$1" $B $((PHYS + $2)) "$3" "$4"
}
# calls DEV: DEV's sync calls since the last read, ';' between them.
calls() { dma_probe_read | grep " dev=$1 " | sed 's/ *$//' | tr '\n' ';' | sed 's/;$//'; }
# expect WHAT EXPECTED CMD...: runs CMD, which prints OK, and checks that buffer $B got
# exactly the calls EXPECTED (';' between them; none where the DMA API makes none).
expect() {
	_w=$1 _e=$2
	shift 2
	dma_probe_read >/dev/null
	_r=$("$@")
	_c=$(calls $B)
	[ $NEEDED = 1 ] || _e=
	check "$_w ($WHY)" "OK|$_e" "$_r|$_c"
}
# expect_none DEV WHAT CMD...: CMD gets no sync call for DEV at all.
expect_none() {
	_d=$1 _w=$2
	shift 2
	dma_probe_read >/dev/null
	_r=$("$@")
	check "$_w" "OK|" "$_r|$(calls "$_d")"
}
# stored DEV WHO OFF SIZE DIR: the stored range set through sysfs, then "1" written to
# sync_for_WHO.
stored() {
	echo "$(wr "$1" sync_offset "$3")$(wr "$1" sync_size "$4")$(wr "$1" sync_direction "$5")$(wr "$1" "sync_for_$2" 1)" |
		sed 's/^OKOKOKOK$/OK/'
}
# encoded OFF SIZE DIR: the encoded command of §5.2, as text.
encoded() { printf '0x%08X%08X' "$1" $(($2 | $3 << 2 | 1)); }

# --- allocation: the allocator zeroed the pages through the cache, which is written back
dma_probe_read >/dev/null
check "create cs-new $SZ" OK "$(mc "w:create cs-new $SZ\n")"
NEWPHYS=$(attr cs-new phys_addr)
exp=$(printf 'device single dev=cs-new addr=0x%x size=%d dir=1' $((NEWPHYS)) $SZ)
[ $NEEDED = 1 ] || exp=
check "create: the zeroed pages written back once, the whole buffer to the device ($WHY)" "$exp" "$(calls cs-new)"
gone cs-new

# --- sysfs: the stored range, and the encoded one-off command -------------------------
for who in cpu device; do
	for dir in 0 1 2; do
		expect "sysfs: stored range offset 4096 size 8192 direction $dir, 1 written to sync_for_$who: one $who sync of that range in that direction" \
			"$(call $who 4096 8192 $dir)" stored $B $who 4096 8192 $dir
		expect "sysfs: stored unaligned range offset 16 size 48 direction $dir, sync_for_$who: one $who sync of exactly those bytes" \
			"$(call $who 16 48 $dir)" stored $B $who 16 48 $dir
		expect "sysfs: encoded command $(encoded 8192 4096 $dir) written to sync_for_$who: one $who sync of offset 8192 size 4096 direction $dir" \
			"$(call $who 8192 4096 $dir)" wr $B "sync_for_$who" "$(encoded 8192 4096 $dir)"
	done
	expect "sysfs: encoded command with direction 3 (bidirectional) to sync_for_$who: direction 0" \
		"$(call $who 0 $SZ 0)" wr $B "sync_for_$who" "$(encoded 0 $SZ 3)"
	expect "sysfs: 0 written to sync_for_$who: no sync" "" wr $B "sync_for_$who" 0
	expect "sysfs: a range past the end written to sync_for_$who: EINVAL and no sync" "" \
		sh -c "[ \"\$($BIN/ut wr $CLASS/$B/sync_for_$who $(encoded 61440 8192 0))\" = EINVAL ] && echo OK"
done
check "sysfs: the one-off commands left the stored range alone (offset 16, size 48)" "0x10 48" \
	"$(attr $B sync_offset) $(attr $B sync_size)"

# --- ioctls: SET_SYNC_FOR_CPU/DEVICE (stored and encoded), SET_SYNC -------------------
for who in cpu device; do
	stored $B $who 12288 4096 2 >/dev/null
	expect "ioctl SET_SYNC_FOR_$(echo $who | tr "[:lower:]" "[:upper:]") 1: the stored range (offset 12288 size 4096 direction 2)" \
		"$(call $who 12288 4096 2)" req $B ioctl-$who 1
	for dir in 0 1 2; do
		expect "ioctl SET_SYNC_FOR_$(echo $who | tr "[:lower:]" "[:upper:]") $(encoded 4096 32768 $dir): offset 4096 size 32768 direction $dir" \
			"$(call $who 4096 32768 $dir)" req $B ioctl-$who "$(encoded 4096 32768 $dir)"
		expect "ioctl SET_SYNC command $who, offset 20480 size 1024 direction $dir: that range, that direction" \
			"$(call $who 20480 1024 $dir)" req $B set-sync $who 20480 1024 $dir
	done
	expect "ioctl SET_SYNC_FOR_$(echo $who | tr "[:lower:]" "[:upper:]") 0: no sync" "" req $B ioctl-$who 0
done

# --- read()/write(): synced when O_SYNC or sync-always (sync_mode bit 2) ---------------
for mode in 0 1 4 5; do
	wr $B sync_mode $mode >/dev/null
	for o in plain sync; do
		what=read exp_r="$(call cpu 8192 4096 2)" exp_w="$(call device 12288 100 1)"
		if [ $o = plain ] && [ $((mode & 4)) = 0 ]; then
			exp_r='' exp_w=''
			what="no sync"
		fi
		expect "read() of 4096 bytes at 8192, sync_mode $mode, $o fd: $([ -n "$exp_r" ] && echo 'a cpu sync of those bytes, from the device' || echo "$what")" \
			"$exp_r" req $B read 8192 4096 $o
		expect "write() of 100 bytes at 12288, sync_mode $mode, $o fd: $([ -n "$exp_w" ] && echo 'a device sync of those bytes, to the device' || echo "$what")" \
			"$exp_w" req $B write 12288 100 $o
	done
done

# --- fsync()/msync(): write-back of the range asked for, the owner unchanged -----------
wr $B sync_mode 1 >/dev/null
expect "fsync(): a device sync of the whole buffer, to the device" "$(call device 0 $SZ 1)" req $B fsync
expect "msync() of page 1 of a mapping from page 4: a device sync of buffer page 5" \
	"$(call device 20480 4096 1)" req $B msync 4 4 1

# --- mmap(): an uncached view writes back the kernel's cached alias of its pages first --
# Where the mapping is uncached (§5.1); on x86 RAM stays write-back whatever is asked
# (PAT), so there is no uncached view and nothing to write back.
for mode in 0 1 2 3 4 5 6 7; do
	wr $B sync_mode $mode >/dev/null
	for o in plain sync; do
		flav=$((mode & 3))
		[ $o = plain ] && [ $((mode & 4)) = 0 ] && flav=0
		[ "$ARCH" = amd64 ] && flav=0
		if [ $flav = 0 ]; then
			expect "mmap of pages 2..5, sync_mode $mode, $o fd: a cached view, no sync" "" req $B mmap 2 4 $o
		else
			expect "mmap of pages 2..5, sync_mode $mode, $o fd: an uncached view, the 4 pages written back first" \
				"$(call device 8192 16384 1)" req $B mmap 2 4 $o
		fi
	done
done
wr $B sync_mode 1 >/dev/null

# --- dma-buf: DMA_BUF_IOCTL_SYNC START and END ---------------------------------------
for rw in read:2 write:1 rw:0; do
	expect "dma-buf of 8192 bytes at 4096, SYNC START|END with ${rw%:*}: a cpu then a device sync of that range, direction ${rw#*:}" \
		"$(call cpu 4096 8192 "${rw#*:}");$(call device 4096 8192 "${rw#*:}")" req $B dmabuf 4096 8192 "${rw%:*}"
done

# --- the in-kernel API: u_dma_buf_device_sync() ---------------------------------------
if [ -e "$KAPI" ] && [ "$("$BIN/modctl" load "$KAPI" checks=0)" = OK ]; then
	# shellcheck disable=SC2317 # called through expect
	ksync() {
		kmark
		echo "$*" >"$KAPI_SYNC"
		klog | sed -n "s/^udmabuf_kapi_test: sync $B: 0$/OK/p"
	}
	expect "u_dma_buf_device_sync(cmd 1, dir 2, offset 4096, size 8192): one cpu sync of that range, from the device" \
		"$(call cpu 4096 8192 2)" ksync $B 1 2 4096 8192
	expect "u_dma_buf_device_sync(cmd 2, dir 1, offset 0, size 4096): one device sync of that range, to the device" \
		"$(call device 0 4096 1)" ksync $B 2 1 0 4096
	expect "u_dma_buf_device_sync(cmd 2, dir 0, offset 32768, size -1 = the stored size 4096): a device sync, bidirectional" \
		"$(call device 32768 4096 0)" ksync $B 2 0 32768 -1
	expect "u_dma_buf_device_sync(cmd 0): stores only, no sync" "" ksync $B 0 0 0 4096
	check "rmmod udmabuf_kapi_test" OK "$("$BIN/modctl" unload udmabuf_kapi_test)"
else
	skip "u_dma_buf_device_sync() makes the sync it is asked for" "no $KAPI in this guest, or it does not load"
fi

# --- mmap mode off: coherent memory gets no sync, whatever is asked --------------------
C=cs-off
expect_none $C "mode off: sysfs sync_for_cpu 1: no DMA-API sync (coherent memory)" wr $C sync_for_cpu 1
expect_none $C "mode off: sysfs sync_for_device 1: no DMA-API sync" wr $C sync_for_device 1
expect_none $C "mode off: ioctl SET_SYNC_FOR_DEVICE with an encoded range: no DMA-API sync" \
	req $C ioctl-device "$(encoded 0 4096 1)"
expect_none $C "mode off: read() and write() on an O_SYNC fd: no DMA-API sync" \
	sh -c "$BIN/syncreq $C read 0 4096 sync >/dev/null && $BIN/syncreq $C write 0 4096 sync"
expect_none $C "mode off: mmap on an O_SYNC fd: no DMA-API sync" req $C mmap 0 4 sync
expect_none $C "mode off: fsync(): no DMA-API sync" req $C fsync
expect_none $C "mode off: dma-buf SYNC START|END: no DMA-API sync" req $C dmabuf 0 8192 rw

dma_probe_stop
gone $B $C
check_log_clean "no kernel warning from the cache-maintenance requests"
finish
