#!/bin/bash
# A remote DM server, provisioned by the DM_SC server and then used: the
# hand-over of OMA-TS-DM_SC 4.1, against the independent Python DM server
# (tests/peer/dmserver.py) and a test PKI made here with the openssl CLI.
#
# Per encoding (XML, WBXML), one daemon:
#  1. the DM_SC server (the peer over plain HTTP, [dm_sc]) adds a DMAcc
#     object whole under ./Inbox: it lands at ./DMAcc/Remote, ServerID
#     REMOTE, AppAddr https://localhost:PORT/dm (DM_StdObj 1.2 5.3.4);
#  2. the peer as REMOTE over HTTPS (Python's ssl module), requiring a
#     client certificate: a client-initiated session (dmscgwctl session
#     start REMOTE) and one the server asks for (dmscgwctl notify), TLS
#     verified with the host name, no PSK: against [dm] ca_file in XML;
#     in WBXML ca_file holds another CA and ca_dir/REMOTE.pem the right
#     one, so only the per-server trust lets it through.
# Then, in XML: the server's certificate refused (another CA, another
# name, expired), each with its reason in dmscgwctl sessions and no
# retry; a server that drops the connection mid-session (one retry, then
# the session ends well); a server that dies mid-session and stays away
# (retries refused, then transport-failed).  TAP on stdout.
. "${top_srcdir:-.}/tests/lib.sh"

peer_requires openssl

