# tests/lib.sh - shared by the integration tests (sourced, bash).
#
# Every test gets a private directory, private ports and a private pcscd
# (socket-activated on its own socket, with its own reader config), so tests
# run in parallel without colliding.  Children are killed and waited for on
# exit, pass or fail: PID 1 here does not reap.  Output is TAP.

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
DMSCGW=$top_builddir/dmscgw
VUICC=$top_builddir/dmsc-vuicc
T=$(mktemp -d "${TMPDIR:-/tmp}/dmscgw-test.XXXXXX")
PIDS=()
_n=0
_failed=0

ok() {
	_n=$((_n + 1))
	echo "ok $_n - $*"
}

not_ok() {
	_n=$((_n + 1))
	_failed=$((_failed + 1))
	echo "not ok $_n - $*"
}

# check DESCRIPTION COMMAND...: one TAP line from a command's status
check() {
	local d=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		ok "$d"
	else
		not_ok "$d"
		tail -c 2000 "$T/check.out" | diag	# why, in the test's log
	fi
	cat "$T/check.out" >>"$T/check.log"
}

# contains HAYSTACK NEEDLE
contains() {
	[[ $1 == *"$2"* ]]
}

diag() {
	sed 's/^/# /' "$@" 2>/dev/null
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail() {
	echo "Bail out! $*"
	exit 1
}

# wait_for SECONDS COMMAND...: poll until the command succeeds
wait_for() {
	local limit=$1 i=0
	shift
	while ! "$@"; do
		i=$((i + 1))
		[ $i -ge $((limit * 20)) ] && return 1
		sleep 0.05
	done
	return 0
}

# count_lines FILE REGEX: number of lines matching (0 if no file)
count_lines() {
	if [ -f "$1" ]; then grep -cE -- "$2" "$1"; else echo 0; fi
}

# wait_count SECONDS FILE REGEX N: until at least N matching lines
wait_count() {
	local limit=$1 file=$2 re=$3 n=$4
	wait_for "$limit" eval '[ "$(count_lines "$file" "$re")" -ge "$n" ]'
}

# Two free TCP ports (P and P+1, vpcd uses both), reserved against other
# tests through a lock directory.
pick_port() {
	local p
	mkdir -p /tmp/dmscgw-ports
	for _ in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		mkdir "/tmp/dmscgw-ports/$p" 2>/dev/null || continue
		if [ -z "$(ss -Htan "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ]; then
			echo "$p" >"$T/port"
			PORT=$p
			return 0
		fi
		rmdir "/tmp/dmscgw-ports/$p"
	done
	bail "no free port"
}

# another_port: one more free, reserved TCP/UDP port, echoed
another_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		mkdir "/tmp/dmscgw-ports/$p" 2>/dev/null || continue
		if [ -z "$(ss -Htuan "( sport = :$p )" 2>/dev/null)" ]; then
			echo "$p" >>"$T/ports"
			echo "$p"
			return 0
		fi
		rmdir "/tmp/dmscgw-ports/$p"
	done
	bail "no free port"
}

start_pcscd() {
	mkdir -p "$T/reader.conf.d"
	cat >"$T/reader.conf.d/vpcd" <<EOC
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$PORT
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    $PORT
EOC
	rm -f "$T/pcscd.sock"
	systemd-socket-activate -l "$T/pcscd.sock" \
		pcscd -f -a -c "$T/reader.conf.d" >>"$T/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	PIDS+=("$PCSCD_PID")
	export PCSCLITE_CSOCK_NAME="$T/pcscd.sock"
	wait_for 5 test -S "$T/pcscd.sock" || bail "pcscd socket did not appear"
}

stop_pcscd() {
	kill "$PCSCD_PID" 2>/dev/null
	wait "$PCSCD_PID" 2>/dev/null
}

