#!/bin/bash
# BIP errors carry the exact 3A cause (TS 102 223 clause 8.12.11): channel
# identifier not valid (03), no channel available (01), channel closed (02),
# port not available (10); and a buffer asked beyond the maximum is granted
# the maximum with result 07.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || PY=python3
pick_port
SP=$(another_port)
BUSY=$(another_port)
start_pcscd
$PY -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1', $BUSY)); s.listen(1); print('ready', flush=True); time.sleep(600)" >"$T/busy.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q ready "$T/busy.log" || bail "no busy port"
sp=$(printf '%04X' "$SP")
busy=$(printf '%04X' "$BUSY")
{
	echo "expect profile *"
	echo "proactive set-event-list 09 0A"
	echo "expect tr 8103..0500 82028281 830100"
	echo "# CLOSE CHANNEL on channel 5, never opened: 3A 03"
	echo "proactive D009 8103014100 82028125"
	echo "expect tr 8103014100 82028281 83023A03"
	echo "# a buffer of FFFF against buffer_max 4096: granted 4096, result 07"
	echo "proactive D012 8103024000 82028182 3902FFFF 3C0303$sp"
	echo "expect tr 8103024000 82028281 830107 38024100 39021000"
	for n in 3 4 5 6 7 8; do
		echo "proactive D012 81030${n}4000 82028182 39020400 3C0303$sp"
		echo "expect tr 81030${n}4000 82028281 830100 3802 .. 00 39020400"
	done
	echo "# an eighth channel: 3A 01"
	echo "proactive D012 8103094000 82028182 39020400 3C0303$sp"
	echo "expect tr 8103094000 82028281 83023A01"
	echo "# SEND and RECEIVE on a channel with no client: 3A 02"
	echo "proactive D00E 81030A4301 82028121 B603010203"
	echo "expect tr 81030A4301 82028281 83023A02"
	echo "proactive D00C 81030B4200 82028121 B70110"
	echo "expect tr 81030B4200 82028281 83023A02"
	echo "# free channel 7 and ask for a port another program holds: 3A 10"
	echo "proactive D009 81030C4100 82028127"
	echo "expect tr 81030C4100 82028281 830100"
	echo "proactive D012 81030D4000 82028182 39020400 3C0303$busy"
	echo "expect tr 81030D4000 82028281 83023A10"
	echo "# GET CHANNEL STATUS lists the six channels in LISTEN"
	echo "proactive D009 81030E4400 82028182"
	echo "expect tr 81030E4400 82028281 830100 B8024100 B8024200 B8024300 B8024400 B8024500 B8024600"
} >"$T/card.scn"
write_conf "
[bip]
buffer_max = 4096"
start_daemon
start_vuicc -s "$T/card.scn" --scenario-exit
wait "$VUICC_PID"; rc=$?
check "card scenario passed: 3A 03, 07, 3A 01, 3A 02 twice, 3A 10, channel status list" test $rc -eq 0
check "the port conflict is logged" grep -q "cannot listen on port $BUSY" "$T/dmscgw.log"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
