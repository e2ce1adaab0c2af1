# shellcheck shell=bash
# tools/vm/lib/initramfs.sh, sourced by tools/vm/rig: a guest's initramfs (busybox, glibc,
# libstdc++ from Debian's packages, guest/init, guest/rig-bind-vfio, /etc/rig.conf, the
# kernel's modules if it has any), and the cpio archives `rig run` appends to it.

# Bumped when the recipe below changes in a way its hashed inputs do not show.
readonly RECIPE_INITRAMFS=2

# Writes a newc cpio archive of the tree DIR on stdout: everything owned by root,
# fixed mtimes and inode numbers, so that the same inputs give the same bytes.
# No /dev/console node is needed: the kernel's built-in default initramfs
# (CONFIG_INITRAMFS_SOURCE="", Debian's and ours) already has it.
make_cpio() {
	local dir=$1
	find "$dir" -exec touch -h -d @0 {} +
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet)
}

initramfs_key() {
	local arch=$1 extra='' p versions=
	for p in $(userspace_pkgs "$arch"); do
		versions="$versions $p=$(apt_version "$p")"
	done
	extra=$(kernel_initramfs_key "$(guest "$arch" KERNEL)")
	{
		cat "$RIG_DIR/guest/init" "$RIG_DIR/guest/rig-bind-vfio"
		rig_conf "$arch"
	} | hash_str "recipe=$RECIPE_INITRAMFS" "arch=$arch" "$versions" "$extra"
}

build_initramfs() {
	local arch=$1 key out
	key=$(initramfs_key "$arch")
	out=$CACHE/$arch/initramfs-$key
	if [[ -f $out/initramfs.cpio.gz ]]; then
		cached "$arch initramfs: cached"
		return
	fi
	need_cmd dpkg-deb gzip cpio
	mkdir -p "$CACHE/$arch"
	local tmp
	tmp=$(mktemp -d "$CACHE/$arch/.initramfs.XXXXXX")
	local root=$tmp/root tri
	tri=$(triplet "$arch")
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,payload,rig,lib/modules}

	# Userspace from Debian's packages for the guest architecture (never installed
	# on the host): busybox, and glibc/libstdc++/libgcc_s for .NET apps.
	local pkg ver deb
	local -a pkgs
	read -r -a pkgs <<<"$(userspace_pkgs "$arch")"
	fetch_debs "${pkgs[@]}"
	for pkg in "${pkgs[@]}"; do
		ver=$(apt_version "$pkg")
		deb=$(fetch_deb "$pkg" "$ver")
		dpkg-deb -x "$deb" "$tmp/x"
		echo "$pkg $ver" >>"$root/etc/rig-packages"
	done
	step "$arch initramfs: assembling"
	# Not needed in the guest: docs, locales, iconv modules (20 MB), audit libs.
	rm -rf "$tmp/x/usr/share" "$tmp/x/usr/lib/$tri/gconv" "$tmp/x/usr/lib/$tri/audit"
	mv "$tmp/x/bin/busybox" "$root/bin/busybox"
	rmdir "$tmp/x/bin" 2>/dev/null || true
	cp -a "$tmp/x/." "$root/"
	rm -rf "$tmp/x"
	ln -s busybox "$root/bin/sh"

	install -m 0755 "$RIG_DIR/guest/init" "$root/init"
	install -m 0755 "$RIG_DIR/guest/rig-bind-vfio" "$root/bin/rig-bind-vfio"
	rig_conf "$arch" >"$root/etc/rig.conf"
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"

	kernel_install_modules "$(guest "$arch" KERNEL)" "$root"

	(cd "$root" && find . -mindepth 1 | LC_ALL=C sort) >"$tmp/manifest"
	make_cpio "$root" | gzip -n -6 >"$tmp/initramfs.cpio.gz"
	# Pad to 4 bytes: a cpio appended at run time must start 4-byte aligned.
	local size pad
	size=$(stat -c %s "$tmp/initramfs.cpio.gz")
	pad=$(((4 - size % 4) % 4))
	head -c "$pad" /dev/zero >>"$tmp/initramfs.cpio.gz"
	rm -rf "$root"
	publish_dir "$tmp" "$out"
	step "$arch initramfs: done ($(du -h "$out/initramfs.cpio.gz" | cut -f1))"
}
