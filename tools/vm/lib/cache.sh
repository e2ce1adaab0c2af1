# shellcheck shell=bash
# tools/vm/lib/cache.sh, sourced by tools/vm/rig: publishing into the cache, its locks, and
# the commands that look after it (rig info, rig gc, rig clean).

# Moves a finished build directory into place; a concurrent builder may have won.
publish_dir() {
	local tmp=$1 final=$2
	if ! mv -T "$tmp" "$final" 2>/dev/null; then
		rm -rf "$tmp"
		[[ -d $final ]] || die "could not create $final"
	fi
}

# Serialises the builds of one architecture between concurrent `rig` processes
# sharing a cache (e.g. tests running guests in parallel). Shared pieces (card,
# debs, kernel source) are published with an atomic rename, so at worst two
# processes make the same file twice.
lock_arch() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock-$1"
	flock 9
}

unlock_arch() {
	flock -u 9
}

# Holds the locks of every guest until the process ends (rig gc, rig clean).
lock_all_guests() {
	mkdir -p "$CACHE"
	local a fd
	for a in "${GUEST_NAMES[@]}"; do
		exec {fd}>"$CACHE/.lock-$a"
		flock "$fd"
	done
}

# ---------------------------------------------------------------- info, gc, clean

cmd_info() {
	resolve_apt
	printf '%-19s %s\n' "cache:" "$CACHE" "repo inputs:" "$RIG_DIR"
	local img key
	key=$(hash_str "recipe=$RECIPE_CARD" "size=$CARD_MIB" <"$RIG_DIR/card/make-card-image.c")
	img=$CACHE/card/card-$key.img
	printf '%-19s %s (%s)\n' "card image:" "$img" "$([[ -f $img ]] && echo present || echo missing)"
	local a k
	for a in "${GUEST_NAMES[@]}"; do
		k=$(kernel_image "$(guest "$a" KERNEL)")
		printf '%-19s %s (%s)\n' "$a kernel:" "$k" "$([[ -f $k ]] && echo present || echo missing)"
		if [[ -n $(guest "$a" DTS) ]]; then
			k=$(dtb_path "$a")
			printf '%-19s %s (%s)\n' "$a dtb:" "$k" "$([[ -f $k ]] && echo present || echo missing)"
		fi
		k=$CACHE/$a/initramfs-$(initramfs_key "$a")/initramfs.cpio.gz
		printf '%-19s %s (%s)\n' "$a initrd:" "$k" "$([[ -f $k ]] && echo present || echo missing)"
	done
	printf '%-19s %s\n' "console logs:" "$CACHE/log (newest: <arch>-last.console.log)"
	if [[ -d $CACHE ]]; then
		printf '%-19s %s\n' "cache size:" "$(du -sh "$CACHE" 2>/dev/null | cut -f1)"
	fi
}

# Deletes artefacts the current inputs no longer use (older kernels, initramfs,
# cards, debs, extracted kernel sources), leftover run directories and all but the
# newest console logs.
cmd_gc() {
	resolve_apt
	local -A keep=()
	local card_key
	card_key=$(hash_str "recipe=$RECIPE_CARD" "size=$CARD_MIB" <"$RIG_DIR/card/make-card-image.c")
	keep[$CACHE/card/card-$card_key.img]=1
	keep[$CACHE/tools/make-card-image-$card_key]=1
	card_key=$(hash_str "recipe=$RECIPE_CARD" "size=$NVME_MIB" <"$RIG_DIR/card/make-card-image.c")
	keep[$CACHE/card/card-$card_key.img]=1
	keep[$CACHE/tools/make-card-image-$card_key]=1
	keep[$APT_RESOLVED]=1
	local a kind p pkg paths
	local -A kinds=() dirs=()
	for a in "${GUEST_NAMES[@]}"; do
		kinds[$(guest "$a" KERNEL)]=1
		dirs[$CACHE/$a]=1
		[[ -z $(guest "$a" DTS) ]] || keep[$(dirname "$(dtb_path "$a")")]=1
		keep[$CACHE/$a/initramfs-$(initramfs_key "$a")]=1
		for pkg in $(userspace_pkgs "$a"); do
			keep[$(deb_path "$pkg" "$(apt_version "$pkg")")]=1
		done
	done
	for kind in "${!kinds[@]}"; do
		dirs[$(dirname "$(kernel_dir "$kind")")]=1
		paths=$(kernel_gc_keep "$kind")
		while IFS= read -r p; do
			keep[$p]=1
		done <<<"$paths"
	done
	lock_all_guests
	for a in "${!dirs[@]}"; do
		for p in "$a"/{kernel,kbuild,dtb,initramfs}-*; do
			[[ -e $p && -z ${keep[$p]:-} ]] || continue
			echo "rig gc: removing $p" >&2
			rm -rf "$p"
		done
	done
	for p in "$CACHE"/card/card-* "$CACHE"/src/linux-source-* "$CACHE"/debs/*.deb \
		"$CACHE"/tools/* "$CACHE"/apt/resolved-*; do
		[[ -e $p && -z ${keep[$p]:-} ]] || continue
		echo "rig gc: removing $p" >&2
		rm -rf "$p"
	done
	rm -rf "$CACHE"/tmp/run.* "$CACHE"/*/.kernel.* "$CACHE"/*/.initramfs.* "$CACHE"/*/.dtb.*
	[[ -d $CACHE/log ]] && prune_logs "$CACHE/log"
	echo "rig gc: cache now $(du -sh "$CACHE" | cut -f1)" >&2
}

cmd_clean() {
	[[ -d $CACHE ]] || return 0
	lock_all_guests
	find "$CACHE" -mindepth 1 -maxdepth 1 ! -name '.lock-*' -exec rm -rf {} +
	echo "rig: emptied $CACHE"
}
