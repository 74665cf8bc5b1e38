#!/bin/bash
# TIMER MANAGEMENT: a timer started by the card expires and the Timer
# Expiration envelope (D7) arrives with its id and value; get/deactivate
# answer the remaining time; a stopped timer is a contradiction (24).
# The run is traced, and tshark must decode the trace without complaint.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
cat >"$T/card.scn" <<'EOS'
expect profile *
proactive timer-start 1 00:00:02
expect tr 8103012700 82028281 830100 A40101
expect envelope D70C82028281A40101A503000020
proactive timer-start 2 00:01:00
expect tr 8103022700 82028281 830100 A40102
proactive timer-get 2
expect tr 8103032702 82028281 830100 A40102 A503 00 .. ..
proactive timer-stop 2
expect tr 8103042701 82028281 830100 A40102 A503 00 .. ..
proactive timer-stop 2
expect tr 8103052701 82028281 830124
proactive timer-get 7
expect tr 8103062702 82028281 830124
EOS
write_conf "
[trace]
file = $T/trace.pcap"
start_daemon
start_vuicc -s "$T/card.scn" --scenario-exit
wait "$VUICC_PID"; rc=$?
check "card scenario passed (timer start, expiry D7, get, stop, contradiction)" test $rc -eq 0
check "terminal profile advertises timer expiration, TIMER MANAGEMENT, POLL INTERVAL" \
	grep -qx "> $TP_APDU" "$T/card.log"
check "the daemon logs the expiry" grep -q "timer 1 expired after 2 s" "$T/dmscgw.log"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0

out=$(bash "$top_srcdir/tests/integration/tshark_check.sh" "$T/trace.pcap" 2>&1); rc=$?
if [ $rc -eq 77 ]; then
	echo "ok $((_n + 1)) # SKIP tshark not installed"; _n=$((_n + 1))
else
	check "tshark decodes the APDU trace with no malformed packets" test $rc -eq 0
	echo "$out" | diag
	check "tshark shows the timer expiration envelope" \
		bash -c "tshark -r '$T/trace.pcap' -V 2>/dev/null | grep -qi 'timer expiration'"
fi
done_testing
