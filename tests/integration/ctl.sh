#!/bin/bash
# dmscgwctl against the real daemon, a private pcscd, the virtual UICC and
# a private system-like bus with the project's policy: every verb in text
# and JSON, exit codes 0/1/2/3, monitor.
. "${top_srcdir:-.}/tests/lib.sh"
CTL=$top_builddir/dmscgwctl
PY=python3
json_ok() { $PY -c 'import json,sys; json.loads(sys.argv[1])' "$1"; }

pick_port
start_pcscd
start_bus
cat >"$T/card.scn" <<'EOS'
expect profile *
proactive set-event-list 03
expect tr 8103..0500 82028281 830100
proactive timer-start 2 00:01:00
expect tr 8103..2700 82028281 830100 A40102
on envelope D90101 reply 0102 9000
expect envelope D90101
EOS
write_conf "
[wakeup]
sources = profile-download timer location"
out=$($CTL status 2>&1); rc=$?
check "status with no daemon: exit 3" test $rc -eq 3
check "... says so" contains "$out" "dmscgw is not running"
check "... says no owner on the system bus" contains "$out" "dmscgw is not running (no owner of org.dmscgw1 on the system bus)"
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"
start_monitor mon.txt; MON=$MON_PID
start_monitor mon.json --json; MONJ=$MON_PID
out=$($CTL status); rc=$?
check "status: exit 0" test $rc -eq 0
out=$($CTL --json status)
check "status --json parses, with Version" $PY -c 'import json,sys; assert json.loads(sys.argv[1])["Version"] == "0.1.0"' "$out"
echo "$out" | diag
check "status: Cards: 0" contains "$($CTL status)" "Cards: 0"
start_vuicc -s "$T/card.scn"
wait_for 10 bash -c "$CTL card 1 2>/dev/null | grep -q 'Timers: 2='" || not_ok "timer 2 seen"
out=$($CTL cards); echo "$out" | diag
check "cards: one tab-separated line" test "$(echo "$out" | awk -F'\t' 'NF==5' | wc -l)" -eq 1
out=$($CTL card "Virtual PCD 00 00"); rc=$?; echo "$out" | diag
check "card by reader name" test $rc -eq 0
check "... Events: 03" contains "$out" "Events: 03"
out=$($CTL --json card /org/dmscgw1/card/1); echo "$out" | diag
check "card --json parses" $PY -c "import json,sys; d=json.loads(sys.argv[1]); assert d['Path']=='/org/dmscgw1/card/1' and d['Events']=='03'" "$out"
out=$($CTL envelope 'D9 01 01'); rc=$?; echo "$out" | diag
check "envelope: exit 0" test $rc -eq 0
check "envelope: SW and response" test "$out" = $'SW: 9000\nResponse: 0102'
out=$($CTL envelope D9 2>&1); rc=$?
check "envelope too short: exit 2" test $rc -eq 2
out=$($CTL envelope 0101 --card 1 2>&1); rc=$?; echo "$out" | diag
check "envelope refused by the daemon: exit 1 with its error name" test $rc -eq 1
check "... InvalidArgs" contains "$out" "(org.dmscgw1.Error.InvalidArgs)"
out=$($CTL location normal 208 10 4660 180149761 eutran 2>&1); rc=$?; echo "$out" | diag
check "location normal: exit 0" test $rc -eq 0
out=$($CTL --json location limited 2>&1)
check "location --json: {}" test "$out" = "{}"
out=$($CTL --json envelope D90101)
check "envelope --json parses, sw 9000" $PY -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["sw"] == "9000", d' "$out"
out=$($CTL --json cards)
check "cards --json parses" json_ok "$out"
out=$($CTL location 20 10 1 1 2>&1); rc=$?
check "location with a 2-digit MCC: usage error 2" test $rc -eq 2
out=$($CTL frobnicate 2>&1); rc=$?
check "unknown verb: exit 2" test $rc -eq 2
check "... says so" contains "$out" "frobnicate"
out=$($CTL location no-service 2>&1); rc=$?; echo "$out" | diag
check "location no-service: exit 0" test $rc -eq 0
out=$($CTL location sideways 2>&1); rc=$?; echo "$out" | diag
check "location sideways: exit 1, daemon's message" test $rc -eq 1
out=$($CTL call +33612345678 2>&1); rc=$?; echo "$out" | diag
check "call with call-control off: NotSupported, exit 1" test $rc -eq 1
out=$($CTL --json call +33612345678 2>&1); rc=$?
check "call --json, daemon error: exit 1" test $rc -eq 1
check "... NotSupported" contains "$out" "(org.dmscgw1.Error.NotSupported)"
(cd "$T" && $CTL trace start rel.pcap); rc=$?
check "trace start relative: exit 0" test $rc -eq 0
check "... status shows the absolute file" bash -c "$CTL status | grep -qx 'Tracing: $T/rel.pcap'"
check "trace stop" $CTL trace stop
check "... status shows off" bash -c "$CTL status | grep -qx 'Tracing: off'"
check "reload: exit 0" $CTL reload
out=$($CTL --json reload)
check "reload --json: {}" test "$out" = "{}"
out=$($CTL --json trace start "$T/j.pcap")
check "trace start --json: {}" test "$out" = "{}"
check "trace stop --json" $CTL --json trace stop
echo "bogus line" >>"$T/dmscgw.conf"
out=$($CTL reload 2>&1); rc=$?; echo "$out" | diag
check "reload bad config: exit 1 ConfigError" test $rc -eq 1
check "... ConfigError" contains "$out" "(org.dmscgw1.Error.ConfigError)"
out=$($CTL card 7 2>&1); rc=$?; echo "$out" | diag
check "card 7: NoCard exit 1" test $rc -eq 1
check "... NoCard" contains "$out" "no card /org/dmscgw1/card/7 (org.dmscgw1.Error.NoCard)"
out=$($CTL envelope D90101 --card 7 2>&1); rc=$?; echo "$out" | diag
check "envelope card 7: NoCard exit 1" test $rc -eq 1
t0=$(date +%s.%N)
stop_vuicc
wait_for 10 grep -q '^CardRemoved' "$T/mon.txt"
t1=$(date +%s.%N)
lat=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "# monitor saw the removal after $lat s"
check "monitor shows the card removal within one second ($lat s)" \
	awk -v l="$lat" 'BEGIN { exit !(l < 1.0) }'
