# Reading a guest's serial log: the suites' TAP lines and markers (tests/README.md), the
# kernel log, and how the boot ended.
# shellcheck shell=bash

# The debug kernel's own boot lines are no report ("kmemleak: Kernel memory leak detector
# initialized", "rcu: RCU lockdep checking is enabled"); "N new suspected memory leaks" and
# lockdep's splats (WARNING: possible circular locking..., "lockdep is turned off" after
# one, DEBUG_LOCKS_WARN_ON) are.
KERNEL_REPORTS='BUG:|WARNING:|Oops|Call [Tt]race|Kernel panic|KASAN|UBSAN|suspected memory leak|possible circular locking|lockdep is turned off|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked|general protection|Unable to handle kernel'

# serial_to_text: the serial console (stdin) as text lines, without CR and the firmware's
# terminal escapes; unbuffered, so that it can show a console as it arrives.
serial_to_text() {
	sed -u 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g'
}

# clean_serial_log LOG OUT
clean_serial_log() {
	serial_to_text <"$1" >"$2"
}

# record_tap_line SUITE LINE: one `ok`/`not ok` line of a suite.
record_tap_line() {
	local suite=$1 line=$2 status=pass text
	if [[ $line == "not ok"* ]]; then
		status=fail
		text=${line#not ok}
	else
		text=${line#ok}
	fi
	[[ $text =~ ^[[:space:]]*([0-9]+[[:space:]]*)?(-[[:space:]]*)?(.*)$ ]]
	text=${suite:+$suite: }${BASH_REMATCH[3]}
	if [[ $status == pass && $text =~ ^(.*[^[:space:]])[[:space:]]+#[[:space:]]*[Ss][Kk][Ii][Pp]([[:space:]]+(.*))?$ ]]; then
		test_skip "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]}"
	else
		record "$status" "$text"
	fi
}

# collect_suite_results LOG SUITE...: records every TAP line of the suites, a failure for
# a suite that exited non-zero, did not finish or did not start, and shows the diagnostics
# that follow a failed test.
collect_suite_results() {
	local log=$1 line suite="" name rc show_diag=0 in_kernel_log=0
	shift
	local -A began=() ended=() killed=()
	while IFS= read -r line; do
		case $line in
		KERNEL-LOG-BEGIN) in_kernel_log=1 ;;
		KERNEL-LOG-END) in_kernel_log=0 ;;
		esac
		((in_kernel_log == 0)) || continue
		case $line in
		"SUITE-BEGIN "*)
			suite=${line#SUITE-BEGIN }
			began[$suite]=1
			show_diag=0
			;;
		"SUITE-END "*)
			read -r _ name rc <<<"$line"
			ended[$name]=$rc
			if [[ -n ${killed[$name]:-} ]]; then
				test_fail "$name: suite still running after ${killed[$name]} (its time limit); killed"
			elif [[ $rc != 0 ]]; then
				test_fail "$name: suite exited with status $rc"
			fi
			suite=""
			show_diag=0
			;;
		"ok" | "ok "* | "not ok" | "not ok "*)
			record_tap_line "$suite" "$line"
			show_diag=0
			[[ $line != "not ok"* ]] || show_diag=1
			;;
		"# harness: suite "*" still running after "*)
			name=${line#"# harness: suite "}
			killed[${name%% *}]=${name#* still running after }
			killed[${name%% *}]=${killed[${name%% *}]%%;*}
			;;
		"#"*)
			((show_diag == 0)) || echo "#   ${line#\#}"
			;;
		esac
	done <"$log"
	for name in "$@"; do
		if [[ -z ${began[$name]:-} ]]; then
			test_fail "$name: suite did not start (the guest stopped before it; see the serial log)"
		elif [[ -z ${ended[$name]:-} ]]; then
			test_fail "$name: suite did not finish (time-out or guest crash; see the serial log)"
		fi
	done
}

# kernel_reports FILE: the lines of FILE that match KERNEL_REPORTS, each with the suite that
# was running (from the harness's markers in the kernel log).
#
# Two reports of 6.1's own error paths that only fault injection reaches are not counted,
# and only in the faults suite (tests/guest/97-faults.sh), which checks what they concern
# itself: module_add_driver() ignores a failed "drivers" directory, so the next load's
# driver link lands in the sysfs root and sysfs warns (with a call trace) about the
# duplicate; and kmemleak's periodic scan counting class_register()'s leaked class name,
# which the suite checks object by object.
kernel_reports() {
	awk -v pattern="$KERNEL_REPORTS" '
		/harness: suite .* begins/ { sub(/.*harness: suite /, ""); sub(/ begins.*/, ""); suite = $0; next }
		/harness: suite .* ended/ { suite = ""; next }
		suite == "faults" && /sysfs: cannot create duplicate filename .\/\/platform:u-dma-buf./ { known = 1; next }
		known && /<\/TASK>/ { known = 0; next }
		known { next }
		suite == "faults" && /kmemleak: [0-9]+ new suspected memory leaks/ { next }
		$0 ~ pattern { print (suite == "" ? "[boot] " : "[" suite "] ") $0 }' "$1"
}

