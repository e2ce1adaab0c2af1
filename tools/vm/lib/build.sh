# shellcheck shell=bash
# tools/vm/lib/build.sh, sourced by tools/vm/rig: what a guest needs before it boots (rig build).

# Builds what the guest ARCH boots: its kernel, its device tree if it has one, its initramfs.
build_arch() {
	local arch=$1
	guest_known "$arch" || die "unknown architecture '$arch' ($(guest_names_text))"
	need_cmd "$(guest "$arch" QEMU_BIN)"
	kernel_build "$(guest "$arch" KERNEL)"
	[[ -z $(guest "$arch" DTS) ]] || build_dtb "$arch"
	build_initramfs "$arch"
}

cmd_build() {
	local what=${1:-all} a
	local -a arches
	select_guests "$what" build
	arches=("${SELECTED_GUESTS[@]}")
	# shellcheck disable=SC2034 # read by cached() in lib/common.sh
	SHOW_CACHED=1
	resolve_apt
	card_image >/dev/null
	card_image "$NVME_MIB" >/dev/null
	for a in "${arches[@]}"; do
		lock_arch "$a"
		build_arch "$a"
		unlock_arch
	done
	step "build $what: ready"
}
