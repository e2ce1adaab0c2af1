# shellcheck shell=bash
# tools/vm/lib/guests.sh, sourced by tools/vm/rig: the guests, read from tools/vm/guests/NAME.conf.
#
# A guest is a data file: NAME.conf sets the keys below (bash assignments, sourced one at a
# time into a clean set of variables). load_guests reads every file once and keeps the values
# in GUEST["NAME:KEY"] (arrays one element a line); `guest NAME KEY` and `guest_array NAME KEY
# VAR` read them back. Nothing else in the rig names a guest.

# Keys a guest file may set; "!" marks the ones it must set, "@" the arrays.
readonly GUEST_KEYS=(
	'!QEMU_BIN'           # QEMU's program: qemu-system-aarch64, qemu-system-x86_64
	'@!QEMU_ARGS'         # its arguments; placeholders below are filled in at run time
	'@QEMU_ACCEL_TCG'     # what @ACCEL@ in QEMU_ARGS becomes under TCG (empty: no @ACCEL@)
	'@QEMU_ACCEL_KVM'     # ... under KVM; empty: the guest never runs under KVM
	'!KERNEL'             # the kernel it boots: arm64 (lib/kernel-arm64.sh, built here) or
	                      # debian-amd64 (lib/kernel-debian-amd64.sh, Debian's package)
	'DTS'                 # a device tree source (tools/vm/...) the guest boots with, or none
	'!DEB_ARCH'           # Debian architecture of its userspace (busybox, glibc, ...)
	'!TRIPLET'            # GNU triplet of that architecture (library folder names)
	'!SMOKE_CC'           # C compiler for static guest programs (rig selftest's smoke test)
	'!OUT_TTY'            # /etc/rig.conf RIG_OUT_TTY: the UART the command's output goes to
	'!VFIO_DEVICE'        # /etc/rig.conf RIG_VFIO_DEVICE: the SD host controller's sysfs name
	'!CARD_BLOCK'         # /etc/rig.conf RIG_CARD_BLOCK: the card's block device
	'!CARD_DRIVE'         # QEMU's name of the card's drive (the QMP eject of --eject-card-on)
	'RAM_LOW_MIB'         # --ram-mib over this many MiB: the rest is RAM at RAM_HIGH_AT
	'RAM_HIGH_AT'         # (the device tree gets the high bank, lib/run.sh set_guest_ram)
	'@!SMOKE_EXPECT'      # lines rig selftest expects from the C smoke test on this guest
)
# Placeholders in QEMU_ARGS (lib/run.sh qemu_cmdline): @KERNEL@ the kernel image, @DTB@ the
# compiled DTS, @INITRD@ the run's initramfs, @CARD@ the SD card image, @NVME@ the nvme's
# namespace image (made only for guests that use it), @CONSOLE@ the console log, @OUT@ the
# command's output file, @APPEND@ the kernel arguments of --append, and @ACCEL@ (a whole
# argument) the accelerator's arguments.

declare -A GUEST=()
GUEST_NAMES=()

