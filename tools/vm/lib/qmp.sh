# shellcheck shell=bash
# tools/vm/lib/qmp.sh, sourced by tools/vm/rig: QEMU's monitor during a run (rig run --eject-card-on).

# The legacy block-device name QEMU gives the card's drive (the guest's CARD_DRIVE):
# `-drive if=sd,index=1` is "sd1", the PCI guests' `-drive if=none,id=card` is "card".
card_drive() {
	guest "$1" CARD_DRIVE
}

# --eject-card-on LINE, run in the background beside QEMU: once the command's output (the
# file OUT) holds LINE as a line of its own, removes the card through QEMU's QMP monitor
# on the FIFO pair QMP.in / QMP.out (`-chardev pipe`: no socket client needed, and the guest
# has no way to reach it). The monitor's reply goes to the console log and to RESULT, which
# says "ejected ..." or "failed ...". Opening the FIFOs read-write never blocks, even if
# QEMU is gone.
eject_card_watch() {
	local arch=$1 out=$2 line=$3 qmp=$4 console=$5 result=$6 start=$SECONDS
	until grep -qxF -- "$line" "$out" 2>/dev/null; do
		sleep 0.1
	done
	local at=$((SECONDS - start)) reply='' r n
	exec 5<>"$qmp.in" 6<>"$qmp.out"
	printf '%s\n' '{"execute":"qmp_capabilities"}' \
		"{\"execute\":\"eject\",\"arguments\":{\"device\":\"$(card_drive "$arch")\",\"force\":true}}" >&5
	# Replies come in order after the greeting (and events, none here): the second
	# "return" or "error" answers the eject.
	n=0
	while ((n < 2)) && IFS= read -r -t 10 r <&6; do
		if [[ $r == *'"return"'* || $r == *'"error"'* ]]; then
			n=$((n + 1))
			reply=$r
		fi
	done
	if ((n == 2)) && [[ $reply == *'"return"'* ]]; then
		echo "rig: ejected the card (QMP eject $(card_drive "$arch")) ${at}s after QEMU started: the command printed '$line'" >>"$console"
		echo "ejected" >"$result"
	else
		echo "rig: --eject-card-on: QEMU did not eject the card (QMP reply: ${reply:-none within 10 s})" >>"$console"
		echo "failed: ${reply:-no reply from the QEMU monitor within 10 s}" >"$result"
	fi
}