# start_vuicc [ARGS...]: the virtual card in the reader on $PORT
start_vuicc() {
	"$VUICC" -p "$PORT" -l "$T/card.log" "$@" >>"$T/vuicc.log" 2>&1 &
	VUICC_PID=$!
	PIDS+=("$VUICC_PID")
}

stop_vuicc() {
	kill "$VUICC_PID" 2>/dev/null
	wait "$VUICC_PID" 2>/dev/null
}

# write_conf [EXTRA LINES]: a config using only this test's first reader
write_conf() {
	cat >"$T/dmscgw.conf" <<EOC
[daemon]
debug = all

[card]
reader = Virtual PCD 00 00
retry_min = 1
retry_max = 2

[dm]
state_dir = $T/state
$*
EOC
}

# dm_sc_head ADDR: the [dm_sc] section's server and client credentials for
# the card's DM_SC server DMSC01 at ADDR
dm_sc_head() {
	cat <<EOC
[dm_sc]
server_id = DMSC01
server_password = srvpwd
client_name = dmclient
client_password = clipwd
addr = $1
EOC
}

# dm_sc_conf PORT PSK: the [dm_sc] section for the card's DM_SC server
# DMSC01 (--scws-tls on PORT, TLS-PSK identity dmsc), for write_conf
dm_sc_conf() {
	dm_sc_head "https://127.0.0.1:$1/OMA/DM"
	printf 'psk_identity = dmsc\npsk_key = %s\n' "$2"
}