# Reads tools/vm/guests/*.conf into GUEST and GUEST_NAMES (sorted by name).
load_guests() {
	local file name
	local -a names
	mapfile -t names < <(cd "$RIG_DIR/guests" && for file in *.conf; do echo "${file%.conf}"; done | LC_ALL=C sort)
	[[ ${#names[@]} -gt 0 && ${names[0]} != '*' ]] || die "no guests in $RIG_DIR/guests (NAME.conf files)"
	for name in "${names[@]}"; do
		[[ $name =~ ^[a-z0-9_-]+$ ]] || die "tools/vm/guests/$name.conf: a guest name is lower case letters, digits, '-' and '_'"
		load_guest "$name"
	done
	GUEST_NAMES=("${names[@]}")
}

# Sources one guest file with its keys as fresh locals (so no value leaks from one guest to
# the next, and the caller's environment keeps its own variables of these names).
load_guest() {
	local name=$1 key k decl
	# shellcheck disable=SC2034 # set by the guest file
	local "${GUEST_KEYS[@]//[@!]/}"
	# shellcheck source=/dev/null # one of tools/vm/guests/*.conf
	source "$RIG_DIR/guests/$name.conf"
	for key in "${GUEST_KEYS[@]}"; do
		k=${key//[@!]/}
		decl=$(declare -p "$k" 2>/dev/null || true)
		if [[ $key == *@* ]]; then
			[[ $decl != *=* || $decl == 'declare -a'* ]] || die "tools/vm/guests/$name.conf: $k is a list: $k=(...)"
			GUEST[$name:$k]=''
			if [[ $decl == *=* ]]; then
				local -n list=$k
				GUEST[$name:$k]=$( ((${#list[@]} == 0)) || printf '%s\n' "${list[@]}")
				unset -n list
			fi
		else
			[[ $decl != 'declare -a'* ]] || die "tools/vm/guests/$name.conf: $k is one value, not a list"
			GUEST[$name:$k]=${!k:-}
		fi
		[[ $key != *!* || -n ${GUEST[$name:$k]} ]] || die "tools/vm/guests/$name.conf does not set $k"
	done
}

# The value of KEY for the guest NAME (arrays: one element a line).
guest() {
	echo "${GUEST[$1:$2]}"
}

# Sets the array named VAR to the array KEY of the guest NAME.
# shellcheck disable=SC2034 # into: a reference to the caller's array
guest_array() {
	local -n into=$3
	into=()
	[[ -z ${GUEST[$1:$2]} ]] || mapfile -t into <<<"${GUEST[$1:$2]}"
}

# Is NAME a guest?
guest_known() {
	[[ -n ${GUEST[$1:QEMU_BIN]:-} ]]
}

# "a, b or c": the guests' names for messages; with SEP ("|"), "a|b|c".
guest_names_text() {
	local sep=${1:-}
	if [[ -n $sep ]]; then
		(
			IFS=$sep
			echo "${GUEST_NAMES[*]}"
		)
		return
	fi
	local n=${#GUEST_NAMES[@]} text
	text=$(IFS=,; echo "${GUEST_NAMES[*]:0:n-1}")
	text=${text//,/, }
	echo "${text:+$text or }${GUEST_NAMES[n-1]}"
}

# ---------------------------------------------------------------- per-guest facts

# Debian architecture, userspace packages and guest facts per rig architecture.
deb_arch() {
	guest "$1" DEB_ARCH
}

triplet() {
	guest "$1" TRIPLET
}

userspace_pkgs() {
	local a
	a=$(deb_arch "$1")
	echo "busybox-static:$a libc6:$a libstdc++6:$a libgcc-s1:$a"
}

# The userspace packages of every guest, each Debian architecture once (in the order
# of the guests' names).
all_userspace_pkgs() {
	local g a
	local -A seen=()
	local -a pkgs=()
	for g in "${GUEST_NAMES[@]}"; do
		a=$(deb_arch "$g")
		[[ -z ${seen[$a]:-} ]] || continue
		seen[$a]=1
		pkgs+=("$(userspace_pkgs "$g")")
	done
	echo "${pkgs[*]}"
}

# /etc/rig.conf in the guest: what commands and tests can rely on per architecture.
rig_conf() {
	printf 'RIG_ARCH=%s\nRIG_OUT_TTY=%s\nRIG_VFIO_DEVICE=%s\nRIG_CARD_BLOCK=%s\n' \
		"$1" "$(guest "$1" OUT_TTY)" "$(guest "$1" VFIO_DEVICE)" "$(guest "$1" CARD_BLOCK)"
}

# The guests a command that takes "NAME|all" names, into the array SELECTED_GUESTS; anything else is
# the command's usage error. Used by build and selftest.
# shellcheck disable=SC2034 # SELECTED_GUESTS is the result, read by the caller
select_guests() {
	local what=$1 command=$2
	if [[ $what == all ]]; then
		SELECTED_GUESTS=("${GUEST_NAMES[@]}")
	elif guest_known "$what"; then
		SELECTED_GUESTS=("$what")
	else
		die "usage: rig $command [$(guest_names_text '|')|all]"
	fi
}
