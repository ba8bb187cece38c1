#!/bin/sh
# 86-adversary: the defects a hostile review found (issue 10), each as the user or the
# buggy program that hits it: EXPORT and SET_SYNC from a read-only fd (INTERFACE.md §13.15),
# pages a pipe still holds after munmap + close (§13.17), MADV_DONTNEED on a page-mode
# mapping (§13.18), the DMA address after the parent went (§13.19), the manager's opener
# credentials (§13.20), debug_vma's mode and log rate, the global lock during a large
# allocation, msync of one page, unknown bus names (§10) and EXPORT in mmap mode off (§9).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

MGR=/dev/u-dma-buf-mgr
mc() { "$BIN/mgr_cmd" "$@"; }
klog_all() { klog | grep -E '^u-dma-buf' || true; }
# gone NAME...: deletes the buffers a test left (quietly).

# Mappings made of ordinary pages (§6): the 64 KiB buffers below always are (lib.sh pages_for).
NO_PAGES="a 64 KiB buffer is not ordinary pages here (CmaTotal $(meminfo CmaTotal) kB, page allocator $BUDDY_MAX_KB kB): it is mapped as page frames, which no one can pin or zap"

if ! must_load "insmod with no buffer" info_enable=1; then
	finish
fi

# --- 17: bus names (§10) ----------------------------------------------------------------
kmark
check "create adv-bus 4096 bus=nosuchbus device=y -> EINVAL (an unknown bus is a bad command)" "EINVAL no" \
	"$(mc 'w:create adv-bus 4096 bus=nosuchbus device=y\n' e:/dev/adv-bus)"
check_match "the unknown bus is logged" '.+' "$(klog_all | head -n 1)"
check "create adv-bus 4096 bus=pci device=0000:ff:1f.7 -> ENODEV (a known bus without that device)" "ENODEV no" \
	"$(mc 'w:create adv-bus 4096 bus=pci device=0000:ff:1f.7\n' e:/dev/adv-bus)"
check "the manager still creates and deletes after both" "OK yes OK no" \
	"$(mc 'w:create adv-bus 4096\n' e:/dev/adv-bus 'w:delete adv-bus\n' e:/dev/adv-bus)"

# --- 8: debug_vma ---------------------------------------------------------------------------
if [ "$(mc 'w:create adv-vma 16384\n')" = OK ] && [ -e "$CLASS/adv-vma/debug_vma" ]; then
	check "debug_vma has mode 0644 (root only: it fills the kernel log)" 644 \
		"$(stat -c %a "$CLASS/adv-vma/debug_vma")"
	check "debug_vma=1 is accepted" OK "$(wr adv-vma debug_vma 1)"
	kmark
	check "200 mmap/munmap cycles of adv-vma with debug_vma=1" OK "$("$BIN/adv_mmap" cycles adv-vma 200)"
	n=$(klog | grep -c 'vma open')
	if [ "$n" -ge 1 ] && [ "$n" -le 20 ]; then
		ok "debug_vma=1: 200 mmap/munmap cycles log $n 'vma open' lines (rate-limited, at least one)"
	else
		not_ok "debug_vma=1: 200 mmap/munmap cycles log 1 to 20 'vma open' lines (rate-limited)" \
			"expected 1..20 got $n" "$(klog | grep 'vma open' | head -n 3)"
	fi
	wr adv-vma debug_vma 0 >/dev/null
else
	not_ok "create adv-vma 16384, which has debug_vma" "expected a buffer with $CLASS/adv-vma/debug_vma"
fi
gone adv-vma

# --- a short write() loses no data --------------------------------------------------------
if [ "$(mc 'w:create adv-sw 16384\n')" = OK ]; then
	run_tap "$BIN/adv_shortwrite" adv-sw
else
	not_ok "create adv-sw 16384" "expected OK"
fi
gone adv-sw

# --- 1: access follows the file (§13.15) -------------------------------------------------
# quirk-mmap-on: exportable on every kernel, old and new.
if [ "$(mc 'w:create adv-acc 65536 quirk-mmap-on\n')" = OK ]; then
	run_tap "$BIN/adv_ioctl" access adv-acc
else
	not_ok "create adv-acc 65536 quirk-mmap-on" "expected OK"
fi
gone adv-acc

