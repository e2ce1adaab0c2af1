# shellcheck shell=bash
# tools/vm/lib/run.sh, sourced by tools/vm/rig: rig run (boot a guest, run a command in it,
# print its output, exit with its code).

# Exit codes of `rig run` besides the command's own.
readonly EXIT_TIMEOUT=124    # the guest ran out of time (QEMU killed)
readonly EXIT_NO_COMMAND=125 # the guest never reached the command (or died in it)

# The marker the guest's /init writes after the command's output (see guest/init).
readonly EXIT_MARKER=__VFIO_RIG_EXIT__

# Accelerator for a guest with QEMU_ACCEL_KVM (x86_64): TCG unless VFIO_RIG_ACCEL=kvm and
# /dev/kvm is usable (the KVM we have seen here cannot run a stock kernel, so never by default).
# The arm64 guests always run under TCG (xlnx-zcu102 is not a KVM machine).
pick_accel() {
	local arch=$1 want=${VFIO_RIG_ACCEL:-tcg}
	if [[ -n $(guest "$arch" QEMU_ACCEL_KVM) && $want == kvm ]]; then
		if [[ -r /dev/kvm && -w /dev/kvm ]]; then
			echo kvm
			return
		fi
		echo "rig: VFIO_RIG_ACCEL=kvm but /dev/kvm is not usable; using tcg" >&2
	fi
	echo tcg
}

