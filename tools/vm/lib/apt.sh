# shellcheck shell=bash
# tools/vm/lib/apt.sh, sourced by tools/vm/rig: package versions and .deb downloads (the
# guests' packages are only downloaded into the cache, never installed).

# Package versions come from apt-cache, which takes ~3 s a call on hosts without
# apt's binary cache (Docker-style images). They are resolved once with two calls
# and remembered in the cache, keyed by the apt lists' names, sizes and mtimes, so
# a warm run asks apt nothing; after an `apt-get update` they are resolved again.
declare -A APTVER=()

resolve_apt() {
	[[ -n ${APT_RESOLVED:-} ]] && return 0
	local stamp file
	stamp=$({
		stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* /var/lib/dpkg/arch 2>/dev/null || true
		echo "kernel=${VFIO_RIG_X86_KERNEL_PKG:-} userspace=$(all_userspace_pkgs)"
	} | sha256sum | cut -c1-16)
	file=$CACHE/apt/resolved-$stamp
	if [[ ! -f $file ]]; then
		step "resolving package versions with apt-cache (once per apt-get update)"
		mkdir -p "$CACHE/apt"
		local kpkg=${VFIO_RIG_X86_KERNEL_PKG:-}
		if [[ -z $kpkg ]]; then
			# Debian's stock kernel: the ABI linux-image-amd64 points at, unsigned flavour.
			local deps
			deps=$(apt-cache depends linux-image-amd64:amd64 2>&1) ||
				die "apt-cache depends linux-image-amd64:amd64 failed (${deps##*$'\n'}): apt's package lists lack amd64 or arm64; run tools/setup-host as root"
			kpkg=$(sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' <<<"$deps" | head -n1)
			[[ -n $kpkg ]] || die "apt does not know linux-image-amd64: run tools/setup-host as root"
			kpkg=$kpkg-unsigned:amd64
		fi
		# shellcheck disable=SC2046 # word splitting wanted
		apt-cache show --no-all-versions "$kpkg" $(all_userspace_pkgs) 2>/dev/null |
			awk '/^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Architecture:/ { a = $2 }
			     /^$/ { if (p != "") print p ":" a, v; p = "" }
			     END { if (p != "") print p ":" a, v }' >"$file.tmp.$$" || true
		echo "x86-kernel-package ${kpkg%:amd64}:amd64" >>"$file.tmp.$$"
		mv "$file.tmp.$$" "$file"
	fi
	local k v
	while read -r k v; do
		APTVER[$k]=$v
	done <"$file"
	APT_RESOLVED=$file
}

# The version apt would download for PKG:ARCH.
apt_version() {
	local v=${APTVER[$1]:-}
	[[ -n $v ]] || die "apt does not know $1: run tools/setup-host as root (it adds the arm64 architecture and updates apt's lists)"
	echo "$v"
}

# Where the .deb of PKG:ARCH VERSION lives in the cache (apt-get download's name).
deb_path() {
	local pkg=$1 ver=$2
	local name=${pkg%%:*} arch=${pkg#*:}
	echo "$CACHE/debs/${name}_${ver//:/%3a}_${arch}.deb"
}

# Downloads PKG:ARCH=VERSION into the cache (never installs it) and prints the .deb's path.
fetch_deb() {
	local pkg=$1 ver=$2 dir=$CACHE/debs
	mkdir -p "$dir"
	local deb
	deb=$(deb_path "$pkg" "$ver")
	if [[ ! -f $deb ]]; then
		step "downloading $pkg $ver"
		local tmp
		tmp=$(mktemp -d "$dir/.dl.XXXXXX")
		# apt's _apt user cannot write into root's cache: it then downloads as root
		# with a warning, which is fine here.
		(cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null 2>"$tmp/err") ||
			{
				cat "$tmp/err" >&2
				die "apt-get download $pkg=$ver failed"
			}
		mv "$tmp"/*.deb "$deb"
		rm -rf "$tmp"
	fi
	echo "$deb"
}

# Downloads the missing debs of PKG:ARCH... in one apt-get call (each call costs
# seconds of list parsing here).
fetch_debs() {
	local p ver deb
	local -a want=()
	for p in "$@"; do
		ver=$(apt_version "$p")
		deb=$(deb_path "$p" "$ver")
		[[ -f $deb ]] || want+=("$p=$ver")
	done
	((${#want[@]} > 0)) || return 0
	step "downloading ${want[*]}"
	local dir=$CACHE/debs tmp
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.dl.XXXXXX")
	(cd "$tmp" && apt-get download -q "${want[@]}" >/dev/null 2>"$tmp/err") ||
		{
			cat "$tmp/err" >&2
			die "apt-get download ${want[*]} failed"
		}
	for p in "${want[@]}"; do
		mv "$tmp/$(basename "$(deb_path "${p%%=*}" "${p#*=}")")" "$dir/"
	done
	rm -rf "$tmp"
}
