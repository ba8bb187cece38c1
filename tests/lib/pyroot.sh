# PYROOT: the tree that a guest mounts over 9p to run Python with numpy.  amd64 guests use
# the host's own root (it has python3-numpy, NumPy 1.x of Debian 12); arm64 guests use an
# arm64 Debian 12 tree.  Both also reach a Debian 13 (trixie) tree with NumPy 2.x, for the
# userspace suite's second run of the Python tests: amd64 at $CACHE_DIR/pyroot-numpy2-amd64
# (seen through the host root), arm64 at numpy2/ inside the arm64 tree.  The initramfs
# carries its path inside PYROOT in /t/pyroot-numpy2 (pyroot_numpy2_path).  Without the tree
# the userspace suite skips its NumPy 2 run, except under CI (CI=true in the environment):
# then /t/pyroot-numpy2 says "!required" and the missing run is a failure.
# shellcheck shell=bash

pyroot_dir() {
	case $1 in
	amd64) echo / ;;
	arm64) echo "$CACHE_DIR/pyroot-arm64" ;;
	esac
}

# pyroot_numpy2_dir ARCH: where the NumPy 2 tree is on the host.
pyroot_numpy2_dir() {
	case $1 in
	amd64) echo "$CACHE_DIR/pyroot-numpy2-amd64" ;;
	arm64) echo "$CACHE_DIR/pyroot-arm64/numpy2" ;;
	esac
}

# pyroot_numpy2_path ARCH: the NumPy 2 tree's path inside PYROOT (nothing when it is absent;
# "!required" when it is absent and CI=true: the guest then fails instead of skipping).
pyroot_numpy2_path() {
	local dir
	dir=$(pyroot_numpy2_dir "$1")
	if [[ ! -e $dir/.complete ]]; then
		[[ ${CI:-} == true ]] && echo '!required'
		return 0
	fi
	case $1 in
	amd64) echo "$dir" ;;
	arm64) echo /numpy2 ;;
	esac
}

pyroot_fetch() {
	[[ $1 == amd64 || $1 == arm64 ]] || return 1
	if [[ $1 == arm64 && ! -e $(pyroot_dir arm64)/complete ]]; then
		with_lock pyroot-arm64 pyroot_fetch_arm64 || return 1
	fi
	[[ -e $(pyroot_numpy2_dir "$1")/.complete ]] ||
		with_lock "pyroot-numpy2-$1" pyroot_fetch_numpy2 "$1" ||
		if [[ ${CI:-} == true ]]; then
			echo "# error: no NumPy 2 tree for $1 (see above); under CI the userspace suite fails its NumPy 2 run"
		else
			echo "# warning: no NumPy 2 tree for $1 (see above); the userspace suite skips its NumPy 2 run"
		fi
	return 0
}

# pyroot_blas_links ROOT TRIPLET: the links that update-alternatives would make; numpy
# cannot load without them.
pyroot_blas_links() {
	ln -sfn blas/libblas.so.3 "$1/usr/lib/$2/libblas.so.3"
	ln -sfn lapack/liblapack.so.3 "$1/usr/lib/$2/liblapack.so.3"
	[[ -e $1/usr/lib/$2/blas/libblas.so.3 ]] ||
		die "the $2 tree $1 has no blas/libblas.so.3; numpy would not import"
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
	pyroot_blas_links "$tmp" aarch64-linux-gnu
	mv "$tmp" "$dir"
	touch "$dir/complete"
}

# pyroot_fetch_numpy2 ARCH: a Debian 13 (trixie) tree with python3 and python3-numpy (2.x),
# unpacked (nothing run) from the Debian mirror of the host's apt configuration (the one
# its bookworm packages come from, else any Debian one it has); about 11 s and 130 MB per
# architecture.  Without a mirror in apt's configuration it fails, saying so.  Its
# failure is not fatal: the suite then skips the NumPy 2 run (fails it under CI=true).
pyroot_fetch_numpy2() {
	local arch=$1 dir tmp mirror triplet d
	dir=$(pyroot_numpy2_dir "$arch")
	[[ -n $dir ]] || return 1
	[[ -e $dir/.complete ]] && return 0
	# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
	mirror=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME)' 'Created-By: Packages' 2>/dev/null |
		awk '$2 == "bookworm" { print $1; exit }')
	if [[ -z $mirror ]]; then
		# shellcheck disable=SC2016
		mirror=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME)' 'Created-By: Packages' 2>/dev/null |
			awk '$2 ~ /^(bookworm|trixie|forky|sid|unstable|testing|stable)(-updates)?$/ { print $1; exit }')
	fi
	if [[ -z $mirror ]]; then
		echo "# error: no Debian mirror in apt's configuration (apt-get indextargets lists none" \
			"for bookworm or another Debian release) to fetch the trixie tree from; add one" \
			"to /etc/apt/sources.list or /etc/apt/sources.list.d/" >&2
		return 1
	fi
	tmp=$dir.tmp
	rm -rf "$dir" "$tmp"
	if ! mmdebstrap --variant=extract --architectures="$arch" \
		--include=dash,coreutils,python3,python3-numpy trixie "$tmp" \
		"deb ${mirror%/} trixie main"; then
		rm -rf "$tmp"
		return 1
	fi
	# trixie ships /lib, /bin... as links in base-files, which an extract does not unpack.
	for d in bin sbin lib lib64; do
		[[ -e $tmp/usr/$d && ! -e $tmp/$d ]] && ln -sfn "usr/$d" "$tmp/$d"
	done
	mkdir -p "$tmp"/{dev,proc,sys,tmp,t}
	case $arch in amd64) triplet=x86_64-linux-gnu ;; arm64) triplet=aarch64-linux-gnu ;; esac
	pyroot_blas_links "$tmp" "$triplet"
	mv "$tmp" "$dir"
	touch "$dir/.complete"
}