# check_kernel_log LOG: one test: the kernel log printed at the end has no report.
check_kernel_log() {
	local log=$1 section=$1.kernel reports
	local what="kernel log has no BUG, WARNING, Oops, lockdep, sanitizer or hung-task report"
	sed -n '/^KERNEL-LOG-BEGIN$/,/^KERNEL-LOG-END$/p' "$log" >"$section"
	if ! grep -qx KERNEL-LOG-END "$section"; then
		test_fail "$what (the guest never printed its kernel log)"
		kernel_reports "$log" | head -n 40 | diag_lines
		return 0
	fi
	reports=$(kernel_reports "$section")
	if [[ -z $reports ]]; then
		test_pass "$what"
	else
		test_fail "$what"
		head -n 40 <<<"$reports" | diag_lines
	fi
}

# check_boot_end LOG RC LIMIT: one test: QEMU ended by itself after /init finished.
check_boot_end() {
	local log=$1 rc=$2 limit=$3 what="guest ran every suite and powered off"
	if ((rc == 124)); then
		test_fail "$what (QEMU still running after $limit s; killed)"
	elif ((rc != 0)); then
		test_fail "$what (QEMU exit status $rc)"
	elif ! grep -q '^HARNESS-DONE' "$log"; then
		test_fail "$what (the guest stopped before /init's end)"
	else
		test_pass "$what"
		return 0
	fi
	tail -n 15 "$log" | diag_lines
}

# kmemleak_ours SECTION: how many of the objects in a kmemleak report are not the known
# kernel leak of 6.1's class_register() error path (the class name kept when kset_register()
# fails; reached by the faults suite's fault injection; tests/guest/lib.sh kmemleak_known).
kmemleak_ours() {
	awk '/unreferenced object/ { if (o && !(k && s)) n++; o = 1; k = 0; s = 0 }
		/kobject_set_name_vargs/ { s = 1 } /__class_register/ { k = 1 }
		END { if (o && !(k && s)) n++; print n + 0 }' "$1"
}

# check_kmemleak LOG: one test: the kmemleak scan the guest printed after the last suite
# (INITRAMFS_KMEMLEAK) reports no leak.
check_kmemleak() {
	local log=$1 section=$1.kmemleak what="kmemleak scan after the last suite reports no leak"
	sed -n '/^KMEMLEAK-BEGIN$/,/^KMEMLEAK-END$/p' "$log" >"$section"
	if ! grep -qx KMEMLEAK-END "$section"; then
		test_fail "$what (the guest never printed its scan)"
	elif grep -qx KMEMLEAK-UNAVAILABLE "$section"; then
		test_fail "$what (the kernel has no /sys/kernel/debug/kmemleak)"
		grep '^#' "$section" | diag_lines
	elif (($(kmemleak_ours "$section") > 0)); then
		test_fail "$what ($(kmemleak_ours "$section") unreferenced objects not from 6.1's class_register())"
		sed '1d;$d' "$section" | head -n 60 | diag_lines
	else
		(($(grep -c 'unreferenced object' "$section") == 0)) ||
			echo "# $(grep -c 'unreferenced object' "$section") objects of 6.1's class_register() error path (a kernel leak that fault injection reaches), not counted"
		test_pass "$what"
	fi
}

# check_phys_backing LOG FILE: one test (amd64, the phys suite): what the guest wrote into
# the ivshmem BAR through a cached mapping of a phys= buffer, then synced for the device
# (tests/guest/46-phys.sh), is in the host's backing file of that BAR (boot.sh).  The
# guest's line: "PHYS-BACKING offset=<n> token=<text>", or "PHYS-BACKING skip <why>".
check_phys_backing() {
	local log=$1 file=$2 line off token got
	local what="phys: the host's backing file of the ivshmem BAR holds the token the guest wrote through mmap + sync_for_device"
	line=$(grep -m 1 '^PHYS-BACKING ' "$log" || true)
	if [[ $line == "PHYS-BACKING skip "* ]]; then
		test_skip "$what" "${line#PHYS-BACKING skip }"
		return 0
	fi
	if [[ ! $line =~ ^PHYS-BACKING\ offset=([0-9]+)\ token=([0-9a-f]+)$ ]]; then
		test_fail "$what (the guest printed no PHYS-BACKING line)"
		return 0
	fi
	off=${BASH_REMATCH[1]} token=${BASH_REMATCH[2]}
	got=$(dd if="$file" bs=1 skip="$off" count="${#token}" status=none 2>/dev/null | tr -c '0-9a-f' '.' || true)
	if [[ $got == "$token" ]]; then
		test_pass "$what (offset $off: $token)"
	else
		test_fail "$what"
		diag_lines <<<"expected '$token' at offset $off of $file got '$got'"
	fi
}
