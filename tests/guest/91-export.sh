#!/bin/sh
# 91-export: dma-buf export (INTERFACE.md §8 EXPORT, §9): sub-range round trips through
# the dma-buf mapping with DMA_BUF_IOCTL_SYNC and the node's own mapping and read(), an
# O_SYNC export, delete and rmmod refused while an export lives, memory freed after it,
# and a kernel importer (tests/kmod/udmabuf_import_test: attach, sg table, vmap).
# shellcheck source=tests/guest/lib.sh
. "${0%/*}/lib.sh"

mgr() {
	printf '%s\n' "$1" >/dev/u-dma-buf-mgr 2>/tmp/mgr.err
}

kmark
if must_load "insmod udmabuf0=256K for the export tests" udmabuf0=256K info_enable=0; then
	run_tap "$BIN/export_test" data udmabuf0
	# x86 keeps RAM write-back whatever a mapping asks; asking for uncached makes PAT complain
	# (the node's own O_SYNC mappings do not ask, INTERFACE.md §5.1 / the module's comment).
	pat=$(klog | grep 'x86/PAT: .*map pfn RAM range req' || true)
	if [ -z "$pat" ]; then
		ok "mapping an O_SYNC export makes the kernel log no x86/PAT complaint"
	else
		not_ok "mapping an O_SYNC export makes the kernel log no x86/PAT complaint" \
			"expected no 'map pfn RAM range req' line got:" "$(printf '%s\n' "$pat" | head -n 3)"
	fi

	# --- each mmap mode that has pages to export ------------------------------------
	for mode in on auto page; do
		if mgr "create exp-$mode 64K quirk-mmap-$mode"; then
			run_tap "$BIN/export_test" data "exp-$mode"
			mgr "delete exp-$mode" ||
				not_ok "delete exp-$mode after its exports were closed" "expected success got $(cat /tmp/mgr.err)"
		else
			not_ok "manager: create exp-$mode 64K quirk-mmap-$mode" "expected success got $(cat /tmp/mgr.err)"
		fi
	done

	# --- lifetime: delete and rmmod refused while exported, memory freed after -------
	# The memory is checked by allocating it again: CmaFree alone moves by several MiB
	# (per-CPU free lists are not counted in it).
	case $ARCH in
	arm64) LIFE_SIZE=48M ;;
	*) LIFE_SIZE=1M ;;
	esac
	cma0=$(meminfo CmaFree)
	if mgr "create exp-life $LIFE_SIZE quirk-mmap-page"; then
		run_tap "$BIN/export_test" life exp-life
		[ -e /dev/exp-life ] && mgr "delete exp-life"
		diag "CmaFree before the $LIFE_SIZE buffer ${cma0:-none} kB, after its export and delete $(meminfo CmaFree) kB"
		if [ "${cma0:-0}" -gt 0 ]; then
			big=$(($(meminfo CmaTotal) * 3 / 4 / 1024))M
			# Mode page needs CMA for ordinary pages; in highmem only coherent memory.
			bigmode=" quirk-mmap-page"
			[ "$CMA_PAGES_KB" -gt 0 ] || bigmode=
			if mgr "create exp-big $big$bigmode"; then
				ok "after the $LIFE_SIZE exported buffer is gone, a buffer of 3/4 of CMA ($big) can be allocated: its memory was freed"
				mgr "delete exp-big"
			else
				not_ok "after the $LIFE_SIZE exported buffer is gone, a buffer of 3/4 of CMA ($big) can be allocated: its memory was freed" \
					"expected success got $(cat /tmp/mgr.err); CmaFree $(meminfo CmaFree) kB" "log: $(klog | tail -n 3)"
			fi
		else
			skip "the exported buffer's CMA memory is freed after the export and the buffer are gone" "no CMA on $ARCH"
		fi
	else
		not_ok "manager: create exp-life $LIFE_SIZE quirk-mmap-page" "expected success got $(cat /tmp/mgr.err)"
	fi

	# --- a kernel importer ---------------------------------------------------------
	KO=${KMOD:-/t/kmod}/udmabuf_import_test.ko
	if [ -e "$KO" ]; then
		kmark
		run_tap "$BIN/export_test" import udmabuf0 "$KO"
		lines=$(klog | sed -n 's/^udmabuf_import_test: //p')
		printf '%s\n' "$lines" | sed -n -e 's/^ok - /ok - importer: /p' -e 's/^not ok - /not ok - importer: /p'
		if printf '%s\n' "$lines" | grep -qx 'done'; then
			ok "the importer ran to the end (udmabuf_import_test: done)"
		else
			not_ok "the importer ran to the end (udmabuf_import_test: done)" "expected a done line got:" "$lines"
		fi
		if grep -q '^udmabuf_import_test ' /proc/modules; then
			r=$("$BIN/modctl" unload udmabuf_import_test)
			check "rmmod udmabuf_import_test" OK "$r"
		fi
	else
		skip "a kernel importer attaches, maps the sg table and vmaps" "no $KO (the harness builds tests/kmod/)"
	fi
	must_unload "rmmod once every export is closed"
fi
check_log_clean "no kernel warning from the export tests"

finish