# Prints the QEMU command line for ARCH into the array named QEMU: the guest's QEMU_BIN and
# QEMU_ARGS with the placeholders filled in (lib/guests.sh); VARIANT: a variant of its kernel.
qemu_cmdline() {
	local arch=$1 initrd=$2 card=$3 console=$4 out=$5 append=$6 accel=$7 variant=${8:-}
	local -a args accel_opt
	guest_array "$arch" QEMU_ARGS args
	guest_array "$arch" "QEMU_ACCEL_${accel^^}" accel_opt
	local kernel dtb='' nvme=''
	kernel=$(kernel_image "$(guest "$arch" KERNEL)" "$variant")
	[[ -z $(guest "$arch" DTS) ]] || dtb=$(dtb_path "$arch")
	[[ ${args[*]} != *@NVME@* ]] || nvme=$(card_image "$NVME_MIB")
	QEMU=("$(guest "$arch" QEMU_BIN)")
	local a
	for a in "${args[@]}"; do
		if [[ $a == @ACCEL@ ]]; then
			QEMU+=("${accel_opt[@]}")
			continue
		fi
		a=${a//@KERNEL@/"$kernel"}
		a=${a//@DTB@/"$dtb"}
		a=${a//@INITRD@/"$initrd"}
		a=${a//@CARD@/"$card"}
		a=${a//@NVME@/"$nvme"}
		a=${a//@CONSOLE@/"$console"}
		a=${a//@OUT@/"$out"}
		a=${a//@APPEND@/"$append"}
		QEMU+=("$a")
	done
}

# Gives the guest MIB MiB of RAM (rig run --ram-mib): replaces -m in QEMU (the array qemu_cmdline
# made). A guest with RAM_LOW_MIB and RAM_HIGH_AT has that much RAM low and the rest at RAM_HIGH_AT:
# the ZCU102 has 2 GiB of DDR at 0 and the rest at 0x8_0000_0000, and QEMU's xlnx-zcu102 maps
# -m that way; but QEMU's DT fix-up for a direct kernel boot turns every /memory node into one bank
# from 0 of the whole size, which then covers the SoC's I/O space from 2 GiB up (the kernel puts its
# first page tables there and faults). So over 2048 MiB the device tree gets, in a variant made for
# this run, a memory node QEMU leaves alone (the kernel goes by device_type, QEMU by the node name)
# for the high bank, and a no-map reservation over QEMU's bank beyond 2 GiB, where there is no RAM.
set_guest_ram() {
	local arch=$1 mib=$2 work=$3 i low at
	for i in "${!QEMU[@]}"; do
		[[ ${QEMU[i]} == -m ]] && QEMU[i + 1]=${mib}M
	done
	low=$(guest "$arch" RAM_LOW_MIB)
	at=$(guest "$arch" RAM_HIGH_AT)
	[[ -n $low && -n $at ]] && ((mib > low)) || return 0
	local high=$(((mib - low) << 20)) base=$((low << 20)) dts=$work/ram.dts
	{
		cat "$RIG_DIR/$(guest "$arch" DTS)"
		printf '\n/ {\n'
		printf '\tddr-high@%x {\n\t\tdevice_type = "memory";\n' $((at))
		printf '\t\treg = <0x%x 0x%x 0x%x 0x%x>;\n\t};\n' $((at >> 32)) $((at & 0xffffffff)) $((high >> 32)) $((high & 0xffffffff))
		printf '\treserved-memory {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n'
		printf '\t\tnot-ram@%x {\n\t\t\treg = <0x%x 0x%x 0x%x 0x%x>;\n\t\t\tno-map;\n\t\t};\n\t};\n};\n' \
			$((base)) $((base >> 32)) $((base & 0xffffffff)) $((high >> 32)) $((high & 0xffffffff))
	} >"$dts"
	need_cmd dtc
	dtc -q -I dts -O dtb -o "$work/ram.dtb" "$dts"
	for i in "${!QEMU[@]}"; do
		[[ ${QEMU[i]} == -dtb ]] && QEMU[i + 1]=$work/ram.dtb
	done
	return 0
}

# Keeps the newest 50 console logs of default name.
prune_logs() {
	local dir=$1
	# shellcheck disable=SC2012 # our own file names, no odd characters
	{ ls -1t "$dir"/*.console.log 2>/dev/null || true; } | tail -n +51 | xargs -r rm -f
}

cmd_run() {
	[[ $# -ge 1 ]] || die "usage: rig run ARCH [--payload DIR]... [--timeout SEC] [--console-log FILE] [--append ARGS] [--card-spec N] [--card-mib N] [--ram-mib N] [--kernel VARIANT] [--eject-card-on LINE] -- COMMAND..."
	local arch=$1
	shift
	guest_known "$arch" || die "unknown architecture '$arch' ($(guest_names_text))"
	# shellcheck disable=SC2153 # CARD_MIB is lib/card.sh's default, card_mib this run's
	local timeout=${VFIO_RIG_TIMEOUT:-300} console='' append='' card_spec='' card_mib=$CARD_MIB ram_mib='' kernel_variant='' eject_on=''
	local -a payloads=()
	while [[ $# -gt 0 ]]; do
		case $1 in
		--payload)
			[[ $# -ge 2 && -e $2 ]] || die "--payload needs an existing directory or file"
			payloads+=("$2")
			shift 2
			;;
		--timeout)
			[[ ${2:-} =~ ^[0-9]+$ ]] || die "--timeout needs seconds"
			timeout=$2
			shift 2
			;;
		--console-log)
			[[ $# -ge 2 ]] || die "--console-log needs a file"
			console=$2
			shift 2
			;;
		--append)
			[[ $# -ge 2 ]] || die "--append needs kernel arguments"
			append="$append $2"
			shift 2
			;;
		--card-spec)
			# QEMU's card model: 2 (its default, physical layer 2.00) or 3 (3.01: takes CMD23).
			[[ ${2:-} =~ ^[1-3]$ ]] || die "--card-spec needs 1, 2 or 3 (QEMU sd-card spec_version)"
			card_spec=$2
			shift 2
			;;
		--kernel)
			# A variant of the arm64 kernel: arm64/kernel.fragment with arm64/kernel-NAME.fragment over it.
			[[ ${2:-} =~ ^[a-z0-9-]+$ ]] || die "--kernel needs a variant name (tools/vm/arm64/kernel-NAME.fragment)"
			kernel_has_variants "$(guest "$arch" KERNEL)" || die "--kernel: only the arm64 guests build their own kernel"
			[[ -f $RIG_DIR/arm64/kernel-$2.fragment ]] || die "--kernel $2: no tools/vm/arm64/kernel-$2.fragment"
			kernel_variant=$2
			shift 2
			;;
		--ram-mib)
			# Guest RAM. On arm64 (ZCU102) over 2048 MiB the rest is the board's high DDR at
			# 0x8_0000_0000, as on a real ZCU102 (set_guest_ram).
			if ! [[ ${2:-} =~ ^[0-9]+$ ]] || (($2 < 256 || $2 > 6144)); then
				die "--ram-mib needs MiB from 256 to 6144"
			fi
			ram_mib=$2
			shift 2
			;;
		--card-mib)
			# A bigger card: over 2048 MiB QEMU's model is a high-capacity (SDHC) card.
			if ! [[ ${2:-} =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 4096 || ($2 & ($2 - 1)) != 0)); then
				die "--card-mib needs a power of two from 1 to 4096 (QEMU's SD model wants a power of two)"
			fi
			card_mib=$2
			shift 2
			;;
		--eject-card-on)
			# Card removal mid-command: see eject_card_watch.
			[[ -n ${2:-} && $2 != *$'\n'* ]] || die "--eject-card-on needs a line of text the command prints when the card is to go"
			eject_on=$2
			shift 2
			;;
		--)
			shift
			break
			;;
		*) die "unknown option '$1' (the command goes after --)" ;;
		esac
	done
	[[ $# -ge 1 ]] || die "no command given (rig run $arch [options] -- COMMAND...)"
	local command="$*"

	# Build what is missing; progress lines only when something is built.
	# A failed build exits 1 (die), distinct from the guest's codes.
	resolve_apt
	card_image "$card_mib" >/dev/null
	[[ $(guest "$arch" QEMU_ARGS) != *@NVME@* ]] || card_image "$NVME_MIB" >/dev/null
	lock_arch "$arch"
	build_arch "$arch"
	unlock_arch
	[[ -z $kernel_variant ]] || kernel_build "$(guest "$arch" KERNEL)" "$kernel_variant"
	local base
	base=$CACHE/$arch/initramfs-$(initramfs_key "$arch")/initramfs.cpio.gz

	mkdir -p "$CACHE/log" "$CACHE/tmp"
	local logdir=$CACHE/log
	if [[ -z $console ]]; then
		console=$logdir/$arch-$(date +%Y%m%d-%H%M%S)-$$.console.log
		ln -sfn "$(basename "$console")" "$logdir/$arch-last.console.log"
		prune_logs "$logdir"
	fi
	local work
	work=$(mktemp -d "$CACHE/tmp/run.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $work is local
	trap "rm -rf '$work'" EXIT

	# The run's own cpio, appended to the cached base: /rig/command and payloads.
	mkdir -p "$work/root/rig" "$work/root/payload"
	printf '%s\n' "$command" >"$work/root/rig/command"
	local p
	for p in "${payloads[@]}"; do
		if [[ -d $p ]]; then
			cp -a "$p/." "$work/root/payload/"
		else
			cp -a "$p" "$work/root/payload/"
		fi
	done
	cat "$base" >"$work/initrd"
	make_cpio "$work/root" >>"$work/initrd"
	rm -rf "$work/root"

	local accel
	accel=$(pick_accel "$arch")
	local -a QEMU
	qemu_cmdline "$arch" "$work/initrd" "$(card_image "$card_mib")" "$console" "$work/out" "$append" "$accel" "$kernel_variant"
	[[ -n $card_spec ]] && QEMU+=(-global "sd-card.spec_version=$card_spec")
	[[ -z $ram_mib ]] || set_guest_ram "$arch" "$ram_mib" "$work"
	local watcher=''
	if [[ -n $eject_on ]]; then
		mkfifo "$work/qmp.in" "$work/qmp.out"
		# shellcheck disable=SC2054 # commas inside QEMU option values
		QEMU+=(-chardev "pipe,id=qmp,path=$work/qmp" -mon chardev=qmp,mode=control)
	fi
	{
		echo "rig: $(date -Is) arch=$arch accel=$accel timeout=${timeout}s"
		echo "rig: command: $command"
		echo "rig: qemu: ${QEMU[*]}"
	} >"$console"

	local start=$SECONDS rc=0
	if [[ -n $eject_on ]]; then
		eject_card_watch "$arch" "$work/out" "$eject_on" "$work/qmp" "$console" "$work/eject" &
		watcher=$!
	fi
	# QEMU's own messages go to the console log too; stdin is not the guest's.
	timeout -k 5 "$timeout" "${QEMU[@]}" </dev/null >>"$console" 2>&1 || rc=$?
	local took=$((SECONDS - start))
	echo "rig: qemu exited $rc after ${took}s" >>"$console"
	if [[ -n $watcher ]]; then
		# Still waiting for its line (the command never printed it): not needed any more.
		kill "$watcher" 2>/dev/null || true
		wait "$watcher" 2>/dev/null || true
	fi

	# The command's output: everything before the last marker line.
	local out=$work/out marker code=
	touch "$out"
	marker=$(grep -a -b -o "^$EXIT_MARKER [0-9]*\$" "$out" | tail -n1 || true)
	if [[ -n $marker ]]; then
		local off=${marker%%:*}
		code=${marker##* }
		# Drop the marker and the newline the guest put before it.
		head -c $((off > 0 ? off - 1 : 0)) "$out"
	else
		cat "$out"
	fi

	if ((rc == 124 || rc == 137)); then
		echo "rig: timeout: the $arch guest did not finish in ${timeout}s (console log: $console); last console lines:" >&2
		tail -n 25 "$console" >&2
		exit "$EXIT_TIMEOUT"
	fi
	if [[ -n $eject_on ]]; then
		# The command's exit code alone cannot tell a card that stayed from one that went.
		if [[ ! -f $work/eject ]]; then
			echo "rig: --eject-card-on: the command never printed '$eject_on'; the card stayed in" >&2
		elif [[ $(cat "$work/eject") != ejected ]]; then
			echo "rig: --eject-card-on: $(cat "$work/eject")" >&2
		fi
	fi
	if [[ -z $code ]]; then
		echo "rig: the $arch guest never reached the command or died in it (qemu exit $rc; console log: $console); last console lines:" >&2
		tail -n 25 "$console" >&2
		exit "$EXIT_NO_COMMAND"
	fi
	exit "$code"
}