# bad CONTENT EXPECTED: dmscgw -t refuses CONTENT with "FILE:EXPECTED", exit 1
bad() {
	local content=$1 want=$2 f="$T/bad.conf" out rc
	printf '%b' "$content" >"$f"
	out=$("$DMSCGW" -t -c "$f" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && [ "$out" = "dmscgw: $f:$want" ]; then
		ok "rejected: $want"
	else
		not_ok "rejected: $want (rc=$rc, got: $out)"
	fi
}

# dm_sc_http_conf PORT: the [dm_sc] section for the card's DM_SC server
# DMSC01 over plain HTTP on PORT, for write_conf
dm_sc_http_conf() {
	dm_sc_head "http://127.0.0.1:$1/OMA/DM"
}

# peer_requires [openssl]: skip unless what the independent DM server's
# tests need is here (Debian's python3, the WBXML tools, curl; openssl
# for the ones over HTTPS); sets PY and CTL
peer_requires() {
	CTL=$top_builddir/dmscgwctl
	PY=/usr/bin/python3
	[ -x $PY ] || skip_all "no /usr/bin/python3"
	command -v wbxml2xml >/dev/null && command -v xml2wbxml >/dev/null ||
		skip_all "wbxml2xml/xml2wbxml missing (Debian libwbxml2-utils, contrib/deps.sh)"
	command -v curl >/dev/null || skip_all "no curl"
	[ "${1:-}" != openssl ] || command -v openssl >/dev/null ||
		skip_all "no openssl"
}

# make_pki DIR: a test PKI made with the openssl CLI, P-256 keys, in DIR:
#   ca.crt            the test CA (what the daemon is told to trust)
#   server.crt/.key   for localhost, 127.0.0.1 and ::1, by the CA
#   untrusted.crt     the same names, by another CA (rogue.crt)
#   wrongname.crt     for wrong.example and 192.0.2.1, by the CA
#   expired.crt       the good names, by the CA, valid in 2020 only
#   client.crt/.key   a client certificate (clientAuth), by the CA
# Returns non-zero when openssl fails.
make_pki() {
	(
	set -e
	mkdir -p "$1" && cd "$1"
	_ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1" 2>/dev/null; }
	_ca() {
		_ec "$1.key"
		openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign \
			-out "$1.crt" 2>/dev/null
	}
	# _leaf NAME CA SAN EKU
	_leaf() {
		_ec "$1.key"
		openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
		printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' \
			"$3" "$4" >"$1.ext"
		openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" \
			-CAcreateserial -days 30 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	}
	_ca ca "dmscgw test CA"
	_ca rogue "dmscgw rogue CA"
	_leaf server ca "DNS:localhost,IP:127.0.0.1,IP:::1" serverAuth
	_leaf untrusted rogue "DNS:localhost,IP:127.0.0.1,IP:::1" serverAuth
	_leaf wrongname ca "DNS:wrong.example,IP:192.0.2.1" serverAuth
	_leaf client ca "DNS:client.example" clientAuth
	# openssl x509 cannot back-date: openssl ca signs with given dates
	_ec expired.key
	openssl req -new -key expired.key -subj "/CN=expired" -out expired.csr 2>/dev/null
	mkdir -p cadb && : >cadb/index.txt && echo 01 >cadb/serial
	cat >cadb/ca.cnf <<EOC
[ca]
default_ca = test
[test]
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = any
x509_extensions = ext
[any]
commonName = supplied
[ext]
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage = serverAuth
basicConstraints = CA:FALSE
EOC
	openssl ca -batch -config cadb/ca.cnf -cert ca.crt -keyfile ca.key \
		-in expired.csr -startdate 20200101000000Z \
		-enddate 20210101000000Z -out expired.crt 2>/dev/null
	# and one valid from 2099 only: not yet valid
	_ec notyet.key
	openssl req -new -key notyet.key -subj "/CN=notyet" -out notyet.csr 2>/dev/null
	openssl ca -batch -config cadb/ca.cnf -cert ca.crt -keyfile ca.key \
		-in notyet.csr -startdate 20990101000000Z \
		-enddate 21000101000000Z -out notyet.crt 2>/dev/null
	# all of them made
	for n in untrusted wrongname expired notyet; do [ -s "$n.crt" ]; done
	)
}

# ---- the independent DM server, tests/peer/dmserver.py ----
# It checks every client message (TAP lines in DIR/tap, merged with
# merge_tap) and says at GET /ctl/next, session by session, what to do
# before it (its actions: Exec agents, a UI agent, the server made
# unreachable, the daemon restarted), what triggers it (dmscgwctl notify
# package0 --file, session start, or nothing: the client starts it), the
# result dmscgwctl must report and what to check after it (the tree, the
# error, a state file, signals); "end" when there is no more.
# Needs CTL (dmscgwctl) and PY (/usr/bin/python3); start_bus first.
PEER_PY=$top_srcdir/tests/peer/dmserver.py
PEER_CURL=()		# curl's extra arguments for /ctl/next (https)

# dm_sessions_py EXPR: EXPR on s, the finished sessions of dmscgwctl --json
# sessions, oldest first
dm_sessions_py() {
	"$CTL" --json sessions 2>/dev/null | $PY -c '
import json, sys
s = sorted((x for x in json.load(sys.stdin)["Sessions"] if x["state"] == "finished"),
           key=lambda x: x["id"])
print(eval(sys.argv[1]))' "$1"
}
# dm_finished_ge ID: session ID (counted from 1 since the daemon started)
# or a later one finished; the ids do not depend on how many finished
# sessions dmscgwctl still shows
dm_finished_ge() {
	[ "$(dm_sessions_py 'max([x["id"] for x in s], default=0)')" -ge "$1" ] 2>/dev/null
}
# no session queued, running or waiting for a retry
dm_idle() { "$CTL" --json sessions 2>/dev/null | $PY -c '
import json, sys
sys.exit(any(x["state"] != "finished" for x in json.load(sys.stdin)["Sessions"]))'; }

# merge_tap FILE: the server's checks, renumbered into ours
merge_tap() {
	local line
	[ -f "$1" ] || return
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok * - }" ;;
		"not ok "*) not_ok "${line#not ok * - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$1"
}

# daemon_up_or_gone PID LOG N: the daemon's D-Bus service is ready for the
# Nth time in LOG (after its DM_SC account was set up) and has the name,
# or the daemon is gone
daemon_up_or_gone() {
	! kill -0 "$1" 2>/dev/null && return 0
	[ "$(count_lines "$2" "D-Bus service org.dmscgw1 ready")" -ge "$3" ] &&
		busctl --system status org.dmscgw1 >/dev/null 2>&1
}

# peer_up DIR: the daemon on DIR/dmscgw.conf (again), logging to
# DIR/dmscgw.log, its pid in DPID; fails unless it comes up
peer_up() {
	local n
	n=$(( $(count_lines "$1/dmscgw.log" "D-Bus service org.dmscgw1 ready") + 1 ))
	"$DMSCGW" -f -c "$1/dmscgw.conf" >>"$1/dmscgw.log" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	wait_for 10 daemon_up_or_gone "$DPID" "$1/dmscgw.log" "$n" &&
		kill -0 "$DPID" 2>/dev/null
}

# peer_daemon DIR CONF [DM_LINES]: a daemon for a peer's scenario, its files
# in DIR (state, dmscgw.conf and a copy dmscgw.conf.orig, dmscgw.log): the
# [dm] lines given, then the peer's CONF; peer_up.
peer_daemon() {
	cat >"$1/dmscgw.conf" <<EOC
[daemon]
debug = dm

[card]
reader = Virtual PCD 00 00

[dm]
state_dir = $1/state
${3:-}
$(cat "$2")
EOC
	cp "$1/dmscgw.conf" "$1/dmscgw.conf.orig"
	peer_up "$1"
}

# peer_stop NAME: SIGTERM to DPID, and a clean exit
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

# peer_action NAME DIR LINE: one of the server's actions before a session,
# for the daemon of DIR; the agents' pids in the caller's AGENTS (by
# prefix) and UIPID.  "restart" sets PEER_RESTARTED.
peer_action() {
	local name=$1 d=$2 line=$3 arg p
	arg=${line#* }
	case $line in
	"agent "*)
		p=${arg%% *}
		DMSCGWCTL=$CTL "$CTL" exec-agent "$p" -- "${arg#* }" \
			2>>"$d/agent-${p//\//_}.log" &
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
		# the account's server on a port where nothing listens (DEAD)
		sed -i "s|^addr = http://127.0.0.1:[0-9]*/|addr = http://127.0.0.1:$DEAD/|" \
			"$d/dmscgw.conf"
		check "$name: reloaded with the server unreachable" "$CTL" reload ;;
	restart)
		cp "$d/dmscgw.conf.orig" "$d/dmscgw.conf"
		peer_stop "$name"
		if ! peer_up "$d"; then
			not_ok "$name: the daemon started again"
			tail -n 5 "$d/dmscgw.log" | diag
			return 1
		fi
		PEER_RESTARTED=1 ;;
	esac
}

