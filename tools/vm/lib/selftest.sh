# shellcheck shell=bash
# tools/vm/lib/selftest.sh, sourced by tools/vm/rig: rig selftest.

# The rig's acceptance checks, with oracles no one here wrote: the kernel's own
# sdhci driver reading the card, the card image itself, and the C smoke test's
# VFIO view of the controller (values read on these QEMU models: each guest's
# SMOKE_EXPECT).
expected_smoke() {
	guest "$1" SMOKE_EXPECT
}

# Builds smoke/vfio-smoke.c statically for ARCH into the cache; prints its folder.
build_smoke() {
	local arch=$1 cc src=$RIG_DIR/smoke/vfio-smoke.c key dir
	cc=$(guest "$arch" SMOKE_CC)
	need_cmd "$cc"
	key=$(hash_str "cc=$($cc --version | head -n1)" <"$src")
	dir=$CACHE/$arch/smoke-$key
	if [[ ! -x $dir/vfio-smoke ]]; then
		mkdir -p "$dir"
		"$cc" -static -O2 -Wall -o "$dir/vfio-smoke.tmp.$$" "$src"
		mv "$dir/vfio-smoke.tmp.$$" "$dir/vfio-smoke"
	fi
	echo "$dir"
}

cmd_selftest() {
	local what=${1:-all} a fails=0
	local -a arches
	select_guests "$what" selftest
	arches=("${SELECTED_GUESTS[@]}")
	local card expected_size
	card=$(card_image)
	expected_size=$(($(stat -c %s "$card") / 512))
	for a in "${arches[@]}"; do
		local smoke out line ok=1
		smoke=$(build_smoke "$a")
		# shellcheck disable=SC2016 # expanded in the guest
		out=$("$RIG_DIR/rig" run "$a" --timeout 120 --payload "$smoke" -- \
			'cat /sys/block/$RIG_CARD_BLOCK/size; dd if=/dev/$RIG_CARD_BLOCK bs=512 skip=7 count=1 2>/dev/null | head -c 32 | od -An -c | tr -d " \n"; echo; g=$(rig-bind-vfio $RIG_VFIO_DEVICE) && /payload/vfio-smoke $g $RIG_VFIO_DEVICE') ||
			ok=0
		# The kernel's sdhci driver (before VFIO takes the device) sees the card image.
		grep -qx "$expected_size" <<<"$out" || ok=0
		grep -qxF "$(head -c $((7 * 512 + 32)) "$card" | tail -c 32 | od -An -c | tr -d ' \n')" <<<"$out" || ok=0
		while IFS= read -r line; do
			grep -qF -- "$line" <<<"$out" || {
				echo "rig selftest: $a: missing '$line'" >&2
				ok=0
			}
		done < <(expected_smoke "$a")
		if ((ok)); then
			echo "rig selftest: $a ok"
		else
			echo "rig selftest: $a FAILED; guest output:" >&2
			echo "$out" >&2
			fails=$((fails + 1))
		fi
	done
	((fails == 0))
}
