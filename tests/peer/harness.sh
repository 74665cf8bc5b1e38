# tests/peer/harness.sh - the DM client against the independent DM 1.2
# server (dmserver.py), sourced by dm_peer.sh, dm_exec.sh and dm_uimode.sh
# after tests/lib.sh.  Each scenario gets a fresh daemon (its own state
# directory) whose [dm_sc] account points at the server over plain HTTP
# (no card needed); the server checks every client message (TAP lines,
# merged here) and says, session by session, what to do (its actions:
# Exec agents, a UI agent, the server made unreachable, the daemon
# restarted), what triggers the session (dmscgwctl notify package0 --file,
# session start, or nothing: the client starts it), the result dmscgwctl
# must report, and what to check after it (the tree, the error, signals).
#
# Needs CTL (dmscgwctl) and PY (/usr/bin/python3); start_bus first.

PEER=$top_srcdir/tests/peer/dmserver.py
export DMSCGWCTL=$CTL		# for the agents' scripts

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

# daemon_up_or_gone PID LOG N: the daemon's D-Bus service is ready for the
# Nth time in LOG and has the name, or the daemon is gone
daemon_up_or_gone() {
	! kill -0 "$1" 2>/dev/null && return 0
	[ "$(count_lines "$2" "D-Bus service org.dmscgw1 ready")" -ge "$3" ] &&
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

# peer_start NAME DIR: the scenario's daemon (again); 0 when it is up
peer_start() {
	local n
	n=$(( $(count_lines "$2/dmscgw.log" "D-Bus service org.dmscgw1 ready") + 1 ))
	"$DMSCGW" -f -c "$2/dmscgw.conf" >>"$2/dmscgw.log" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	if ! wait_for 10 daemon_up_or_gone "$DPID" "$2/dmscgw.log" "$n" ||
	   ! kill -0 "$DPID" 2>/dev/null; then
		not_ok "$1: the daemon started with the scenario's configuration"
		tail -n 5 "$2/dmscgw.log" | diag
		return 1
	fi
}

# peer_stop NAME: SIGTERM, and a clean exit
peer_stop() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	check "$1: the daemon exited cleanly" test $? -eq 0
}

# served PREFIX: an Exec agent serves PREFIX (ExecAgents shows it bare)
served() {
	local p=${1#./}
	busctl --system get-property org.dmscgw1 /org/dmscgw1 \
		org.dmscgw1.Manager ExecAgents 2>/dev/null | grep -qF "\"${p%/}\""
}
not_served() { ! served "$1"; }

# peer_action NAME DIR LINE: one of the server's actions before a session
peer_action() {
	local name=$1 d=$2 line=$3 arg p
	arg=${line#* }
	case $line in
	"agent "*)
		p=${arg%% *}
		"$CTL" exec-agent "$p" -- "${arg#* }" 2>>"$d/agent-${p//\//_}.log" &
		AGENTS[$p]=$!
		PIDS+=("$!")
		check "$name: dmscgwctl exec-agent serves $p" \
			wait_for 10 grep -qx "serving $p" "$d/agent-${p//\//_}.log"
		check "$name: ExecAgents shows $p" served "$p" ;;
	"stop-agent "*)
		kill "${AGENTS[$arg]}" 2>/dev/null
		wait "${AGENTS[$arg]}" 2>/dev/null
		unset "AGENTS[$arg]"
		check "$name: the agent of $arg is gone from ExecAgents" \
			wait_for 10 not_served "$arg" ;;
	"ui-agent "*)
		[ -n "${UIPID:-}" ] && kill "$UIPID" 2>/dev/null && wait "$UIPID" 2>/dev/null
		UIRUNS=$((${UIRUNS:-0} + 1))
		$PY "$top_srcdir/tests/peer/ui_agent.py" "$arg" "$d/ui.log" \
			>"$d/ui-$UIRUNS.out" 2>&1 &
		UIPID=$!
		PIDS+=("$UIPID")
		check "$name: the UI agent ($arg) registered" \
			wait_for 10 grep -q registered "$d/ui-$UIRUNS.out" ;;
	"exec-result "*)
		# shellcheck disable=SC2086 # CORRELATOR CODE DATA, no blanks
		check "$name: dmscgwctl exec-result $arg" "$CTL" exec-result $arg ;;
	unreachable)
		# the account's server on a port where nothing listens
		sed -i "s|^addr = http://127.0.0.1:[0-9]*/|addr = http://127.0.0.1:$DEAD/|" \
			"$d/dmscgw.conf"
		check "$name: reloaded with the server unreachable" "$CTL" reload ;;
	restart)
		cp "$d/dmscgw.conf.orig" "$d/dmscgw.conf"
		peer_stop "$name"
		peer_start "$name" "$d" || return 1
		BASE=$((n - 1)) ;;
	esac
}

