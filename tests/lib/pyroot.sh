# PYROOT: the tree that a guest mounts over 9p to run Python with numpy.  amd64 guests use
# the host's own root (it has python3-numpy); arm64 guests use an arm64 Debian tree.
# shellcheck shell=bash

pyroot_dir() {
	case $1 in
	amd64) echo / ;;
	arm64) echo "$CACHE_DIR/pyroot-arm64" ;;
	esac
}

pyroot_fetch() {
	[[ $1 == amd64 || -e $(pyroot_dir "$1")/complete ]] && return 0
	with_lock pyroot-arm64 pyroot_fetch_arm64
}

# pyroot_fetch_arm64: unpacks (runs nothing from) python3 and numpy for arm64 with the
# host's own package sources.
pyroot_fetch_arm64() {
	local dir tmp sources=()
	dir=$(pyroot_dir arm64)
	[[ -e $dir/complete ]] && return 0
	tmp=$dir.tmp
	rm -rf "$dir" "$tmp"
	mapfile -t sources < <(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	((${#sources[@]})) || die "no apt sources in /etc/apt to build the arm64 Python tree from"
	mmdebstrap --variant=extract --architectures=arm64 \
		--include=dash,coreutils,python3,python3-numpy bookworm "$tmp" "${sources[@]}"
	# The links that update-alternatives would make; numpy cannot load without them.
	ln -sfn blas/libblas.so.3 "$tmp/usr/lib/aarch64-linux-gnu/libblas.so.3"
	ln -sfn lapack/liblapack.so.3 "$tmp/usr/lib/aarch64-linux-gnu/liblapack.so.3"
	[[ -e $tmp/usr/lib/aarch64-linux-gnu/blas/libblas.so.3 ]] ||
		die "the arm64 tree has no blas/libblas.so.3; numpy would not import"
	mv "$tmp" "$dir"
	touch "$dir/complete"
}
