# shellcheck shell=bash
# tools/vm/lib/kernel-debian-amd64.sh, sourced by tools/vm/rig: the x86_64 guest's kernel
# (KERNEL=debian-amd64), Debian's stock package with the modules of x86_64/modules.txt.

# Bumped when the recipe below changes in a way its hashed inputs do not show.
readonly RECIPE_KERNEL_X86=3

# Debian's stock kernel (see resolve_apt); VFIO_RIG_X86_KERNEL_PKG=
# linux-image-6.1.0-N-amd64-unsigned pins another one.
x86_kernel_pkg() {
	apt_version x86-kernel-package
}

# The x86 kernel artefact: vmlinuz plus the closure of modules in
# x86_64/modules.txt, with a load order computed by depmod.
x86_kernel_key() {
	local pkg ver
	pkg=$(x86_kernel_pkg)
	ver=$(apt_version "$pkg")
	hash_str "recipe=$RECIPE_KERNEL_X86" "$pkg $ver" <"$RIG_DIR/x86_64/modules.txt"
}

# Under TCG, decompressing Debian's xz bzImage takes ~4 s of every boot. The
# kernel has CONFIG_PVH, so QEMU can start the uncompressed ELF vmlinux at its PVH
# entry instead: extract it once. Without a PVH entry note, keep the bzImage.
extract_pvh_vmlinux() {
	local bz=$1 out=$2 off
	off=$(grep -abo $'\xfd7zXZ\x00' "$bz" | head -n1 | cut -d: -f1 || true)
	[[ -n $off ]] || return 0
	# xz stops after the stream, so tail may die of SIGPIPE: only xz's status counts.
	if xz -dc --single-stream <(tail -c +$((off + 1)) "$bz") >"$out.tmp" 2>/dev/null &&
		readelf -n "$out.tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
		mv "$out.tmp" "$out" # XEN_ELFNOTE_PHYS32_ENTRY (18): PVH entry point
	else
		rm -f "$out.tmp"
		step "x86_64 kernel: no PVH vmlinux in the bzImage; booting the bzImage (slower)"
	fi
}

build_x86_kernel() {
	local key out
	key=$(x86_kernel_key)
	out=$CACHE/x86_64/kernel-$key
	if [[ -f $out/vmlinuz ]]; then
		cached "x86_64 kernel: cached ($out)"
		return
	fi
	need_cmd depmod dpkg-deb xz readelf
	local pkg ver deb
	pkg=$(x86_kernel_pkg)
	ver=$(apt_version "$pkg")
	deb=$(fetch_deb "$pkg" "$ver")
	step "x86_64 kernel: extracting $pkg $ver"
	mkdir -p "$CACHE/x86_64"
	local tmp
	tmp=$(mktemp -d "$CACHE/x86_64/.kernel.XXXXXX")
	dpkg-deb -x "$deb" "$tmp/deb"
	local kver
	kver=$(basename "$tmp"/deb/lib/modules/*)
	cp "$tmp/deb/boot/vmlinuz-$kver" "$tmp/vmlinuz"
	cp "$tmp/deb/boot/config-$kver" "$tmp/config"
	extract_pvh_vmlinux "$tmp/vmlinuz" "$tmp/vmlinux"
	echo "$kver" >"$tmp/kernel-release"

	# Debian ships no modules.dep: make one for the whole tree on our copy.
	step "x86_64 kernel: depmod, module closure of x86_64/modules.txt"
	depmod -b "$tmp/deb" "$kver"
	local dep=$tmp/deb/lib/modules/$kver/modules.dep
	local -a order=()
	local want path line d
	local -A seen=()
	while read -r want; do
		want=${want%%#*}
		want=${want//[[:space:]]/}
		[[ -z $want ]] && continue
		# File names mix '-' and '_'; modules.dep keys are paths.
		local pat=${want//[-_]/[-_]}
		line=$(grep -E "/${pat}\.ko:" "$dep" | head -n1 || true)
		[[ -n $line ]] || die "module $want not found in $pkg"
		path=${line%%:*}
		# modules.dep lists all dependencies with the ones to load last first.
		local -a deps
		read -r -a deps <<<"${line#*:}"
		local i
		for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
			d=${deps[i]}
			[[ -n ${seen[$d]:-} ]] || {
				seen[$d]=1
				order+=("$d")
			}
		done
		[[ -n ${seen[$path]:-} ]] || {
			seen[$path]=1
			order+=("$path")
		}
	done <"$RIG_DIR/x86_64/modules.txt"
	mkdir -p "$tmp/modules/$kver"
	for path in "${order[@]}"; do
		mkdir -p "$tmp/modules/$kver/$(dirname "$path")"
		cp "$tmp/deb/lib/modules/$kver/$path" "$tmp/modules/$kver/$path"
	done
	cp "$tmp/deb/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$tmp/modules/$kver/"
	printf '%s\n' "${order[@]}" >"$tmp/modules/load-order"
	# modules.dep etc. for the subset, so busybox modprobe works in the guest too.
	local sub
	sub=$(mktemp -d "$tmp/.sub.XXXXXX")
	mkdir -p "$sub/lib/modules"
	cp -a "$tmp/modules/$kver" "$sub/lib/modules/"
	depmod -b "$sub" "$kver"
	cp "$sub/lib/modules/$kver"/modules.* "$tmp/modules/$kver/"
	rm -rf "$sub" "$tmp/deb"
	publish_dir "$tmp" "$out"
	step "x86_64 kernel: done ($kver, ${#order[@]} modules: $(printf '%s ' "${order[@]##*/}"))"
}