# peer_check NAME DIR LINE: one of the server's checks after a session
peer_check() {
	local name=$1 d=$2 line=$3 uri val got sid
	case $line in
	"tree "*)
		uri=${line#tree }; val=${uri#* }; uri=${uri%% *}
		got=$("$CTL" tree get "$uri" 2>&1)
		check "$name: tree $uri = $( [ ${#val} -gt 24 ] &&
			echo "${val:0:12}...(${#val} bytes)" || echo "$val")" \
			test "$got" = "$val" ;;
	"absent "*)
		uri=${line#absent }
		check "$name: tree has no $uri" \
			bash -c "! '$CTL' tree get '$uri' >/dev/null 2>&1" ;;
	"error "*)
		got=$(sessions_py 's[-1]["error"]')
		check "$name: its error says '${line#error }' ($got)" \
			contains "$got" "${line#error }" ;;
	"file "*)
		check "$name: ${line#file } kept in the state directory" \
			test -s "$d/state/${line#file }" ;;
	"signal "* | "nosignal "*)
		sid=$(sessions_py 's[-1]["id"]')
		check "$name: the monitor has all the signals" monitor_barrier "$MON"
		if [ "${line%% *}" = signal ]; then
			check "$name: ${line#* } for session $sid" \
				grep -q "^${line#* } /org/dmscgw1 id=$sid " "$MON"
		else
			check "$name: no ${line#* } for session $sid" \
				bash -c "! grep -q '^${line#* } /org/dmscgw1 id=$sid ' '$MON'"
		fi ;;
	esac
}

# run_scenario NAME: one daemon, one server, the scenario's sessions
run_scenario() {
	local name=$1 d=$T/$1 srv instr line n=0 res what sport
	local -A AGENTS=()
	local UIPID=
	mkdir -p "$d"
	$PY "$PEER" --scenario "$name" --dir "$d" 2>>"$d/server.log" &
	srv=$!
	PIDS+=("$srv")
	if ! wait_for 10 test -f "$d/port"; then
		not_ok "$name: dmserver started"
		return
	fi
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
	cp "$d/dmscgw.conf" "$d/dmscgw.conf.orig"
	BASE=0
	if ! peer_start "$name" "$d"; then
		kill "$DPID" "$srv" 2>/dev/null
		wait "$DPID" "$srv" 2>/dev/null
		merge_tap "$name" "$d/tap"
		return
	fi
	start_monitor "mon-$name"
	MON=$T/mon-$name
	while :; do
		instr=$(curl -s --max-time 10 "http://127.0.0.1:$sport/ctl/next")
		[ -z "$instr" ] || [ "$instr" = end ] && break
		n=$((n + 1))
		local want=ok checks=()
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
			wait) what="client's own" ;;
			"result "*) want=${line#result } ;;
			"tree "* | "absent "* | "error "* | "file "* | \
			"signal "* | "nosignal "*) checks+=("$line") ;;
			*) peer_action "$name s$n" "$d" "$line" || break 2 ;;
			esac
		done <<<"$instr"
		if ! wait_for 20 finished_ge "$((n - BASE))" || ! wait_for 10 idle; then
			not_ok "$name s$n: the $what session finished"
			break
		fi
		res=$(sessions_py 's[-1]["result"] + " " + (s[-1]["error"] or "-")')
		check "$name s$n: dmscgwctl sessions reports ${want} ($res)" \
			test "${res%% *}" = "$want"
		for line in "${checks[@]}"; do
			peer_check "$name s$n" "$d" "$line"
		done
	done
	peer_stop "$name"
	kill -TERM "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	for p in "${AGENTS[@]}" $UIPID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	merge_tap "$name" "$d/tap"
}
