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

CTL=$top_builddir/dmscgwctl
PY=/usr/bin/python3
PEER=$top_srcdir/tests/peer/dmserver.py
[ -x $PY ] || skip_all "no /usr/bin/python3"
command -v wbxml2xml >/dev/null && command -v xml2wbxml >/dev/null ||
	skip_all "wbxml2xml/xml2wbxml missing (Debian libwbxml2-utils, contrib/deps.sh)"
command -v curl >/dev/null || skip_all "no curl"

# the server's own vectors first (PROTOCOL.md: Package#0, auth-md5)
$PY "$PEER" --selftest >"$T/selftest.tap" 2>&1
while read -r line; do
	case $line in
	"ok "*) ok "dmserver --selftest: ${line#ok * - }" ;;
	"not ok "*) not_ok "dmserver --selftest: ${line#not ok * - }" ;;
	esac
done <"$T/selftest.tap"

pick_port
start_pcscd
start_bus

# sessions_py EXPR: EXPR on s, the finished sessions of dmscgwctl --json
# sessions, oldest first
sessions_py() {
	"$CTL" --json sessions 2>/dev/null | $PY -c '
import json, sys
s = sorted((x for x in json.load(sys.stdin)["Sessions"] if x["state"] == "finished"),
           key=lambda x: x["id"])
print(eval(sys.argv[1]))' "$1"
}
finished_ge() { [ "$(sessions_py 'len(s)')" -ge "$1" ] 2>/dev/null; }
idle() { "$CTL" --json sessions 2>/dev/null | $PY -c '
import json, sys
sys.exit(any(x["state"] != "finished" for x in json.load(sys.stdin)["Sessions"]))'; }

# daemon_up_or_gone PID LOG
daemon_up_or_gone() {
	! kill -0 "$1" 2>/dev/null && return 0
	grep -qs "DM_SC account for DMSRV added" "$2" &&
		busctl --system status org.dmscgw1 >/dev/null 2>&1
}

# merge_tap NAME FILE: the server's checks, renumbered into ours
merge_tap() {
	local line
	[ -f "$2" ] || return
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok * - }" ;;
		"not ok "*) not_ok "${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$2"
}

# run_scenario NAME: one daemon, one server, the scenario's sessions
run_scenario() {
	local name=$1 d=$T/$1 srv dpid instr line n=0 sid rc res what
	mkdir -p "$d"
	$PY "$PEER" --scenario "$name" --dir "$d" 2>>"$d/server.log" &
	srv=$!
	PIDS+=("$srv")
	if ! wait_for 10 test -f "$d/port"; then
		not_ok "$name: dmserver started"
		return
	fi
	local sport
	sport=$(cat "$d/port")
	cat >"$d/dmscgw.conf" <<EOC
[daemon]
debug = dm

[card]
reader = Virtual PCD 00 00

[dm]
state_dir = $d/state
$(cat "$d/conf")
EOC
	"$DMSCGW" -f -c "$d/dmscgw.conf" >>"$d/dmscgw.log" 2>&1 &
	dpid=$!
	PIDS+=("$dpid")
	# up (the account added, the name on the bus), or gone
	if ! wait_for 10 daemon_up_or_gone "$dpid" "$d/dmscgw.log" ||
	   ! kill -0 "$dpid" 2>/dev/null; then
		not_ok "$name: the daemon started with the scenario's configuration"
		tail -n 5 "$d/dmscgw.log" | diag
		kill "$dpid" "$srv" 2>/dev/null
		wait "$dpid" "$srv" 2>/dev/null
		merge_tap "$name" "$d/tap"
		return
	fi
	while :; do
		instr=$(curl -s --max-time 10 "http://127.0.0.1:$sport/ctl/next")
		[ -z "$instr" ] || [ "$instr" = end ] && break
		n=$((n + 1))
		local want=ok trees=()
		while IFS= read -r line; do
			case $line in
			"notify "*)
				what="notify"
				out=$("$CTL" notify package0 --file "${line#notify }" 2>&1)
				check "$name s$n: dmscgwctl notify taken ($out)" \
					contains "$out" "notification taken" ;;
			"start "*)
				what="session start"
				out=$("$CTL" session start "${line#start }" 2>&1)
				check "$name s$n: dmscgwctl session start ($out)" \
					grep -qxE '[0-9]+' <<<"$out" ;;
			"result "*) want=${line#result } ;;
			"tree "* | "absent "*) trees+=("$line") ;;
			esac
		done <<<"$instr"
		if ! wait_for 20 finished_ge "$n" || ! wait_for 10 idle; then
			not_ok "$name s$n: the $what session finished"
			break
		fi
		res=$(sessions_py 's[-1]["result"] + " " + (s[-1]["error"] or "-")')
		check "$name s$n: dmscgwctl sessions reports ${want} ($res)" \
			test "${res%% *}" = "$want"
		for line in "${trees[@]}"; do
			local uri val got
			case $line in
			"tree "*)
				uri=${line#tree }; val=${uri#* }; uri=${uri%% *}
				got=$("$CTL" tree get "$uri" 2>&1)
				check "$name s$n: tree $uri = $( [ ${#val} -gt 24 ] &&
					echo "${val:0:12}...(${#val} bytes)" || echo "$val")" \
					test "$got" = "$val" ;;
			"absent "*)
				uri=${line#absent }
				check "$name s$n: tree has no $uri" \
					bash -c "! '$CTL' tree get '$uri' >/dev/null 2>&1" ;;
			esac
		done
	done
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid"
	rc=$?
	check "$name: the daemon exited cleanly" test $rc -eq 0
	kill -TERM "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	merge_tap "$name" "$d/tap"
}

for s in ${DM_PEER_SCENARIOS:-$($PY "$PEER" --list)}; do
	run_scenario "$s"
done
done_testing