# --- 18: EXPORT in mmap mode off (§9) ----------------------------------------------------
KO=${KMOD:-/t/kmod}/udmabuf_import_test.ko
# importer DEV: the kernel importer attaches, maps and vmaps an export of DEV.
importer() {
	if [ ! -e "$KO" ]; then
		skip "$1: a kernel importer attaches, maps and vmaps the export" "no $KO"
		return 0
	fi
	kmark
	run_tap "$BIN/export_test" import "$1" "$KO"
	_il=$(klog | sed -n 's/^udmabuf_import_test: //p')
	printf '%s\n' "$_il" | sed -n -e "s/^ok - /ok - $1: importer: /p" -e "s/^not ok - /not ok - $1: importer: /p"
	if printf '%s\n' "$_il" | grep -qx 'done'; then
		ok "$1: the importer ran to the end"
	else
		not_ok "$1: the importer ran to the end" "expected a done line got:" "${_il:-(none)}"
	fi
	grep -q '^udmabuf_import_test ' /proc/modules && "$BIN/modctl" unload udmabuf_import_test >/dev/null
	return 0
}
if [ "$(mc 'w:create adv-off 65536 quirk-mmap-off\n')" = OK ]; then
	check "adv-off: quirk_mmap_mode reads 1 (off)" 1 "$(attr adv-off quirk_mmap_mode)"
	run_tap "$BIN/adv_ioctl" export adv-off
	importer adv-off
else
	not_ok "create adv-off 65536 quirk-mmap-off" "expected OK"
fi
gone adv-off

# --- 16: msync of one page syncs that page --------------------------------------------------
# dma_probe_needed: on 6.12 a DMA-coherent device gets no call at all (the inline wrappers
# skip it), so there is nothing to see.
if [ "$(mc 'w:create adv-ms 65536 quirk-mmap-on\n')" = OK ]; then
	phys=$(attr adv-ms phys_addr)
	# probe_lines: this buffer's sync calls, the direction left out.
	probe_lines() { dma_probe_read | grep " dev=adv-ms " | sed 's/ dir=.*//'; }
	if ! dma_probe_needed adv-ms; then
		skip "msync of one page syncs that page only; fsync syncs the whole buffer" \
			"adv-ms is DMA-coherent (dma_coherent=$(attr adv-ms dma_coherent)) on $KVER: the DMA API makes no sync call to see"
	elif ! dma_probe_start; then
		skip "msync of one page syncs that page only; fsync syncs the whole buffer" "$DMA_PROBE_WHY"
	else
		dma_probe_read >/dev/null
		# A mapping from buffer page 2; its page 1 is buffer page 3.
		r=$("$BIN/adv_mmap" msync adv-ms 2 1)
		got=$(probe_lines)
		check "msync(MS_SYNC) of one page of a mapping works" OK "$r"
		check "msync of the mapping's page 1 (buffer page 3): exactly one device sync, 4096 bytes at phys_addr + 3*4096" \
			"device single dev=adv-ms addr=$(printf '0x%x' $((phys + 3 * 4096))) size=4096" "$got"
		r=$("$BIN/adv_mmap" fsync adv-ms)
		got=$(probe_lines)
		check "fsync() of the node works" OK "$r"
		check "fsync() of the node: one device sync of the whole buffer (65536 bytes at phys_addr)" \
			"device single dev=adv-ms addr=$(printf '0x%x' $((phys))) size=65536" "$got"
		dma_probe_stop
	fi
else
	not_ok "create adv-ms 65536 quirk-mmap-on" "expected OK"
fi
gone adv-ms

# --- 6: MADV_DONTNEED (§13.18) ---------------------------------------------------------------
for m in page default; do
	opt=
	[ $m = page ] && opt=" quirk-mmap-page"
	if ! pages_for 64; then
		skip "MADV_DONTNEED on a cached mapping (mode $m) refaults the same memory, no SIGBUS" "$NO_PAGES"
	elif [ "$(mc "w:create adv-madv-$m 65536$opt\n")" = OK ]; then
		run_tap "$BIN/adv_mmap" madvise "adv-madv-$m"
	else
		not_ok "create adv-madv-$m 65536$opt" "expected OK"
	fi
	gone "adv-madv-$m"
done

# --- 9: the opener's credentials decide (§13.20) ------------------------------------------
chmod 0666 $MGR
run_tap "$BIN/adv_mgr" opener
chmod 0600 $MGR
check "$MGR is back to mode 0600" 600 "$(stat -c %a $MGR)"
gone adv-x adv-y adv-z adv-w

