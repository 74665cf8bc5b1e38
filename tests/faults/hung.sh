#!/bin/bash
# A card that stops answering, and a pcscd that stops (fault: SIGTERM did
# not end the daemon, D-Bus calls that needed the card got no answer).
# With [card] apdu_timeout = 2 an APDU without an answer fails the card
# session: a waiting D-Bus call gets an error; SIGTERM ends the daemon
# after a bounded wait for PC/SC (2 s), whatever pcscd or the card do.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
pick_port
start_pcscd
start_bus
write_conf "
[card]
apdu_timeout = 2"
trap 'kill -CONT "$VUICC_PID" "$PCSCD_PID" 2>/dev/null; cleanup' EXIT

# stop_in PID LIMIT: SIGTERM, then the seconds it took to exit (or "hung")
stop_in() {
	local t0 t1
	t0=$(date +%s.%N)
	kill -TERM "$1"
	if ! wait_for "$2" bash -c "! kill -0 $1 2>/dev/null"; then
		echo hung
		return
	fi
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}

# --- a card that stops answering ----------------------------------------
start_daemon
start_vuicc
wait_count 15 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no profile"
wait_for 10 bash -c "'$CTL' status | grep -qx 'Cards: 1'"
kill -STOP "$VUICC_PID"
t0=$(date +%s.%N)
out=$(timeout 20 "$CTL" envelope D90101 2>&1); rc=$?
t1=$(date +%s.%N)
lat=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "# the envelope call was answered after $lat s: $out"
check "a D-Bus call that needs the hung card is answered with an error (exit $rc after $lat s)" \
	bash -c "[ $rc -eq 1 ]"
check "the daemon says the card did not answer in time" \
	grep -q "no answer from the card within 2 s" "$T/dmscgw.log"
check "the daemon still answers" "$CTL" status
took=$(stop_in "$DAEMON_PID" 10)
echo "# SIGTERM with the card hung: stopped after $took s"
check "SIGTERM ends it although its worker is stuck in the card ($took s)" \
	test "$took" != hung
wait "$DAEMON_PID"; rc=$?
check "... exit status 0 ($rc)" test "$rc" -eq 0
check "... saying it did not wait for the stuck thread" \
	grep -q "stopping without waiting for its" "$T/dmscgw.log"
kill -CONT "$VUICC_PID"
stop_vuicc

# --- a pcscd that stops -------------------------------------------------
mv "$T/dmscgw.log" "$T/dmscgw-first.log"
start_daemon
start_vuicc
wait_for 15 bash -c "'$CTL' status | grep -qx 'Cards: 1'" || bail "no card"
kill -STOP "$PCSCD_PID"
took=$(stop_in "$DAEMON_PID" 10)
echo "# SIGTERM with pcscd stopped: stopped after $took s"
check "SIGTERM ends it although pcscd does not answer ($took s)" \
	test "$took" != hung
wait "$DAEMON_PID"; rc=$?
check "... exit status 0 ($rc)" test "$rc" -eq 0
kill -CONT "$PCSCD_PID"
done_testing
