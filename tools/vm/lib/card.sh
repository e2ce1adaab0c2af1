# shellcheck shell=bash
# tools/vm/lib/card.sh, sourced by tools/vm/rig: the SD card image (and the nvme's namespace,
# an image of the same recipe), made by card/make-card-image.c.

# Bumped when the recipe below changes in a way its hashed inputs do not show.
readonly RECIPE_CARD=1

readonly CARD_MIB=64
# The nvme's namespace (x86_64, arm64-virt): an image of the card's recipe, this size
# whatever --card-mib says, so tests know its blocks (Rig.CardRecipeHash).
# shellcheck disable=SC2034 # read by lib/build.sh, lib/cache.sh and lib/run.sh
readonly NVME_MIB=16

# The card image of SIZE MiB (default CARD_MIB; over 2048 QEMU models an SDHC card).
card_image() {
	local mib=${1:-$CARD_MIB} src=$RIG_DIR/card/make-card-image.c key
	key=$(hash_str "recipe=$RECIPE_CARD" "size=$mib" <"$src")
	local img=$CACHE/card/card-$key.img
	if [[ ! -f $img ]]; then
		need_cmd gcc
		step "card image: $mib MiB from card/make-card-image.c"
		mkdir -p "$CACHE/card" "$CACHE/tools"
		local bin=$CACHE/tools/make-card-image-$key
		gcc -O2 -o "$bin.tmp.$$" "$src"
		mv "$bin.tmp.$$" "$bin"
		"$bin" "$img.tmp.$$" "$mib"
		chmod 0444 "$img.tmp.$$" # guests use snapshot=on; nothing may write it
		mv "$img.tmp.$$" "$img"
	fi
	echo "$img"
}