make_pki "$T/pki" || bail "cannot make the test PKI"
PKI=$T/pki
pick_port
start_pcscd
start_bus
RP=$(another_port)			# the remote server's port
REMOTE=https://localhost:$RP
export DMSERVER_REMOTE_ADDR=$REMOTE/dm	# what the Inbox scenarios provision
TRUSTED=(--cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key")

# start_peer DIR SCENARIO [ARGS...]: the server, until it wrote its port
start_peer() {
	mkdir -p "$1"
	rm -f "$1/port"
	$PY "$PEER_PY" --scenario "$2" --dir "$1" "${@:3}" 2>>"$1/server.log" &
	PEER_PID=$!
	PIDS+=("$PEER_PID")
	wait_for 10 test -f "$1/port" || bail "dmserver $2 did not start"
}

stop_peer() {
	kill -TERM "$PEER_PID" 2>/dev/null
	wait "$PEER_PID" 2>/dev/null
}

# remote_peer DIR SCENARIO CERT [ARGS...]: the server as REMOTE, over
# HTTPS with CERT.crt on port RP
remote_peer() {
	start_peer "$1" "$2" --port "$RP" --tls "$PKI/$3.crt" "$PKI/$3.key" \
		"${@:4}"
}

# retries_logged ID: the daemon's "retry N of M" lines for session ID
retries_logged() { count_lines "$D/dmscgw.log" "session $1 with REMOTE: .*; retry [0-9]+ of 2 in 1 s"; }

# retry_wait_seen FILE ID ERROR: the monitor's JSON lines in FILE show
# session ID in state retry-wait with that error
retry_wait_seen() {
	$PY - "$@" <<'EOP'
import json, sys
path, sid, err = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for line in open(path):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    for s in (ev.get("changed") or {}).get("Sessions") or []:
        if s[0] == sid and s[3] == "retry-wait" and s[6] == err:
            sys.exit(0)
sys.exit(1)
EOP
}

run() {
	local enc=$1 sport
	D=$T/$enc
	mkdir -p "$D"
	# 1. the DM_SC server provisions REMOTE through the Inbox
	start_peer "$D/dmsc" "$enc-inbox"
	sport=$(cat "$D/dmsc/port")
	if [ "$enc" = xml ]; then
		TRUST=$PKI/ca.crt
		trust="ca_file = $TRUST"
	else
		mkdir -p "$PKI/servers"
		TRUST=$PKI/servers/REMOTE.pem
		cp "$PKI/ca.crt" "$TRUST"
		trust="ca_file = $PKI/rogue.crt
ca_dir = $PKI/servers"
	fi
	if ! peer_daemon "$D" "$D/dmsc/conf" "$trust
client_cert = $PKI/client.crt
client_key = $PKI/client.key
retries = 2
retry_min = 1
retry_max = 1"; then
		not_ok "$enc: the daemon started"
		tail -n 5 "$D/dmscgw.log" | diag
		return
	fi
	PEER_CURL=()
	peer_sessions "$enc-inbox" "http://127.0.0.1:$sport"
	stop_peer
	merge_tap "$D/dmsc/tap"
	"$CTL" accounts >"$D/accounts" 2>&1
	check "$enc: dmscgwctl accounts shows ./DMAcc/Remote: ServerID REMOTE at $REMOTE/dm" \
		grep -qzE "Account: Remote
[^A]*ServerID: REMOTE
[^A]*AppAddr: $REMOTE/dm" "$D/accounts"
	check "$enc: the Inbox placement is logged" \
		grep -q "Inbox: ./Inbox/Remote (org.openmobilealliance/1.0/w7) placed at ./DMAcc/Remote" \
		"$D/dmscgw.log"

	# 2. REMOTE over HTTPS: session start, then a DM Notification
	remote_peer "$D/remote" "$enc-remote" server --client-ca "$PKI/ca.crt"
	PEER_CURL=("${TRUSTED[@]}")
	peer_sessions "$enc-remote" "$REMOTE"
	stop_peer
	merge_tap "$D/remote/tap"
	check "$enc: REMOTE's certificate checked against $TRUST" \
		grep -q "session with REMOTE: certificates verified against $TRUST" \
		"$D/dmscgw.log"
	check "$enc: no private key, no password in the log" \
		bash -c "! grep -qF -e '$(sed -n 2p "$PKI/client.key")' \
			-e remote-clipwd -e remote-srvpwd '$D/dmscgw.log'"
	[ "$enc" = xml ] && failures

	peer_stop "$enc"
}

# The server's certificate refused (each reason exact, no retry); the
# server gone mid-session, for a moment then for good.
failures() {
	local c why id n
	for c in "untrusted:unknown CA (unable to get local issuer certificate)" \
		 "wrongname:name mismatch (hostname mismatch)" \
		 "expired:expired (certificate has expired)"; do
		why=${c#*:}
		c=${c%%:*}
		n=$(dm_sessions_py 'len(s)')
		remote_peer "$D/$c" xml-remote-refused "$c"
		PEER_CURL=(-k)
		peer_sessions "$c" "$REMOTE"
		stop_peer
		merge_tap "$D/$c/tap"
		check "$c: the session's error is 'certificate of localhost:$RP refused: $why'" \
			test "$(dm_sessions_py 's[-1]["error"]')" = "certificate of localhost:$RP refused: $why"
		id=$(dm_sessions_py 's[-1]["id"]')
		check "$c: one session, not tried again" \
			test "$(dm_sessions_py 'len(s)')" = $((n + 1)) -a "$(retries_logged "$id")" = 0
		check "$c: the reason is in the log" \
			grep -q "session .* with REMOTE failed (transport-failed): certificate of localhost:$RP refused: $why" \
			"$D/dmscgw.log"
	done

	# dropped mid-session: tried again once, from Package#1, and done
	start_monitor vanish.mon --json
	remote_peer "$D/vanish" xml-remote-vanish server
	PEER_CURL=("${TRUSTED[@]}")
	peer_sessions vanish "$REMOTE"
	stop_peer
	merge_tap "$D/vanish/tap"
	id=$(dm_sessions_py 's[-1]["id"]')
	check "vanish: one retry, logged with its reason" \
		test "$(retries_logged "$id")" = 1 -a \
		"$(count_lines "$D/dmscgw.log" "session $id with REMOTE: connection closed before an answer; retry 1 of 2 in 1 s")" = 1
	check "vanish: the session ends ok, with no error" \
		test "$(dm_sessions_py 's[-1]["result"] + "/" + s[-1]["error"]')" = "ok/"
	# the Sessions property showed it waiting, with why (org.dmscgw1(5))
	check "vanish: D-Bus Sessions showed session $id in state retry-wait" \
		wait_for 10 retry_wait_seen "$T/vanish.mon" "$id" \
		"connection closed before an answer; retry 1 of 2 in 1 s"
	kill "$MON_PID" 2>/dev/null

	# gone for good: both retries refused, then the session fails
	remote_peer "$D/gone" xml-remote-gone server
	peer_sessions gone "$REMOTE"
	wait "$PEER_PID" 2>/dev/null
	merge_tap "$D/gone/tap"
	id=$(dm_sessions_py 's[-1]["id"]')
	check "gone: retries 1 and 2 of 2 logged" \
		test "$(retries_logged "$id")" = 2
	check "gone: the second retry was refused" \
		grep -q "session $id with REMOTE: connection refused by localhost:$RP; retry 2 of 2 in 1 s" \
		"$D/dmscgw.log"
	check "gone: the error says the last failure and the retries" \
		test "$(dm_sessions_py 's[-1]["error"]')" = "connection refused by localhost:$RP (after 2 retries)"
}

for enc in xml wbxml; do
	run "$enc"
done
done_testing
