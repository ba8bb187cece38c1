#!/bin/sh
# 85-races: 200 create/delete cycles through /dev/u-dma-buf-mgr racing with readers in
# other processes that open, read, mmap and stat whatever exists (INTERFACE.md §10,
# §10b, §12.1); then the same against buffers bound to edu while it is removed and
# rescanned.  The harness checks the kernel log (KASAN, lockdep, ...) at the end.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mc() { "$BIN/mgr_cmd" "$@"; }

if ! must_load "insmod with no buffer" info_enable=0; then
	finish
fi
kmark
run_tap "$BIN/mgr_race" 200 2 16384
check_log_clean "no kernel warning during the 200 racing cycles"

# Concurrent managers with names of their own: nothing can legitimately fail, so every
# create and delete must work (the minors they share are free again once a delete
# returned).
kmark
i=0
while [ $i -lt 3 ]; do
	(
		j=0 bad=
		while [ $j -lt 60 ]; do
			r=$(mc "w:create own$i 8192\n" "w:delete own$i\n")
			[ "$r" = "OK OK" ] || bad="$bad round $j: $r;"
			j=$((j + 1))
		done
		echo "${bad:-none}" >/tmp/own$i
	) &
	i=$((i + 1))
done
wait
check "three concurrent manager writers with names of their own, 60 create/delete rounds each: every command works" \
	"none none none" "$(cat /tmp/own0 /tmp/own1 /tmp/own2 | tr '\n' ' ' | sed 's/ $//')"
check_log_clean "no kernel warning from the writers with names of their own"

# Concurrent managers: four writers create and delete their own names at once, and try
# each other's (EEXIST / ENODEV / EBUSY are the only errors).
kmark
i=0
while [ $i -lt 4 ]; do
	(
		j=0 bad=0
		while [ $j -lt 25 ]; do
			r=$(mc "w:create w$i-$j 8192\n" "w:create w$(((i + 1) % 4))-$j 4096\n" "w:delete w$i-$j\n" \
				"w:delete w$(((i + 1) % 4))-$j\n")
			for word in $r; do
				case $word in OK | EEXIST | ENODEV | EBUSY) ;; *) bad=$((bad + 1)) ;; esac
			done
			j=$((j + 1))
		done
		echo "$bad" >/tmp/writer$i
	) &
	i=$((i + 1))
done
wait
check "four concurrent manager writers, 25 rounds each: only OK, EEXIST, ENODEV, EBUSY" "0 0 0 0" \
	"$(cat /tmp/writer0 /tmp/writer1 /tmp/writer2 /tmp/writer3 | tr '\n' ' ' | sed 's/ $//')"
check "after the writers no w* buffer is left" "" "$(cd /dev && ls -d w[0-3]-* 2>/dev/null)"
check_log_clean "no kernel warning from the concurrent writers"

# Parent removal racing with users: buffers bound to edu are created, opened and mapped
# by a reader while edu is removed and rescanned, five times.
EDU=$("$BIN/mgr_edu" find)
if [ -n "$EDU" ]; then
	kmark
	fails=
	n=1
	while [ $n -le 5 ]; do
		r=$(mc "w:create er$n 65536 bus=pci device=$EDU\n")
		[ "$r" = OK ] || fails="$fails create:$r"
		"$BIN/ut" pattern "er$n" "$n" >/dev/null &
		reader=$!
		echo 1 >"/sys/bus/pci/devices/$EDU/remove"
		wait $reader
		[ -e "/dev/er$n" ] && fails="$fails er$n-left"
		echo 1 >/sys/bus/pci/rescan
		[ "$("$BIN/mgr_edu" find)" = "$EDU" ] || fails="$fails no-rescan"
		n=$((n + 1))
	done
	check "five rounds of create bound to edu, a user at work, PCI remove, rescan: nodes gone, edu back" "" "$fails"
	check_log_clean "no kernel warning from removing the parent under a user"
else
	not_ok "the QEMU edu device is on the PCI bus" "expected 1234:11e8 got none"
fi
must_unload "rmmod after the races"
finish
