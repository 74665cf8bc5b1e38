#!/bin/bash
# The DM client over D-Bus and dmscgwctl: the management tree read as the
# device (secrets masked), the Sessions property, StartSession and its
# errors, the session signals in monitor, and the credential check of the
# tree methods (bus policy and the daemon's own).
. "${top_srcdir:-.}/tests/lib.sh"
CTL=$top_builddir/dmscgwctl
PY=python3
mgr="org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager"

# failed_with RC ERR NEEDLE: exit status 1 and NEEDLE in the error output
failed_with() {
	[ "$1" -eq 1 ] && contains "$2" "$3"
}

# run [ARGS...]: dmscgwctl with stdout in $out, stderr in $err, status in
# $rc; all of it also kept in ctl.out
run() {
	out=$($CTL "$@" 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
	{ echo "\$ dmscgwctl $* -> $rc"; echo "$out"; echo "$err"; } >>"$T/ctl.out"
	{ echo "\$ dmscgwctl $* -> $rc"; echo "$out"; echo "$err"; } | diag
}

pick_port
# the DM_SC server's address: a reserved port nobody listens on, so that a
# session starts, then fails on its transport
NOPORT=$(another_port)
DM_CONF="timeout = 5

[terminal]
imei = 490154203237518

[dm_sc]
server_id = DMServer
server_password = srvpwd-S3CRET
client_name = dmclient
client_password = clipwd-S3CRET
addr = https://127.0.0.1:$NOPORT/OMA/DM
psk_identity = dmscgw-test
psk_key = 00112233445566778899AABBCCDDEEFF"
start_pcscd
start_bus
write_conf "$DM_CONF"
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"
wait_for 10 grep -q "DM_SC account for DMServer added" "$T/dmscgw.log" ||
	bail "the DM_SC account was not bootstrapped"

busctl --system introspect org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager >"$T/intro" 2>&1
grep -E 'Session|Node' "$T/intro" | diag
check "Sessions is a(usssusstts)" grep -qE '^\.Sessions +property +a\(usssusstts\) ' "$T/intro"
check "StartSession(s) -> u" grep -qE '^\.StartSession +method +s +u ' "$T/intro"
check "GetNode(s) -> ssay" grep -qE '^\.GetNode +method +s +ssay ' "$T/intro"
check "ListNode(s) -> as" grep -qE '^\.ListNode +method +s +as ' "$T/intro"
check "SessionStarted(uss)" grep -qE '^\.SessionStarted +signal +uss ' "$T/intro"
check "SessionFinished(usssu)" grep -qE '^\.SessionFinished +signal +usssu ' "$T/intro"

start_monitor mon.txt; MON=$MON_PID
start_monitor mon.json --json; MONJ=$MON_PID

# the tree
run tree ls .
check "tree ls .: exit 0" test $rc -eq 0
for n in DevInfo DevDetail DMAcc Inbox; do
	check "tree ls . lists $n" grep -qx "$n" <<<"$out"
done
run tree ls ./DMAcc
check "tree ls ./DMAcc lists the DM_SC account" grep -qx DMSC <<<"$out"
run --json tree ls .
check "tree ls --json parses, with DevInfo" $PY -c 'import json,sys; assert "DevInfo" in json.loads(sys.argv[1])["children"]' "$out"
run tree get ./DevInfo/DevId
check "tree get ./DevInfo/DevId: exit 0" test $rc -eq 0
check "... prints IMEI:..." test "$out" = "IMEI:490154203237518"
run tree get DevInfo/DmV
check "tree get without ./: 1.2" test "$out" = "1.2"
run --json tree get ./DevInfo/DevId
check "tree get --json: format chr, text, the IMEI" $PY -c '
import json,sys
d = json.loads(sys.argv[1])
assert d == {"format": "chr", "type": "", "encoding": "text", "value": "IMEI:490154203237518"}, d' "$out"
run tree get ./DMAcc/DMSC/ServerID
check "tree get the account's ServerID" test "$out" = "DMServer"
run tree get ./DMAcc/DMSC/AppAuth/CLCRED/AAuthName
check "tree get the client's AAuthName" test "$out" = "dmclient"
for level in CLCRED SRVCRED; do
	run tree get ./DMAcc/DMSC/AppAuth/$level/AAuthSecret
	check "tree get $level AAuthSecret: exit 0" test $rc -eq 0
	check "... shows only the mask" test "$out" = "********"
	run --json tree get ./DMAcc/DMSC/AppAuth/$level/AAuthSecret
	check "... also in JSON" $PY -c 'import json,sys; assert json.loads(sys.argv[1])["value"] == "********"' "$out"
done
out=$(busctl --system --json=short call $mgr GetNode s ./DMAcc/DMSC/AppAuth/SRVCRED/AAuthSecret 2>&1)
echo "$out" | diag
check "GetNode itself returns the mask bytes" contains "$out" '[42,42,42,42,42,42,42,42]'
check "no secret ever reached dmscgwctl" bash -c "! grep -q S3CRET '$T/ctl.out'"
run tree get ./DMAcc/DMSC/AppAuth/CLCRED/AAuthData
check "tree get a b64 leaf: exit 0" test $rc -eq 0
run --json tree get ./DMAcc/DMSC/AppAuth/CLCRED/AAuthData
check "... format b64" $PY -c 'import json,sys; assert json.loads(sys.argv[1])["format"] == "b64"' "$out"
run tree get ./DevInfo
check "tree get an interior node: its children joined by /" contains "$out" "DevId"
run tree get ./Nope
check "tree get ./Nope: exit 1" test $rc -eq 1
check "... says there is no such node" test "$err" = "dmscgwctl: no node ./Nope (org.dmscgw1.Error.NotFound)"
check "... and prints nothing" test -z "$out"
run tree ls ./Nope/Deeper
check "tree ls of a missing node: exit 1 NotFound" failed_with $rc "$err" "(org.dmscgw1.Error.NotFound)"
run tree ls ./DevInfo/DevId
check "tree ls of a leaf: exit 1" test $rc -eq 1
check "... Failed, is a leaf" contains "$err" "is a leaf (org.dmscgw1.Error.Failed)"
run tree get "./a//b"
check "tree get a malformed URI: exit 1" test $rc -eq 1
check "... InvalidArgs" contains "$err" "(org.freedesktop.DBus.Error.InvalidArgs)"
run tree get "./$(printf 'x%.0s' $(seq 1 1100))"
check "tree get a URI over 1024 bytes: exit 1 InvalidArgs" failed_with $rc "$err" "(org.freedesktop.DBus.Error.InvalidArgs)"
run tree get ""
check "tree get '': usage error 2" test $rc -eq 2
run tree cat ./DevInfo
check "tree cat: usage error 2" test $rc -eq 2

# sessions
run sessions
check "sessions when idle: exit 0" test $rc -eq 0
check "... just the header" test "$out" = $'ID\tSERVER\tTRIGGER\tTRANSPORT\tSTATE\tCOMMANDS\tRESULT\tERROR'
run --json sessions
check "sessions --json when idle" test "$out" = '{"Sessions":[]}'
check "status: Sessions: 0" bash -c "'$CTL' status | grep -qx 'Sessions: 0'"
run session start UNKNOWN
check "session start UNKNOWN: exit 1" test $rc -eq 1
check "... NotFound" contains "$err" "(org.dmscgw1.Error.NotFound)"
check "... no account" grep -qi "no .*account" <<<"$err"
check "... prints nothing" test -z "$out"
run session start ""
check "session start '': usage error 2" test $rc -eq 2
run session stop DMServer
check "session stop: usage error 2" test $rc -eq 2
run sessions
check "a refused start leaves no session" test "$(wc -l <<<"$out")" -eq 1

# a real start: the session cannot reach its server, but it is listed,
# signalled and ends
run session start DMServer
check "session start DMServer: exit 0" test $rc -eq 0
check "... prints the session number" grep -qxE '[0-9]+' <<<"$out"
id=$out
wait_for 5 grep -q "^SessionStarted /org/dmscgw1 id=$id " "$T/mon.txt"
check "monitor: SessionStarted with server and trigger dbus" \
	grep -qx "SessionStarted /org/dmscgw1 id=$id server=\"DMServer\" trigger=dbus" "$T/mon.txt"
run sessions
check "sessions lists it" grep -qE "^$id	DMServer	dbus	" <<<"$out"
run --json sessions
check "sessions --json: its fields" $PY -c '
import json,sys
s = json.loads(sys.argv[1])["Sessions"]
d = [x for x in s if x["id"] == int(sys.argv[2])][0]
assert d["server"] == "DMServer" and d["trigger"] == "dbus", d
assert set(d) == {"id","server","trigger","state","commands","result","error","started","finished","transport"}, d
assert d["transport"] == "bip", d	# DMServer is the DM_SC server here
assert d["started"] > 0' "$out" "$id"
check "status: Sessions: 1 or more" bash -c "'$CTL' status | grep -qE '^Sessions: [1-9]'"
wait_for 60 grep -q "^SessionFinished /org/dmscgw1 id=$id " "$T/mon.txt"
check "monitor: SessionFinished with a result" \
	grep -qE "^SessionFinished /org/dmscgw1 id=$id server=\"DMServer\" result=[a-z-]+ error=\".*\" commands=[0-9]+\$" "$T/mon.txt"
run sessions
check "sessions: finished, transport-failed, with why" \
	grep -qE "^$id	DMServer	dbus	bip	finished	0	transport-failed	[^-]" <<<"$out"
check "monitor: Sessions changed" grep -q '^PropertiesChanged /org/dmscgw1 org.dmscgw1.Manager Sessions=' "$T/mon.txt"

# reads are open, the tree methods are not: the bus policy says so
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups busctl --system get-property $mgr Sessions 2>&1); rc=$?
	check "nobody reads Sessions" test $rc -eq 0
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups $CTL tree get ./DevInfo/DevId 2>&1); rc=$?
	echo "$out" | diag
	check "tree get as nobody: exit 1" test $rc -eq 1
	check "... AccessDenied" contains "$out" "AccessDenied"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups $CTL session start DMServer 2>&1); rc=$?
	check "session start as nobody: exit 1 AccessDenied" failed_with $rc "$out" "AccessDenied"
