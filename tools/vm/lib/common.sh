# shellcheck shell=bash
# tools/vm/lib/common.sh, sourced by tools/vm/rig: messages, failing, hashing, long commands.

die() {
	echo "rig: error: $*" >&2
	exit 1
}

# One progress line per step on stderr (stdout of `rig run` is the command's).
step() {
	printf '[rig %4ds] %s\n' $((SECONDS - T0)) "$*" >&2
}

# "Already built" lines: shown by `rig build`, not by `rig run`.
SHOW_CACHED=0
cached() {
	((SHOW_CACHED == 0)) || step "$@"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "'$c' not found: run tools/setup-host (as root) first"
	done
}

# Short content hash of its arguments (strings) and stdin, as a cache key.
hash_str() {
	{
		printf '%s\n' "$@"
		cat
	} | sha256sum | cut -c1-16
}

# Runs a long command with its output in LOG, printing a heartbeat with the log's
# last line every minute, and the log's tail if it fails.
run_logged() {
	local log=$1
	shift
	"$@" >>"$log" 2>&1 &
	local pid=$! n=0 rc=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$((n + 1))
		if ((n % 60 == 0)); then
			step "  ... still running: $(tail -n1 "$log" | cut -c1-80)"
		fi
	done
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		echo "rig: command failed (exit $rc): $*" >&2
		echo "rig: last lines of $log:" >&2
		tail -n 30 "$log" >&2
		exit 1
	fi
}
