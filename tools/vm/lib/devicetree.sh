# shellcheck shell=bash
# tools/vm/lib/devicetree.sh, sourced by tools/vm/rig: the device tree of a guest with a DTS
# key (the ZCU102's arm64/zcu102-rig.dts), compiled once per source and dtc version.

dtb_key() {
	hash_str "dtc=$(dtc --version 2>&1 | head -n1)" <"$RIG_DIR/$(guest "$1" DTS)"
}

# The compiled device tree of the guest ARCH: $CACHE/ARCH/dtb-KEY/NAME.dtb.
dtb_path() {
	local dts
	dts=$(guest "$1" DTS)
	dts=${dts##*/}
	echo "$CACHE/$1/dtb-$(dtb_key "$1")/${dts%.dts}.dtb"
}

build_dtb() {
	local arch=$1 dts out dtb
	dts=$(guest "$arch" DTS)
	dtb=$(dtb_path "$arch")
	out=${dtb%/*}
	if [[ -f $dtb ]]; then
		cached "$arch device tree: cached"
		return
	fi
	need_cmd dtc
	step "$arch device tree: dtc $dts"
	mkdir -p "$CACHE/$arch"
	local tmp
	tmp=$(mktemp -d "$CACHE/$arch/.dtb.XXXXXX")
	dtc -q -I dts -O dtb -o "$tmp/${dtb##*/}" "$RIG_DIR/$dts"
	publish_dir "$tmp" "$out"
}
