#!/bin/sh
# 96-fuzz: the seeded fuzzer (fuzz.c; issue 10).  Four processes do random operations on
# random buffers (manager lines valid and malformed, open/mmap/munmap/mremap/madvise/fork,
# read/write/lseek with bad offsets and pointers, every ioctl, sysfs writes, EXPORT and
# dma-buf mmap/sync, vmsplice, O_DIRECT, rmmod while in use, PCI removal of a parent,
# unbind/bind of a parameter buffer's platform device) for FUZZ_SECONDS (default 60, and
# 180 on the debug kernel, where KASAN makes every operation slow; the file
# /t/fuzz-seconds, when present, says how long).  The seed comes from /dev/urandom
# (or the file /t/fuzz-seed) and is printed so that a failing run replays.  Afterwards
# every leftover buffer is deleted, the kernel log must be clean and rmmod must work.
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mc() { "$BIN/mgr_cmd" "$@"; }

default=60
case $KREL in *-udmabuf-debug) default=180 ;; esac
secs=${FUZZ_SECONDS:-$default}
[ -r /t/fuzz-seconds ] && secs=$(tr -dc 0-9 </t/fuzz-seconds)
[ -n "$secs" ] || secs=$default
seed=$(od -An -N4 -tu4 /dev/urandom | tr -dc 0-9)
[ -r /t/fuzz-seed ] && seed=$(tr -dc 0-9 </t/fuzz-seed)
diag "fuzz seed $seed: replay with fuzz --seed $seed --seconds $secs"

# Parameter buffers: at most 4 MiB where there is no CMA (Debian's amd64 kernels).
CMA_KB=$(meminfo CmaTotal)
if [ "${CMA_KB:-0}" -gt 65536 ]; then SZ0=8M; else SZ0=1M; fi
kmark
if ! must_load "insmod udmabuf0=$SZ0 udmabuf1=64K for the fuzzer" udmabuf0=$SZ0 udmabuf1=64K info_enable=0; then
	finish
fi

EDU=$("$BIN/mgr_edu" find)
set -- --seed "$seed" --seconds "$secs" --procs 4 --shared udmabuf0 --shared udmabuf1 --unbind u-dma-buf.1 udmabuf1
if [ -n "$EDU" ]; then
	set -- "$@" --edu "$EDU"
else
	diag "no edu PCI device: the fuzzer runs without a parent to remove"
fi

# rmmod while the fuzzer runs: the manager held open here keeps the module in use.
exec 9>/dev/u-dma-buf-mgr
"$BIN/fuzz" "$@" &
fuzz=$!
sleep 2
check "rmmod while the fuzzer runs (module in use) -> EAGAIN" EAGAIN "$("$BIN/modctl" unload $MODNAME)"
check "the module is still loaded after the refused rmmod" yes "$(loaded && echo yes || echo no)"
wait $fuzz
st=$?
exec 9>&-
[ $st -eq 0 ] || not_ok "fuzz ran to the end" "expected exit status 0 got $st"

# The parent comes back if the fuzzer left it removed.
if [ -n "$EDU" ] && [ ! -e "/sys/bus/pci/devices/$EDU" ]; then
	echo 1 >/sys/bus/pci/rescan
fi
if [ -n "$EDU" ]; then
	check "edu is on the PCI bus after the fuzzer" "$EDU" "$("$BIN/mgr_edu" find)"
fi

# Leftovers: the workers delete their private buffers (fzp*) themselves; shared ones stay.
left=
for d in "$CLASS"/*; do
	[ -e "$d" ] || continue
	n=${d##*/}
	case $n in
	fzp*) left="$left $n" ;;
	esac
	r=$(mc "w:delete $n\n")
	[ "$r" = OK ] || not_ok "delete leftover buffer $n after the fuzzer" "expected OK got $r"
done
check "no private buffer of a worker is left after the fuzzer" "" "${left# }"
check "no buffer is left after deleting the leftovers" "" "$(ls "$CLASS" 2>/dev/null)"
check_log_clean "no kernel warning during the fuzzer (seed $seed)"
must_unload "rmmod after the fuzzer"
finish
