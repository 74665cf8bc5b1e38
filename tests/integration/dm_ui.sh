#!/bin/bash
# The user-interaction alerts 1100-1104 of a DM session: answered by the
# [dm] alerts policy while no UI agent is registered, then by an agent on
# D-Bus (org.dmscgw1.Agent), which sees the server's text; an agent that
# fails leaves the answer to the policy.  The card checks every Status.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_pcscd
start_bus

PSK=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
write_conf "
encoding = xml
alerts = reject
$(dm_sc_conf "$SP" "$PSK")"

cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 30
expect profile *
expect envelope DC*
# no agent: [dm] alerts = reject
dm-alert 1100 Maintenance tonight expect 200
dm-alert 1101 Install the update? expect 304
dm-alert 1102 Your name? expect 214
dm-add ./NoAgent chr yes expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# the test registers its agent, then says go with envelope D9 01 01
expect envelope D90101
dm-alert 1101 Install the update? expect 200
dm-alert 1102 Your name? expect 200
dm-alert 1103 Pick a colour expect 200
dm-alert 1101 please refuse this one expect 304
dm-alert 1102 agent fails here expect 214
dm-add ./WithAgent chr yes expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# a Generic Alert the test asks for (Report over D-Bus)
dm-add ./AfterReport chr yes expect 200
expect dm-session alert 1201
expect dm-end completed
# and one with an importance level (ReportMark)
expect dm-session alert 1201
expect dm-end completed
# a session cancelled while the agent holds a question: the Add's Status and
# the alert's (304, answered no) come with the client's Alert 1223
dm-add ./BeforeCancel chr kept expect 200
dm-alert 1101 hold this one expect 304
dm-package
dm-add ./AfterCancel chr never
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end client-abort
EOS
start_daemon
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -v -s "$T/card.scn"
wait_for 20 grep -q "session .* with DMSC01 finished" "$T/dmscgw.log"
check "no agent: the session finished" grep -q "session .* with DMSC01 finished" "$T/dmscgw.log"
check "no agent: the policy refused the confirmation" \
	grep -q 'alert 1101 "Install the update?" refused by policy' "$T/dmscgw.log"
check "no agent: ./NoAgent provisioned" test "$("$CTL" tree get ./NoAgent 2>&1)" = yes

# the agent: accepts, answers "Alice" to a text input, "2" to a choice,
# refuses when asked to, and fails (a D-Bus error) on "agent fails here"
start_agent "$T/agent.log"
check "the agent registered" grep -q registered "$T/agent.out"
out=$($PY -c 'import dbus,sys; b=dbus.SystemBus(); b.get_object("org.dmscgw1","/org/dmscgw1").RegisterAgent(dbus.ObjectPath("/x"), dbus_interface="org.dmscgw1.Manager")' 2>&1)
check "a second agent is refused ($out)" contains "$out" "already"
busctl --system call org.dmscgw1 /org/dmscgw1/card/1 org.dmscgw1.Card Envelope ay 3 0xD9 0x01 0x01 >/dev/null
wait_count 20 "$T/dmscgw.log" "session .* with DMSC01 finished" 2
check "with the agent: the session finished" \
	test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 finished")" -eq 2
check "the agent saw the server's text" grep -q "DMSC01 1101 Install the update?" "$T/agent.log"
check "the agent saw the choice alert" grep -q "DMSC01 1103 Pick a colour" "$T/agent.log"
check "the agent's refusal counts" grep -q 'alert 1101 "please refuse this one" refused by the UI agent' "$T/dmscgw.log"
check "a failing agent leaves it to the policy" \
	grep -q 'alert 1102 "agent fails here" refused by policy' "$T/dmscgw.log"
check "./WithAgent provisioned" test "$("$CTL" tree get ./WithAgent 2>&1)" = yes
out=$(busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager Report sssss \
	DMSC01 ./FUMO/1 org.openmobilealliance.dm.firmwareupdate.devicerequest chr ready 2>&1)
check "Report starts a client-initiated session ($out)" contains "$out" "u "
wait_count 20 "$T/dmscgw.log" "session .* with DMSC01 finished" 3
check "its Package#1 carried the Generic Alert 1226" \
	grep -q "dm: <- msg 1 .*Alert(1201).*Alert(1226)" "$T/vuicc.log"
check "... and the session finished" test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 finished")" -eq 3
check "the card got its item: Source, Meta Type and Format, no Mark, Data" \
	grep -q "dm: generic alert: source ./FUMO/1 type org.openmobilealliance.dm.firmwareupdate.devicerequest format chr mark - data ready$" "$T/vuicc.log"
out=$(busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager ReportMark ssssss \
	DMSC01 ./Sensors/T org.example.temperature int critical 97 2>&1)
check "ReportMark starts a session ($out)" contains "$out" "u "
wait_count 20 "$T/dmscgw.log" "session .* with DMSC01 finished" 4
check "... its item carries Meta Mark critical" \
	grep -q "dm: generic alert: source ./Sensors/T type org.example.temperature format int mark critical data 97$" "$T/vuicc.log"
out=$("$CTL" report DMSC01 ./X t chr x loud 2>&1); rc=$?
check "dmscgwctl report with an unknown level: exit 1, InvalidArgs, no session ($out)" \
	bash -c "[ $rc -eq 1 ] && [[ \"\$1\" == *\"mark 'loud' is not one of\"*InvalidArgs* ]]" _ "$out"
# the session that waits for the agent is cancelled from the command line
wait_for 20 grep -q "hold this one" "$T/agent.log"
id=$("$CTL" --json sessions | $PY -c '
import json, sys
print([s["id"] for s in json.load(sys.stdin)["Sessions"] if s["state"] == "awaiting-ui"][0])')
out=$("$CTL" session cancel "$id" 2>&1); rc=$?
check "session cancel $id: exit 0 ($out)" test $rc -eq 0
wait_count 20 "$T/dmscgw.log" "session .* with DMSC01 failed \\(aborted\\)" 1
check "... the session ended as aborted, cancelled over D-Bus" \
	grep -qE "session .* with DMSC01 failed \(aborted\): cancelled over D-Bus" "$T/dmscgw.log"
check "... its last message carried the Add's Status, the alert's 304 and Alert 1223" \
	grep -qE "dm: <- msg [0-9]+ .*Status\(Add [0-9]+/[0-9]+\)=200 Status\(Alert [0-9]+/[0-9]+\)=304 Alert\(1223\)" "$T/vuicc.log"
check "... what ran before stays: ./BeforeCancel" test "$("$CTL" tree get ./BeforeCancel 2>&1)" = kept
check "... what came after did not run: no ./AfterCancel" \
	bash -c "! '$CTL' tree get ./AfterCancel >/dev/null 2>&1"
out=$("$CTL" session cancel "$id" 2>&1); rc=$?
check "cancelling it again: exit 1, NotFound ($out)" \
	bash -c "[ $rc -eq 1 ] && [[ \"\$1\" == *NotFound* ]]" _ "$out"
out=$(busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager Report sssss NOPE . "" "" x 2>&1)
check "Report to an unknown server: NotFound ($out)" contains "$out" "no DM account"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed (every Status as expected)" grep -q "all .* steps passed" "$T/vuicc.log"
kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
wait_for 5 grep -q "UI agent .* gone" "$T/dmscgw.log"
check "the agent leaving the bus is noticed" grep -q "UI agent .* gone" "$T/dmscgw.log"
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
