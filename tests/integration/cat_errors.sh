#!/bin/bash
# Commands the terminal cannot or will not execute get the exact result of
# TS 102 223 clause 6.10 / 8.12, and the daemon logs them with their hex.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
cat >"$T/card.scn" <<'EOS'
expect profile *
# unknown type of command -> 31
proactive D009 8103017F00 82028182
expect tr 8103017F00 82028281 830131
# device identities missing -> 36
proactive D005 8103020200
expect tr 8103020200 82028281 830136
# POLL INTERVAL without its duration -> 36
proactive D009 8103030300 82028182
expect tr 8103030300 82028281 830136
# unknown comprehension-required object -> 32
proactive D00C 8103040200 82028182 CF0100
expect tr 8103040200 82028281 830132
# the same object without CR is ignored -> 00
proactive D00C 8103050200 82028182 4F0100
expect tr 8103050200 82028281 830100
# BER length larger than the contents -> 32
proactive D010 8103060200 82028182
expect tr 8103060200 82028281 830132
# TIMER MANAGEMENT qualifier 03 -> 30
proactive D00C 8103072703 82028182 A40101
expect tr 8103072703 82028281 830130
# PROVIDE LOCAL INFORMATION, location, with no service -> 20 04
proactive local-info 00
expect tr 8103..2600 82028281 83022004
# PROVIDE LOCAL INFORMATION qualifier 0A -> 30
proactive local-info 0A
expect tr 8103..260A 82028281 830130
# IMEI and date/time are always there
proactive local-info 01
expect tr 8103..2601 82028281 830100 1408 ..*
proactive local-info 03
expect tr 8103..2603 82028281 830100 2607 *
# SET UP EVENT LIST with an event this terminal cannot report -> 30
proactive set-event-list 05
expect tr 8103..0500 82028281 830130
proactive set-event-list 03
expect tr 8103..0500 82028281 830100
proactive more-time
expect tr 8103..0200 82028281 830100
EOS
write_conf
start_daemon
start_vuicc -s "$T/card.scn" --scenario-exit
wait "$VUICC_PID"; rc=$?
check "card scenario passed (31, 36, 36, 32, 00, 32, 30, 20 04, 30, IMEI, date, 30, 00, 00)" test $rc -eq 0
check "unknown command logged with its hex" \
	grep -q "unknown type of command: D0098103017F0082028182" "$T/dmscgw.log"
check "missing values logged with their hex" \
	grep -q "required values missing in command: D0058103020200" "$T/dmscgw.log"
check "event list registered" grep -q "event list set, 1 event" "$T/dmscgw.log"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