# --- 10: the DMA address after the parent went (§13.19) -----------------------------------
EDU=$("$BIN/mgr_edu" find)
if [ -z "$EDU" ]; then
	not_ok "the QEMU edu device (1234:11e8) is on the PCI bus" "expected it (-device edu) got: $(ls /sys/bus/pci/devices)"
elif [ "$(mc "w:create adv-eb 65536 bus=pci device=$EDU quirk-mmap-on\n")" = OK ]; then
	kmark
	run_tap "$BIN/adv_ioctl" gone adv-eb "/sys/bus/pci/devices/$EDU/remove" 1
	check_log_clean "no kernel warning from the ioctls after the parent's removal"
	echo 1 >/sys/bus/pci/rescan
	check "edu is back after the rescan" "$EDU" "$("$BIN/mgr_edu" find)"
else
	not_ok "create adv-eb 65536 bus=pci device=$EDU quirk-mmap-on" "expected OK"
fi
gone adv-eb

# --- 14: no global lock during the allocation ----------------------------------------------
free_kb=$(meminfo CmaFree)
big_mb=$((${free_kb:-0} * 3 / 4 / 1024))
[ "$big_mb" -gt 96 ] && big_mb=96
if [ "$big_mb" -lt 32 ]; then
	skip "open() of a buffer is not stalled by a large create" \
		"CMA too small for a long allocation (CmaFree ${free_kb:-0} kB; 3/4 of it must be >= 32 MiB)"
elif [ "$(mc 'w:create adv-open 4096\n')" = OK ]; then
	run_tap "$BIN/adv_mgr" stall adv-open "${big_mb}M"
else
	not_ok "create adv-open 4096" "expected OK"
fi
gone adv-open adv-big

must_unload "rmmod"

# --- 18: quirk_mmap_mode=1 for parameter buffers ----------------------------------------------
if must_load "insmod udmabuf0=64K quirk_mmap_mode=1" udmabuf0=64K quirk_mmap_mode=1 info_enable=0; then
	check "udmabuf0: quirk_mmap_mode reads 1 (off)" 1 "$(attr udmabuf0 quirk_mmap_mode)"
	run_tap "$BIN/adv_ioctl" export udmabuf0
	must_unload "rmmod after the mode-off exports"
fi

# --- 5: pages a pipe still holds (§13.17); last: a module that frees them corrupts memory ---
if ! pages_for 64; then
	skip "delete of a buffer whose page a pipe holds -> EBUSY; rmmod keeps the memory, no WARNING" "$NO_PAGES"
elif must_load "insmod for the pin tests" info_enable=0; then
	kmark
	if [ "$(mc 'w:create adv-pin 65536 quirk-mmap-page\n')" = OK ]; then
		run_tap "$BIN/adv_pin" delete adv-pin
	else
		not_ok "create adv-pin 65536 quirk-mmap-page" "expected OK"
	fi
	gone adv-pin
	check_log_clean "no kernel warning from delete while a pipe holds a page"
	kmark
	if [ "$(mc 'w:create adv-pin2 65536 quirk-mmap-page\n')" = OK ]; then
		run_tap "$BIN/adv_pin" rmmod adv-pin2
		check "the module is unloaded" no "$(loaded && echo yes || echo no)"
		kept=$(klog | grep -E '^u-dma-buf.*adv-pin2.*still in use' || true)
		n=$(printf '%s' "$kept" | grep -c '^')
		# CMA takes a range back whole: pinned CMA memory is kept.  Pages of the module's
		# own (no CMA in lowmem: the page allocator) go back one by one, each with the last
		# reference to it, the pipe's included: nothing to keep.
		if [ "$CMA_PAGES_KB" -gt 0 ]; then
			want=1 what="logs one line that the pages are kept"
		else
			want=0 what="keeps nothing (own pages go with the pipe's last reference)"
		fi
		if [ "$n" -eq $want ]; then
			ok "rmmod under a pin $what${kept:+ ($kept)}"
		else
			not_ok "rmmod under a pin $what" \
				"expected $want lines 'still in use' got $n:" "${kept:-(none)}" "module log: $(klog_all | tail -n 3)"
		fi
		check_log_clean "rmmod while a pipe holds a page: no WARNING (nothing freed under the pipe)"
	else
		not_ok "create adv-pin2 65536 quirk-mmap-page" "expected OK"
	fi
fi

finish
