#!/bin/sh
# 45-mmap-batch: mmap() maps nothing itself; the first access to a part of the mapping maps
# a 2 MiB window of it in one driver fault (issue 12).  So mmap() and munmap() of an
# untouched mapping cost the same at any size, and a pass over the buffer costs one driver
# fault per window, not one per page.  Seen through the mapping's Rss (/proc/self/smaps;
# ordinary pages only, so where there is CMA) and a kprobe on the module's fault handler.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mc() { "$BIN/mgr_cmd" "$@"; }
# between N LO HI: LO <= N <= HI
# shellcheck disable=SC2317 # called through check_true
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
# 8 MiB where there is CMA for ordinary pages; 4 MiB (the page allocator's largest block
# on arm64 and amd64) where not.
SZ=$((8 << 20))
[ "$CMA_PAGES_KB" -eq 0 ] && SZ=$((4 << 20))
MAXF=$((SZ / (2 << 20) + 1))

if ! must_load "insmod with no buffer"; then
	finish
fi
# faults_start / faults_read: driver faults (udmabuf_vm_fault calls) in between.
faults_start() {
	[ -d $TRACEFS/events ] || mount -t tracefs nodev $TRACEFS 2>/dev/null
	[ -w $TRACEFS/kprobe_events ] || return 1
	echo >$TRACEFS/kprobe_events
	echo "p:udmabuf/vmfault u_dma_buf:udmabuf_vm_fault" >>$TRACEFS/kprobe_events || return 1
	echo 1 >$TRACEFS/events/udmabuf/enable
	echo >$TRACEFS/trace
}
faults_read() {
	_n=$(grep -c ' vmfault:' $TRACEFS/trace || true)
	echo 0 >$TRACEFS/events/udmabuf/enable
	echo >$TRACEFS/kprobe_events
	echo "$_n"
}

for mode in default page; do
	name=mb-$mode
	opt=
	[ $mode = page ] && opt=" quirk-mmap-page"
	check "create $name $((SZ >> 20))M$opt" OK "$(mc "w:create $name $SZ$opt\n")"
	[ -e "/dev/$name" ] || continue
	if faults_start; then
		r=$("$BIN/mmapcost" $name)
		n=$(faults_read)
		check_true "$name: a pass over all $((SZ >> 20)) MiB of a fresh mapping takes 1..$MAXF driver faults (a 2 MiB window each; the mapping need not start on a 2 MiB boundary)" \
			"got $n faults ($r)" between "$n" 1 $MAXF
	else
		skip "$name: driver faults of a pass" "no kprobe events on this kernel"
		r=$("$BIN/mmapcost" $name)
	fi
	if ! pages_for $((SZ >> 10)); then
		skip "$name: what an mmap() maps, by Rss" "no memory for ordinary pages of this size here (CmaTotal $(meminfo CmaTotal) kB, HighTotal $(meminfo HighTotal) kB, page allocator $BUDDY_MAX_KB kB): the buffer is mapped as page frames, which Rss does not count"
	else
		# shellcheck disable=SC2086 # the words of the line
		set -- $r
		check "$name: right after mmap() nothing is mapped (Rss 0)" "mapped=0" "$2"
		first=${3#first=}
		check_true "$name: reading the first byte maps one window: 0 < Rss <= 2048 kB" "got $3" \
			between "$first" 4 2048
		check "$name: after a pass every page is mapped (Rss $((SZ >> 10)) kB)" "all=$((SZ >> 10))" "$5"
		r=$("$BIN/mmapcost" $name 3)
		# shellcheck disable=SC2086 # the words of the line
		set -- $r
		check "$name: a mapping from page 3: nothing mapped at mmap(), everything after a pass" \
			"mapped=0 all=$(((SZ >> 10) - 12))" "$2 $5"
	fi
	check "delete $name" OK "$(mc "w:delete $name\n")"
done
check_log_clean "no kernel warning from the batched faults"
finish
