#!/bin/busybox sh
# shellcheck shell=dash disable=SC1091
# /init of the test initramfs (busybox sh, in the guest).  It sets up the environment that
# tests/README.md promises the guest suites, runs the selected suites in order with the
# SUITE-BEGIN/SUITE-END markers, prints the kernel log and powers the guest off.
# Settings come from /t/harness.conf, written by the host (tests/lib/initramfs.sh).

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec </dev/null >/dev/console 2>&1

. /t/harness.conf

# kmsg TEXT: a marker in the kernel log, so that a kernel report can be traced to a suite.
kmsg() {
	echo "<6>harness: $*" >/dev/kmsg
}

# load_modules: the in-tree modules that the 9p root needs, in dependency order.
load_modules() {
	local name
	while read -r name; do
		if ! insmod "/lib/modules/harness/$name.ko"; then
			echo "# harness: insmod $name failed; PYROOT stays empty"
			return 1
		fi
	done </lib/modules/harness/order
}

# setup_pyroot: PYROOT = a tmpfs overlay on the host's 9p share (the host root on amd64,
# an arm64 Debian tree on arm64), with the guest's /dev /sys /proc /tmp /t bound in.
setup_pyroot() {
	local dir
	PYROOT=
	[ -n "$PYROOT_TAG" ] || return 0
	load_modules || return 0
	mkdir -p /pyroot-lower /pyroot-rw /pyroot
	if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose "$PYROOT_TAG" /pyroot-lower; then
		echo "# harness: cannot mount the 9p share $PYROOT_TAG; PYROOT stays empty"
		return 0
	fi
	mount -t tmpfs tmpfs /pyroot-rw
	mkdir -p /pyroot-rw/upper /pyroot-rw/work
	if ! mount -t overlay overlay -o lowerdir=/pyroot-lower,upperdir=/pyroot-rw/upper,workdir=/pyroot-rw/work /pyroot; then
		echo "# harness: cannot mount the overlay on the 9p share; PYROOT stays empty"
		return 0
	fi
	for dir in dev sys proc tmp t; do
		mkdir -p "/pyroot/$dir"
		mount -o rbind "/$dir" "/pyroot/$dir"
	done
	if [ ! -x /pyroot/usr/bin/python3 ]; then
		echo "# harness: the 9p share has no /usr/bin/python3; PYROOT stays empty"
		return 0
	fi
	PYROOT=/pyroot
}

# run_suite FILE: one suite, in its own process group, killed with its children when it
# runs longer than SUITE_TIMEOUT seconds.
run_suite() {
	local file=$1 name suite watchdog rc
	name=${file#[0-9][0-9]-}
	kmsg "suite $name begins"
	echo "SUITE-BEGIN $name"
	cd /tmp || return 1
	setsid sh "/t/guest/$file.sh" </dev/null &
	suite=$!
	setsid sh -c "sleep $SUITE_TIMEOUT; echo '# harness: suite $name still running after $SUITE_TIMEOUT s; killed'; kill -KILL -$suite" &
	watchdog=$!
	wait "$suite"
	rc=$?
	kill -KILL "-$watchdog" 2>/dev/null
	cd /
	echo "SUITE-END $name $rc"
	kmsg "suite $name ended with status $rc"
	if [ -e /sys/module/u_dma_buf ]; then
		echo "not ok - $name: u-dma-buf is still loaded after the suite (the harness unloads it)"
		rmmod u_dma_buf || rmmod -f u_dma_buf || echo "# harness: cannot unload u-dma-buf; later suites start with it loaded"
	fi
}

# kmemleak_report: a scan of kernel memory leaks after the suites, between markers; the
# host fails the boot's kmemleak test on any report.
kmemleak_report() {
	echo "KMEMLEAK-BEGIN"
	if [ ! -e /sys/kernel/debug/kmemleak ]; then
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	fi
	if [ ! -e /sys/kernel/debug/kmemleak ]; then
		echo "# harness: no /sys/kernel/debug/kmemleak (kernel without kmemleak, or it is off)"
		echo "KMEMLEAK-UNAVAILABLE"
	else
		# Objects younger than 5 s are never reported, and a leak needs two scans to
		# be told from a pointer still in flight.
		sleep 6
		if echo scan >/sys/kernel/debug/kmemleak && sleep 6 &&
			echo scan >/sys/kernel/debug/kmemleak; then
			cat /sys/kernel/debug/kmemleak
		else
			# A kmemleak that turned itself off refuses the scan.
			echo "# harness: kmemleak refused the scan: $(dmesg | grep -i kmemleak | tail -n 3)"
			echo "KMEMLEAK-UNAVAILABLE"
		fi
	fi
	echo "KMEMLEAK-END"
}

export ARCH KVER KREL MOD=/t/u-dma-buf.ko BIN=/t/bin KMOD=/t/kmod PYROOT DT PHYS_BASE PHYS_SIZE
echo "HARNESS-INIT $KREL"
setup_pyroot
# Without PYROOT the list has only the scratch disk's driver (virtio_pci, virtio_blk).
if [ -z "$PYROOT_TAG" ] && [ -s /lib/modules/harness/order ]; then
	load_modules || echo "# harness: the scratch disk's driver did not load; no /dev/vda"
fi
echo "# harness: PYROOT=${PYROOT:-(none)}, DT=$DT, uptime $(cut -d' ' -f1 /proc/uptime) s"
for file in $SUITES; do
	run_suite "$file"
done
[ "$KMEMLEAK" = 1 ] && kmemleak_report
echo "KERNEL-LOG-BEGIN"
dmesg
echo "KERNEL-LOG-END"
echo "HARNESS-DONE uptime $(cut -d' ' -f1 /proc/uptime) s"
sync
poweroff -f