fi

monitor_barrier "$T/mon.txt" "$T/mon.json" || not_ok "both monitors saw the barrier"
kill -INT $MON; wait $MON; rc=$?
check "monitor exits 0" test $rc -eq 0
kill -TERM $MONJ; wait $MONJ
diag "$T/mon.txt"
check "monitor --json: every line parses" $PY -c "
import json,sys
for l in open(sys.argv[1]): json.loads(l)" "$T/mon.json"
check "monitor --json: SessionStarted with its arguments" $PY -c "
import json,sys
s = [json.loads(l) for l in open(sys.argv[1])]
s = [x for x in s if x['signal'] == 'SessionStarted' and x['id'] == int(sys.argv[2])]
assert s and s[0]['server'] == 'DMServer' and s[0]['trigger'] == 'dbus', s" "$T/mon.json" "$id"
check "both monitors show the same signals from SessionStarted on" \
	monitors_agree SessionStarted "$T/mon.txt" "$T/mon.json"
check "monitors said only that they listen, on stderr" monitor_quiet mon.txt mon.json
check "no secret in the daemon's log" bash -c "! grep -q S3CRET '$T/dmscgw.log'"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
kill "$BUS_PID"; wait "$BUS_PID" 2>/dev/null

# a permissive bus: the daemon's own check refuses nobody, lets the group in
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	rm -f "$T/bus"
	start_bus permissive
	start_daemon
	wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the permissive bus"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups busctl --system call $mgr GetNode s ./DevInfo/DevId 2>&1)
	echo "$out" | diag
	check "[permissive] the daemon refuses GetNode to nobody" contains "$out" "GetNode needs root or the group dmscgw"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups $CTL tree ls . 2>&1); rc=$?
	check "[permissive] tree ls as nobody: exit 1 org.dmscgw1.Error.AccessDenied" \
		failed_with $rc "$out" "ListNode needs root or the group dmscgw (org.dmscgw1.Error.AccessDenied)"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups $CTL session start DMServer 2>&1); rc=$?
	check "[permissive] session start as nobody: AccessDenied" \
		failed_with $rc "$out" "(org.dmscgw1.Error.AccessDenied)"
	check "[permissive] and the daemon logs it" grep -q "GetNode refused to uid 65534" "$T/dmscgw.log"
	if getent group dmscgw >/dev/null; then
		out=$(setpriv --reuid=nobody --regid=nogroup --groups=dmscgw $CTL tree get ./DevInfo/DevId 2>&1); rc=$?
		check "[permissive] a member of group dmscgw may read the tree" test "$out" = "IMEI:490154203237518"
	fi
	stop_daemon
	check "[permissive] clean exit" test "$DAEMON_RC" -eq 0
fi
done_testing