# peer_check NAME DIR LINE: one of the server's checks after a session;
# signals in the monitor's file PEER_MON
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
		got=$(dm_sessions_py 's[-1]["error"]')
		check "$name: its error says '${line#error }' ($got)" \
			contains "$got" "${line#error }" ;;
	"file "*)
		check "$name: ${line#file } kept in the state directory" \
			test -s "$d/state/${line#file }" ;;
	"signal "* | "nosignal "*)
		sid=$(dm_sessions_py 's[-1]["id"]')
		check "$name: the monitor has all the signals" \
			monitor_barrier "$PEER_MON"
		if [ "${line%% *}" = signal ]; then
			check "$name: ${line#* } for session $sid" \
				grep -q "^${line#* } /org/dmscgw1 id=$sid " "$PEER_MON"
		else
			check "$name: no ${line#* } for session $sid" \
				bash -c "! grep -q '^${line#* } /org/dmscgw1 id=$sid ' '$PEER_MON'"
		fi ;;
	esac
}

# peer_sessions NAME URL [DIR]: play the sessions the server at URL asks
# for, with the daemon of DIR (default $T), each until dmscgwctl sessions
# says it finished, with the result and the checks the server expects;
# until it says "end" or is gone
peer_sessions() {
	local name=$1 url=$2 d=${3:-$T} instr line n=0 res what out base
	base=$(dm_sessions_py 'max([x["id"] for x in s], default=0)')
	while :; do
		instr=$(curl -s --max-time 10 "${PEER_CURL[@]}" "$url/ctl/next")
		[ -z "$instr" ] || [ "$instr" = end ] && break
		n=$((n + 1))
		local want=ok checks=()
		PEER_RESTARTED=
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
		# a restarted daemon counts its sessions from 1 again
		[ -n "$PEER_RESTARTED" ] && base=$((1 - n))
		if ! wait_for 30 dm_finished_ge "$((base + n))" ||
		   ! wait_for 10 dm_idle; then
			not_ok "$name s$n: the $what session finished"
			break
		fi
		res=$(dm_sessions_py 's[-1]["result"] + " " + (s[-1]["error"] or "-")')
		check "$name s$n: dmscgwctl sessions reports ${want} ($res)" \
			test "${res%% *}" = "$want"
		for line in "${checks[@]}"; do
			peer_check "$name s$n" "$d" "$line"
		done
	done
}

