# Lint tests on the host: checkpatch.pl --strict and sparse on the module sources.
# checkpatch.pl comes from Debian's linux-source-6.1 package (only its three files are
# unpacked), cached in $CACHE_DIR/checkpatch.
# shellcheck shell=bash

CHECKPATCH_DIR=$CACHE_DIR/checkpatch
CHECKPATCH_FILES=(checkpatch.pl spelling.txt const_structs.checkpatch)

checkpatch_fetch() {
	[[ -e $CHECKPATCH_DIR/checkpatch.pl ]] && return 0
	with_lock checkpatch checkpatch_fetch_locked
}

checkpatch_fetch_locked() {
	local tmp=$CHECKPATCH_DIR.tmp members=() file
	[[ -e $CHECKPATCH_DIR/checkpatch.pl ]] && return 0
	rm -rf "$tmp"
	apt_download "$tmp/debs" linux-source-6.1
	for file in "${CHECKPATCH_FILES[@]}"; do
		members+=("linux-source-6.1/scripts/$file")
	done
	mkdir -p "$tmp/scripts"
	# Stream the source tarball out of the package: only three files are written.
	dpkg-deb --fsys-tarfile "$tmp"/debs/linux-source-6.1_*.deb |
		tar -xO --wildcards './usr/src/linux-source-6.1.tar.*' |
		tar -xJ -C "$tmp/scripts" --strip-components=2 "${members[@]}"
	rm -rf "$tmp/debs"
	mv "$tmp/scripts" "$CHECKPATCH_DIR"
	rm -rf "$tmp"
}

# lint_checkpatch: one test on u-dma-buf.c.
lint_checkpatch() {
	local out rc=0 what="checkpatch.pl --strict u-dma-buf.c: no error, warning or check"
	out=$(cd "$MODULE_SRC" && perl "$CHECKPATCH_DIR/checkpatch.pl" --strict --no-tree \
		--no-summary --terse --show-types -f u-dma-buf.c 2>&1) || rc=$?
	if ((rc)) || [[ -n $out ]]; then
		test_fail "$what"
		diag_lines <<<"$out"
	else
		test_pass "$what"
	fi
}

# sparse_build DIR: a C=2 build of the module against the amd64 6.1 headers in DIR.
sparse_build() {
	build_module amd64 "$1" "$2" C=2
}

# lint_sparse_result DIR: one test from the output of sparse_build.
lint_sparse_result() {
	local dir=$1 reports what="sparse (C=2) on the module: no warning"
	reports=$(grep -E "^$dir/[^:]+:[0-9]+:([0-9]+:)? (warning|error):" "$dir/build.log" || true)
	if [[ -n $reports ]]; then
		test_fail "$what"
		diag_lines <<<"${reports//"$dir/"/}"
	else
		test_pass "$what"
	fi
}
