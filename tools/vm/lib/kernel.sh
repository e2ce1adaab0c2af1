# shellcheck shell=bash
# tools/vm/lib/kernel.sh, sourced by tools/vm/rig: the kinds of kernel a guest can boot (its
# KERNEL key). Each kind is a part of its own; these functions send a request to it.
#   arm64         lib/kernel-arm64.sh: built here from Debian's linux-source-6.12 (tinyconfig +
#                 arm64/kernel.fragment), no modules; has variants (rig run --kernel NAME)
#   debian-amd64  lib/kernel-debian-amd64.sh: Debian's stock x86_64 kernel package, with the
#                 modules of x86_64/modules.txt, which go into the guest's initramfs

# Builds the kernel of KIND if it is missing (VARIANT: a variant of the arm64 kernel).
kernel_build() {
	case $1 in
	arm64) build_arm64_kernel "${2:-}" ;;
	debian-amd64) build_x86_kernel ;;
	*) die "unknown KERNEL '$1' (arm64 or debian-amd64; see tools/vm/lib/kernel.sh)" ;;
	esac
}

# The folder of the built kernel of KIND (VARIANT as above).
kernel_dir() {
	case $1 in
	arm64) echo "$CACHE/arm64/kernel-$(arm64_kernel_key "${2:-}")" ;;
	debian-amd64) echo "$CACHE/x86_64/kernel-$(x86_kernel_key)" ;;
	esac
}

# The image QEMU's -kernel boots. Debian's: the uncompressed vmlinux (PVH) if the build
# found one, else the bzImage.
kernel_image() {
	local dir
	dir=$(kernel_dir "$@")
	case $1 in
	arm64) echo "$dir/Image" ;;
	debian-amd64) if [[ -f $dir/vmlinux ]]; then echo "$dir/vmlinux"; else echo "$dir/vmlinuz"; fi ;;
	esac
}

# Does KIND come in variants (rig run --kernel NAME)?
kernel_has_variants() {
	[[ $1 == arm64 ]]
}

# What a guest's initramfs key takes from its kernel: the modules it carries.
kernel_initramfs_key() {
	[[ $1 != debian-amd64 ]] || echo "kernel=$(x86_kernel_key)"
}

# Copies the kernel's modules into the initramfs tree ROOT (kinds without modules: nothing).
kernel_install_modules() {
	local kind=$1 root=$2
	[[ $kind == debian-amd64 ]] || return 0
	local kdir
	kdir=$(kernel_dir "$kind")
	cp -a "$kdir/modules/$(cat "$kdir/kernel-release")" "$root/lib/modules/"
	cp "$kdir/modules/load-order" "$root/lib/modules/rig-load-order"
}

# Prints the cache paths the current inputs of KIND use, for rig gc.
kernel_gc_keep() {
	kernel_dir "$1"
	case $1 in
	arm64)
		local variant
		for variant in "$RIG_DIR"/arm64/kernel-*.fragment; do
			[[ -f $variant ]] || continue
			variant=${variant##*/kernel-}
			kernel_dir arm64 "${variant%.fragment}"
		done
		echo "$CACHE/arm64/kbuild-$(kernel_source_version)"
		echo "$CACHE/src/linux-source-6.12_$(kernel_source_version)"
		;;
	debian-amd64) deb_path "$(x86_kernel_pkg)" "$(apt_version "$(x86_kernel_pkg)")" ;;
	esac
}
