#!/bin/bash
# The DM client against an independent OMA DM 1.2 server (tests/peer/):
# stdlib Python, WBXML through Debian's libwbxml2-utils, credentials
# recomputed from the OMA texts -- no code shared with src/dm, so a fault
# made the same way in the daemon's codecs and in the virtual card shows.
# Each scenario gets a fresh daemon (its own state directory) whose
# [dm_sc] account points at the server over plain HTTP (no card needed);
# the server checks every client message (TAP lines, merged here) and says
# which session to trigger next (dmscgwctl notify package0 --file / session start),
# the result dmscgwctl must report, and the tree afterwards.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || skip_all "no /usr/bin/python3"
command -v wbxml2xml >/dev/null && command -v xml2wbxml >/dev/null ||
	skip_all "wbxml2xml/xml2wbxml missing (Debian libwbxml2-utils, contrib/deps.sh)"
command -v curl >/dev/null || skip_all "no curl"

# the server's own vectors first (PROTOCOL.md: Package#0, auth-md5)
$PY "$PEER_PY" --selftest >"$T/selftest.tap" 2>&1
while read -r line; do
	case $line in
	"ok "*) ok "dmserver --selftest: ${line#ok * - }" ;;
	"not ok "*) not_ok "dmserver --selftest: ${line#not ok * - }" ;;
	esac
done <"$T/selftest.tap"

pick_port
start_pcscd
start_bus

# run_scenario NAME: one daemon, one server, the scenario's sessions
run_scenario() {
	local name=$1 d=$T/$1 srv rc
	mkdir -p "$d"
	$PY "$PEER_PY" --scenario "$name" --dir "$d" 2>>"$d/server.log" &
	srv=$!
	PIDS+=("$srv")
	if ! wait_for 10 test -f "$d/port"; then
		not_ok "$name: dmserver started"
		return
	fi
	local sport
	sport=$(cat "$d/port")
	if ! peer_daemon "$d" "$d/conf"; then
		not_ok "$name: the daemon started with the scenario's configuration"
		tail -n 5 "$d/dmscgw.log" | diag
		kill "$DPID" "$srv" 2>/dev/null
		wait "$DPID" "$srv" 2>/dev/null
		merge_tap "$d/tap"
		return
	fi
	peer_sessions "$name" "http://127.0.0.1:$sport"
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	rc=$?
	check "$name: the daemon exited cleanly" test $rc -eq 0
	kill -TERM "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	merge_tap "$d/tap"
}

for s in ${DM_PEER_SCENARIOS:-$($PY "$PEER_PY" --list)}; do
	run_scenario "$s"
done
done_testing
