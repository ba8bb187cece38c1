# The device tree of the -dt boots (arm64), and the check of the devicetree/ examples.
#
# A -dt boot's tree is QEMU's own for the machine of the boot (-machine dumpdtb with the
# same words as the boot, tests/lib/boot.sh), then tests/dt/base.dtsi (the amba_pl@0 bus
# and the nodes that must probe before the examples), every devicetree/*.dtsi, every
# other tests/dt/*.dtsi, compiled together with `dtc -@`; then every
# devicetree/*-overlay.dts, compiled with `dtc -@`, applied with fdtoverlay.  dtc warns
# about QEMU's own nodes (and the test bus); a warning that points into devicetree/ fails.
# Each example is also compiled alone (a .dtsi inside a minimal root node), where any dtc
# warning fails.
# shellcheck shell=bash

DT_EXAMPLES=$MODULE_SRC/devicetree
DT_TESTS=$REPO_TOP/tests/dt

# dt_fragments: the .dtsi files merged into QEMU's tree, in order, one a line.
dt_fragments() {
	local file
	[[ -e $DT_TESTS/base.dtsi ]] || die "there is no $DT_TESTS/base.dtsi"
	echo "$DT_TESTS/base.dtsi"
	for file in "$DT_EXAMPLES"/*.dtsi "$DT_TESTS"/*.dtsi; do
		[[ -e $file && $file != "$DT_TESTS/base.dtsi" ]] && echo "$file"
	done
	return 0
}

# dt_overlays: the overlays applied to the merged tree, one a line.
dt_overlays() {
	local file
	for file in "$DT_EXAMPLES"/*-overlay.dts; do
		[[ -e $file ]] && echo "$file"
	done
	return 0
}

# dt_build ARCH ACCEL DIR: DIR/board.dtb for a -dt boot; DIR/merged.warnings has what dtc
# said about the merged tree.
dt_build() {
	local arch=$1 accel=$2 dir=$3 words=() file name overlays=()
	rm -rf "$dir"
	mkdir -p "$dir"
	mapfile -t words < <(qemu_machine "$arch" "$accel")
	echo "dumping QEMU's device tree: ${words[*]} -machine dumpdtb=$dir/qemu.dtb"
	"${words[@]}" -machine "dumpdtb=$dir/qemu.dtb" </dev/null
	[[ -s $dir/qemu.dtb ]] || die "QEMU wrote no device tree to $dir/qemu.dtb"
	dtc -q -I dtb -O dts -o "$dir/qemu.dts" "$dir/qemu.dtb"
	{
		cat "$dir/qemu.dts"
		echo
		echo "/* fragments added by the test harness (tests/lib/dt.sh) */"
		while read -r file; do
			echo "/include/ \"$file\""
		done < <(dt_fragments)
	} >"$dir/merged.dts"
	echo "dtc -@ $dir/merged.dts"
	dtc -@ -I dts -O dtb -o "$dir/merged.dtb" "$dir/merged.dts" 2>"$dir/merged.warnings" || {
		cat "$dir/merged.warnings"
		die "dtc failed on the merged tree $dir/merged.dts"
	}
	cat "$dir/merged.warnings"
	while read -r file; do
		name=$(basename "$file" .dts)
		dtc -@ -I dts -O dtb -o "$dir/$name.dtbo" "$file"
		overlays+=("$dir/$name.dtbo")
	done < <(dt_overlays)
	if ((${#overlays[@]})); then
		echo "fdtoverlay ${overlays[*]}"
		fdtoverlay -i "$dir/merged.dtb" -o "$dir/board.dtb" "${overlays[@]}"
	else
		cp "$dir/merged.dtb" "$dir/board.dtb"
	fi
	dtc -q -I dtb -O dts -o "$dir/board.dts" "$dir/board.dtb"
}

# dt_result DIR: one test from a dt_build: it worked (the caller checked that), and no
# dtc warning about the merged tree points into devicetree/.
dt_result() {
	local dir=$1 bad n_frag n_ov
	local what
	n_frag=$(dt_fragments | wc -l)
	n_ov=$(dt_overlays | wc -l)
	what="device tree: QEMU's own + $n_frag fragments (dtc -@) + $n_ov overlays (fdtoverlay) builds, no dtc warning about devicetree/"
	bad=$(grep -F "$DT_EXAMPLES/" "$dir/merged.warnings" || true)
	if [[ -n $bad ]]; then
		test_fail "$what"
		diag_lines <<<"$bad"
	else
		test_pass "$what"
	fi
}

# dt_check_examples DIR: every devicetree/ example compiled alone, one test each; any
# dtc output fails it.
dt_check_examples() {
	local dir=$1 file name out rc found=0
	rm -rf "$dir"
	mkdir -p "$dir"
	for file in "$DT_EXAMPLES"/*.dtsi "$DT_EXAMPLES"/*.dts; do
		[[ -e $file ]] || continue
		found=1
		name=$(basename "$file")
		rc=0
		case $file in
		*.dtsi)
			printf '/dts-v1/;\n\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n};\n\n/include/ "%s"\n' \
				"$file" >"$dir/$name.dts"
			out=$(dtc -@ -I dts -O dtb -o "$dir/$name.dtb" "$dir/$name.dts" 2>&1) || rc=$?
			;;
		*)
			out=$(dtc -@ -I dts -O dtb -o "$dir/$name.dtbo" "$file" 2>&1) || rc=$?
			;;
		esac
		if ((rc)) || [[ -n $out ]]; then
			test_fail "devicetree/$name compiles alone (dtc -@) without a warning"
			diag_lines <<<"${out:-dtc exit status $rc}"
		else
			test_pass "devicetree/$name compiles alone (dtc -@) without a warning"
		fi
	done
	((found)) || test_fail "devicetree/ has examples (there is no .dts or .dtsi in $DT_EXAMPLES)"
	return 0
}
