# shellcheck shell=bash
# tools/vm/lib/kernel-arm64.sh, sourced by tools/vm/rig: the arm64 guests' kernel (KERNEL=arm64),
# built from Debian's linux-source-6.12 with tinyconfig + arm64/kernel.fragment.

# Bumped when the recipe below changes in a way its hashed inputs do not show.
readonly RECIPE_KERNEL_ARM64=2
readonly KERNEL_SOURCE_PKG=linux-source-6.12
readonly KERNEL_SOURCE_TARBALL=/usr/src/linux-source-6.12.tar.xz

# Kernel source, extracted once per linux-source package version.
kernel_source_version() {
	dpkg-query -W -f '${Version}' "$KERNEL_SOURCE_PKG" 2>/dev/null ||
		die "$KERNEL_SOURCE_PKG is not installed: run tools/setup-host as root"
}

kernel_source_dir() {
	local ver dir
	ver=$(kernel_source_version)
	dir=$CACHE/src/linux-source-6.12_$ver
	if [[ ! -f $dir/Makefile ]]; then
		step "extracting $KERNEL_SOURCE_TARBALL ($ver)"
		mkdir -p "$CACHE/src"
		local tmp
		tmp=$(mktemp -d "$CACHE/src/.x.XXXXXX")
		tar -xJf "$KERNEL_SOURCE_TARBALL" -C "$tmp"
		publish_dir "$tmp/linux-source-6.12" "$dir"
		rm -rf "$tmp"
	fi
	echo "$dir"
}

# ---------------------------------------------------------------- arm64 kernel

ARM64_CROSS=aarch64-linux-gnu-

# The kernel's config fragment: arm64/kernel.fragment or, for a variant NAME (rig run --kernel NAME),
# that file without the symbols arm64/kernel-NAME.fragment sets, then kernel-NAME.fragment.
arm64_fragment() {
	local variant=${1:-} base=$RIG_DIR/arm64/kernel.fragment
	if [[ -z $variant ]]; then
		cat "$base"
		return
	fi
	local over=$RIG_DIR/arm64/kernel-$variant.fragment syms
	[[ -f $over ]] || die "no kernel variant '$variant' (tools/vm/arm64/kernel-$variant.fragment)"
	syms=$(sed -nE 's/^(# )?(CONFIG_[A-Za-z0-9_]+)(=.*| is not set)$/\2/p' "$over" | paste -sd'|')
	[[ -n $syms ]] || die "tools/vm/arm64/kernel-$variant.fragment sets no CONFIG_ symbol"
	grep -vE "^(# )?($syms)(=| is not set)" "$base"
	cat "$over"
}

arm64_kernel_key() {
	local src gcc
	need_cmd "${ARM64_CROSS}gcc"
	src=$(kernel_source_version)
	gcc=$(${ARM64_CROSS}gcc --version | head -n1)
	arm64_fragment "${1:-}" | hash_str "recipe=$RECIPE_KERNEL_ARM64" "src=$src" "gcc=$gcc"
}

# Every non-comment line of the fragment must be in .config verbatim, and every
# "# CONFIG_X is not set" line must not be contradicted: Kconfig silently drops a
# symbol whose dependencies are missing.
check_fragment() {
	local frag=$1 config=$2 line sym missing=0
	while IFS= read -r line; do
		[[ -z $line ]] && continue
		if [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if grep -q "^$sym=" "$config"; then
				echo "rig: fragment wants $sym off, .config has: $(grep "^$sym=" "$config")" >&2
				missing=1
			fi
			continue
		fi
		[[ $line == \#* ]] && continue
		if ! grep -qxF -- "$line" "$config"; then
			sym=${line%%=*}
			echo "rig: fragment line '$line' did not land; .config has: $(grep -E "^(# )?${sym}[= ]" "$config" || echo nothing)" >&2
			missing=1
		fi
	done <"$frag"
	((missing == 0)) || die "kernel config does not match the fragment (tools/vm/arm64/kernel*.fragment, see above)"
}

build_arm64_kernel() {
	local variant=${1:-} key out
	key=$(arm64_kernel_key "$variant")
	out=$CACHE/arm64/kernel-$key
	if [[ -f $out/Image ]]; then
		cached "arm64 kernel: cached ($out)"
		return
	fi
	need_cmd "${ARM64_CROSS}gcc" make bc bison flex
	# Both arm64 guests boot this kernel: serialise its builds (fd 7, not the
	# per-guest lock on fd 9 that the caller holds).
	exec 7>"$CACHE/.lock-arm64-kernel"
	flock 7
	if [[ -f $out/Image ]]; then
		flock -u 7
		cached "arm64 kernel: cached ($out)"
		return
	fi
	local src
	src=$(kernel_source_dir)
	# One object directory per source version, reused across fragment changes so
	# that a changed fragment rebuilds only what it touches.
	local kb
	kb=$CACHE/arm64/kbuild-$(kernel_source_version)
	mkdir -p "$kb" "$CACHE/arm64"
	local tmp
	tmp=$(mktemp -d "$CACHE/arm64/.kernel.XXXXXX")
	local log=$tmp/build.log stamp frag=$tmp/fragment
	arm64_fragment "$variant" >"$frag"
	# Reproducible version string: the source tarball's date, not the build's.
	stamp=$(date -u -d "@$(stat -c %Y "$KERNEL_SOURCE_TARBALL")" '+%Y-%m-%d %H:%M:%S UTC')
	local -a mk=(make -C "$src" O="$kb" ARCH=arm64 CROSS_COMPILE="$ARM64_CROSS"
		KBUILD_BUILD_USER=rig KBUILD_BUILD_HOST=vfio-net KBUILD_BUILD_TIMESTAMP="$stamp")
	step "arm64 kernel: configuring (tinyconfig + arm64/kernel.fragment${variant:+ + kernel-$variant.fragment})"
	run_logged "$log" "${mk[@]}" tinyconfig
	run_logged "$log" env ARCH=arm64 "$src/scripts/kconfig/merge_config.sh" -m -O "$kb" \
		"$kb/.config" "$frag"
	run_logged "$log" "${mk[@]}" olddefconfig
	check_fragment "$frag" "$kb/.config"
	rm -f "$frag"
	step "arm64 kernel: make -j$JOBS Image (about 8 min on 2 cores when cold; log: $log)"
	run_logged "$log" "${mk[@]}" -j"$JOBS" Image
	cp "$kb/arch/arm64/boot/Image" "$kb/.config" "$tmp/"
	mv "$tmp/.config" "$tmp/config"
	publish_dir "$tmp" "$out"
	flock -u 7
	step "arm64 kernel: done ($(du -h "$out/Image" | cut -f1))"
}