# peer_scenario NAME: one daemon, one server (plain HTTP, the daemon's
# [dm_sc] account), the scenario's sessions; all in $T/NAME
peer_scenario() {
	local name=$1 d=$T/$1 srv sport p
	local -A AGENTS=()
	local UIPID=
	mkdir -p "$d"
	$PY "$PEER_PY" --scenario "$name" --dir "$d" 2>>"$d/server.log" &
	srv=$!
	PIDS+=("$srv")
	if ! wait_for 10 test -f "$d/port"; then
		not_ok "$name: dmserver started"
		return
	fi
	sport=$(cat "$d/port")
	if ! peer_daemon "$d" "$d/conf"; then
		not_ok "$name: the daemon started with the scenario's configuration"
		tail -n 5 "$d/dmscgw.log" | diag
		kill "$DPID" "$srv" 2>/dev/null
		wait "$DPID" "$srv" 2>/dev/null
		merge_tap "$d/tap"
		return
	fi
	start_monitor "mon-$name"
	PEER_MON=$T/mon-$name
	peer_sessions "$name" "http://127.0.0.1:$sport" "$d"
	peer_stop "$name"
	kill -TERM "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	for p in "${AGENTS[@]}" $UIPID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	kill "$MON_PID" 2>/dev/null
	wait "$MON_PID" 2>/dev/null
	merge_tap "$d/tap"
}

start_daemon() {
	[ -f "$T/dmscgw.conf" ] || write_conf
	"$DMSCGW" -f -c "$T/dmscgw.conf" "$@" >>"$T/dmscgw.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
}

# stop_daemon: SIGTERM, then its exit status in DAEMON_RC
stop_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID"
	DAEMON_RC=$?
}

# wait_listening PORT...: until the daemon listens on each, for the card
wait_listening() {
	local p
	for p in "$@"; do
		wait_for 15 bash -c "ss -Hltn '( sport = :$p )' | grep -q 127.0.0.1" ||
			bail "no listener on $p"
	done
}

# card_www: a page for the card's web server, $T/www/index.html
card_www() {
	mkdir -p "$T/www"
	head -c 3000 /dev/urandom | base64 >"$T/www/index.html"
}

# start_recorder PORT FILE: a local application on PORT that appends what
# every connection sends it to FILE
start_recorder() {
	local py=/usr/bin/python3
	[ -x $py ] || py=python3
	$py - "$1" "$2" <<'EOP' >>"$T/recorder-$1.log" 2>&1 &
import socket, sys
ap, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", ap)); s.listen(4)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    with open(out, "ab") as f:
        while True:
            d = c.recv(4096)
            if not d: break
            f.write(d); f.flush()
    c.close()
EOP
	PIDS+=($!)
	wait_for 10 grep -q ready "$T/recorder-$1.log" ||
		bail "the application on port $1 did not start"
}

