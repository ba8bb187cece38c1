#!/bin/sh
# make bench, in the guest (bench/run boots it through tests/run with this directory as
# U_DMA_BUF_GUEST_DIR): `udmabuf bench --json` on buffers of 64 KiB ... 64 MiB (4 MiB at
# most where there is no CMA: Debian's amd64 kernels), each made by the manager, one
# line `BENCH-JSON <bytes> <json>` each for bench/report.py.  TAP: one test per size that
# the bench ran and printed JSON; nothing about speed.
U=/t/bin/udmabuf
MOD=${MOD:-/t/u-dma-buf.ko}
CMA_KB=$(awk '$1 == "CmaTotal:" { print $2 }' /proc/meminfo)
CMA_KB=${CMA_KB:-0}
SIZES=${BENCH_SIZES:-}
if [ -z "$SIZES" ]; then
	if [ "$CMA_KB" -gt 0 ]; then
		SIZES="64K 256K 1M 4M 16M 32M 64M"
	else
		SIZES="64K 256K 1M 4M"
	fi
fi
DIRECT=
[ -b /dev/vda ] && DIRECT="--direct /dev/vda"
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
echo "# bench: $ARCH $KREL, CmaTotal ${CMA_KB} kB, sizes: $SIZES; O_DIRECT: ${DIRECT:-none (no /dev/vda)}"
echo "BENCH-ENV {\"arch\": \"$ARCH\", \"kver\": \"$KVER\", \"krel\": \"$KREL\", \"cma_kb\": $CMA_KB, \"sizes\": \"$SIZES\", \"direct\": \"${DIRECT#--direct }\"}"
if ! insmod "$MOD" info_enable=0; then
	echo "not ok - bench: insmod u-dma-buf"
	exit 0
fi
for s in $SIZES; do
	name=bench$s
	if ! $U create "$name" "$s" quirk-mmap-auto 2>/tmp/bench.err; then
		echo "not ok - bench $s: create the buffer"
		sed 's/^/# /' /tmp/bench.err
		continue
	fi
	start=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086 # DIRECT is two words or none
	if $U --json bench "$name" --no-progress --kprobe u_dma_buf:udmabuf_vm_fault $DIRECT \
		>/tmp/bench.json 2>/tmp/bench.err && grep -q '^{.*}$' /tmp/bench.json; then
		bytes=$(cat "/sys/class/u-dma-buf/$name/size")
		echo "BENCH-JSON $bytes $(cat /tmp/bench.json)"
		echo "ok - bench $s ran ($(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.0f", b - a }') s)"
	else
		echo "not ok - bench $s"
		sed 's/^/# /' /tmp/bench.err /tmp/bench.json
	fi
	sed 's/^/# stderr: /' /tmp/bench.err
	# the human table too, once, at the size of the README's table
	if [ "$s" = 32M ] || { [ "$CMA_KB" -eq 0 ] && [ "$s" = 4M ]; }; then
		# shellcheck disable=SC2086
		$U bench "$name" --no-progress $DIRECT 2>&1 | sed 's/^/BENCH-TABLE /'
	fi
	$U delete "$name" || echo "not ok - bench $s: delete the buffer"
done
# Diagnosis of O_DIRECT into the mapping: which path pinning the user pages takes (kprobe
# hits of the GUP functions this kernel lets us probe), into malloc'd memory and into the
# mapping, 2 passes of DIAG_MB MiB each in 1 MiB reads.  One line BENCH-DIAG each.
T=/sys/kernel/tracing
DIAG_MB=4
if [ -b /dev/vda ] && [ -w $T/kprobe_events ] && $U create benchdiag ${DIAG_MB}M quirk-mmap-auto; then
	probes=
	for f in gup_fast_fallback internal_get_user_pages_fast __gup_longterm_locked __get_user_pages \
		follow_page_mask follow_page_pte vm_normal_page; do
		grep -q " $f\$" /proc/kallsyms || continue
		echo "p:bdiag/$f $f" >>$T/kprobe_events 2>/dev/null && probes="$probes $f"
	done
	echo 1 >$T/events/bdiag/enable 2>/dev/null
	hits() { for f in $probes; do awk -v f="$f" '$1 == f { printf "%s=%s ", f, $2 }' $T/kprobe_profile; done; }
	for target in malloc mapping; do
		before=$(hits)
		mbps=$(/t/bin/dio /dev/vda $((DIAG_MB << 20)) $target benchdiag)
		echo "BENCH-DIAG odirect into=$target MBps=$mbps before: $before after: $(hits)"
	done
	echo 0 >$T/events/bdiag/enable 2>/dev/null
	for f in $probes; do echo "-:bdiag/$f" >>$T/kprobe_events; done
	$U delete benchdiag
fi
rmmod u_dma_buf
exit 0