wait_for 10 bash -c "$CTL status | grep -qx 'Cards: 0'"
out=$($CTL envelope D90101 2>&1); rc=$?; echo "$out" | diag
check "envelope with no card: exit 1 NoCard" test $rc -eq 1
check "... no card" contains "$out" "no card (org.dmscgw1.Error.NoCard)"
out=$($CTL --json cards); check "cards --json with none" test "$out" = '{"Cards":[]}'
# unprivileged user: the policy refuses the method, reads work
if id nobody >/dev/null 2>&1; then
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups $CTL status 2>&1); rc=$?
	check "status as nobody: exit 0" test $rc -eq 0
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups $CTL reload 2>&1); rc=$?; echo "$out" | diag
	check "reload as nobody: exit 1, AccessDenied" test $rc -eq 1
fi
monitor_barrier "$T/mon.txt" "$T/mon.json" || not_ok "both monitors saw the barrier"
kill -INT $MON; wait $MON; rc=$?
check "monitor exits 0 on SIGINT" test $rc -eq 0
kill -TERM $MONJ; wait $MONJ; rc=$?
check "monitor --json exits 0 on SIGTERM" test $rc -eq 0
diag "$T/mon.txt"; diag "$T/mon.txt.err"
check "monitor: CardInserted" grep -q '^CardInserted /org/dmscgw1/card/1 "Virtual PCD 00 00"$' "$T/mon.txt"
check "monitor: ProactiveCommand 05" grep -q '^ProactiveCommand /org/dmscgw1/card/1 type=05 result=00$' "$T/mon.txt"
check "monitor: ProactiveCommand 27" grep -q '^ProactiveCommand /org/dmscgw1/card/1 type=27 result=00$' "$T/mon.txt"
check "monitor: EnvelopeSent D9" grep -q '^EnvelopeSent /org/dmscgw1/card/1 tag=D9 sw=9000$' "$T/mon.txt"
check "monitor: Events changed" grep -q '^PropertiesChanged /org/dmscgw1/card/1 org.dmscgw1.Card Events=03' "$T/mon.txt"
check "monitor: Tracing changed" grep -q "^PropertiesChanged /org/dmscgw1 org.dmscgw1.Manager Tracing=\"$T/rel.pcap\"" "$T/mon.txt"
check "monitor: CardRemoved" grep -q '^CardRemoved /org/dmscgw1/card/1 "Virtual PCD 00 00"$' "$T/mon.txt"
check "monitor --json: every line parses" $PY -c "
import json,sys
n=0
for l in open(sys.argv[1]): json.loads(l); n+=1
assert n > 5, n" "$T/mon.json"
check "both monitors show the same signals from CardInserted on" \
	monitors_agree CardInserted "$T/mon.txt" "$T/mon.json"
check "monitors said only that they listen, on stderr" monitor_quiet mon.txt mon.json
stop_daemon
out=$($CTL status 2>&1); rc=$?
check "status after stop: exit 3" test $rc -eq 3
kill "$BUS_PID"; wait "$BUS_PID"
out=$($CTL status 2>&1); rc=$?; echo "$out" | diag
check "status with no bus: exit 3" test $rc -eq 3
check "... cannot connect" contains "$out" "dmscgw is not running (cannot connect to the system bus"
done_testing