# The terminal profile dmscgw sends with the default configuration
# (TS 102 223 clause 5.2), 30 bytes:
#  1: A1 profile download, timer expiration, call control by NAA
#  3: 68 MORE TIME, POLL INTERVAL, POLLING OFF
#  4: 40 PROVIDE LOCAL INFORMATION (location, IMEI)
#  5: 11 SET UP EVENT LIST, event location status
#  6: 0C events data available, channel status
#  8: 07 TIMER MANAGEMENT start/stop and get, local info date/time/zone
#  9: 80 PROVIDE LOCAL INFORMATION (access technology)
# 12: 1F OPEN/CLOSE CHANNEL, RECEIVE/SEND DATA, GET CHANNEL STATUS
# 13: E0 seven channels
# 17: 1F TCP/UDP client remote, TCP server, TCP/UDP client local
# 30: 04 Terminal Applications
TP="A1 00 68 40 11 0C 00 07 80 00 00 1F E0 00 00 00 1F 00 00 00 00 00 00 00 00 00 00 00 00 04"
TP=${TP// /}
TP_APDU="801000001E$TP"

cleanup() {
	local rc=$?
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "$_failed" -gt 0 ] || [ $rc -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "# --- $f"
			tail -n 60 "$f" | sed 's/^/# /'
		done
	fi
	[ -f "$T/port" ] && rmdir "/tmp/dmscgw-ports/$(cat "$T/port")" 2>/dev/null
	[ -f "$T/ports" ] && for p in $(cat "$T/ports"); do rmdir "/tmp/dmscgw-ports/$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}

# start_bus: a private system-like dbus-daemon with the project's policy;
# exports DBUS_SYSTEM_BUS_ADDRESS so dmscgw and dmscgwctl use it.
# With "permissive", a mandatory policy lets anyone call dmscgw: the daemon's
# own credential check must still hold.  BUS_EXTRA: more policy XML.
start_bus() {
	local extra=${BUS_EXTRA:-}
	[ "${1:-}" = permissive ] &&
		extra+='<policy context="mandatory"><allow send_destination="org.dmscgw1"/></policy>'
	chmod 755 "$T"
	sed -e "s|@ADDRESS@|unix:path=$T/bus|" \
	    -e "s|@POLICY@|$top_srcdir/contrib/dbus/org.dmscgw1.conf|" \
	    -e "s|@EXTRA@|$extra|" \
	    "$top_srcdir/tests/dbus/bus.conf.in" >"$T/bus.conf"
	dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile \
		>>"$T/dbus.log" 2>&1 &
	BUS_PID=$!
	PIDS+=("$BUS_PID")
	wait_for 5 test -S "$T/bus" || bail "dbus-daemon did not start"
	export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus"
}

# package0 SERVERID PASSWORD NONCE_B64 SESSION_HEX [bad]: a DM Notification
# (General Package#0, version 1.2, server-initiated) in hex, its digest made
# independently of the daemon (OMA-TS-DM_Notification-V1_2; "bad" spoils it)
package0() {
	/usr/bin/python3 - "$@" <<'EOP'
import base64, hashlib, sys
sid, pwd, nonce, sess = sys.argv[1], sys.argv[2], base64.b64decode(sys.argv[3]), int(sys.argv[4], 16)
H = lambda b: hashlib.md5(b).digest()
B = base64.b64encode
bits = 12 << 30 | 0 << 28 | 1 << 27          # version 1.2, ui-mode 0, server
trigger = bits.to_bytes(5, "big") + sess.to_bytes(2, "big") + bytes([len(sid)]) + sid.encode()
digest = H(B(H((sid + ":" + pwd).encode())) + b":" + nonce + b":" + B(H(trigger)))
if len(sys.argv) > 5:
    digest = bytes([digest[0] ^ 0xFF]) + digest[1:]
print((digest + trigger).hex().upper())
EOP
}

# wap_push HEX: the WSP push PDU (TID 01, push, content type 0x44,
# X-WAP-Application-ID 0x07) carrying HEX, in hex
wap_push() {
	echo "010603C4AF87$1"
}

# start_mm_mock [DBUSMOCK ARGS...]: the ModemManager mock
# (tests/mm/modemmanager.py, python3-dbusmock) on the test bus; stop_mm_mock
MM_RUNS=0
mm_up() { busctl --system status org.freedesktop.ModemManager1 >/dev/null 2>&1; }
start_mm_mock() {
	MM_RUNS=$((MM_RUNS + 1))
	/usr/bin/python3 -m dbusmock --system \
		--template "$top_srcdir/tests/mm/modemmanager.py" \
		-l "$T/mm-calls-$MM_RUNS.log" "$@" >>"$T/mm.log" 2>&1 &
	MM_PID=$!
	PIDS+=("$MM_PID")
	wait_for 10 mm_up || bail "the ModemManager mock did not come up"
}
stop_mm_mock() {
	kill "$MM_PID" 2>/dev/null
	wait "$MM_PID" 2>/dev/null
}

# start_agent LOG [--hold-once]: the test UI agent (tests/agent.py) on the
# test bus, its pid in AGENT_PID; returns once the daemon registered it
start_agent() {
	/usr/bin/python3 "$top_srcdir/tests/agent.py" "$@" >"$T/agent.out" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	wait_for 10 grep -q registered "$T/agent.out"
}

# monitors_agree SIGNAL TEXT JSON: a text and a --json monitor show the same
# signals (name and path) in the same order from the first SIGNAL on.  Each
# monitor subscribes on its own, so what came before may differ.
# start_monitor NAME [OPTIONS...]: dmscgwctl [OPTIONS] monitor writing
# $T/NAME (stdout) and $T/NAME.err, its pid in MON_PID; returns once it
# listens (its "monitoring" line), so no signal sent after is missed.
start_monitor() {
	local name=$1
	shift
	"$CTL" "$@" monitor >"$T/$name" 2>"$T/$name.err" &
	MON_PID=$!
	PIDS+=("$MON_PID")
	wait_for 10 grep -q "^monitoring org.dmscgw1$" "$T/$name.err" ||
		bail "monitor $name did not start"
}

# monitor_barrier FILE...: every signal the daemon sent so far has reached
# these monitors.  A reload with the same file changes nothing but emits
# State "reloading" then "running"; signals from one sender arrive in
# order, so once each monitor shows the new "running", all earlier ones
# are there too.
monitor_barrier() {
	local f n=()
	for f in "$@"; do
		n+=("$(count_lines "$f" 'State(=|":)"running"')")
	done
	"$CTL" reload >/dev/null 2>&1	# a refused file emits them too
	local i=0
	for f in "$@"; do
		wait_count 10 "$f" 'State(=|":)"running"' $((n[i] + 1)) || return 1
		i=$((i + 1))
	done
}

# monitor_quiet NAME...: their stderr holds only the "monitoring" line
monitor_quiet() {
	local n
	for n in "$@"; do
		[ "$(grep -cv "^monitoring org.dmscgw1$" "$T/$n.err")" -eq 0 ] ||
			return 1
	done
}

monitors_agree() {
	python3 -c "
import json,sys
t=[l.split()[:2] for l in open(sys.argv[2])]
j=[[o['signal'],o['path']] for o in map(json.loads, open(sys.argv[3]))]
def tail(x):
    i=[s for s,_ in x].index(sys.argv[1])
    return x[i:]
assert tail(t) == tail(j), (tail(t), tail(j))" "$@"
}
