#!/bin/bash
# POLL INTERVAL is negotiated within [wakeup] poll_min..poll_max, answered
# with the duration used, and produces STATUS; POLLING OFF stops it.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
cat >"$T/card.scn" <<'EOS'
expect profile *
# asks 1 s; the terminal's minimum is 2 s
proactive poll-interval 1
expect tr 8103010300 82028281 830100 8402 01 02
expect status 2
proactive polling-off
expect tr 8103020400 82028281 830100
# the card stays and answers for more than two poll intervals
sleep 5
EOS
write_conf "
[wakeup]
poll_min = 2
poll_max = 60"
start_daemon
start_vuicc -s "$T/card.scn" --scenario-exit
wait "$VUICC_PID"; rc=$?
check "card scenario passed (2 s granted for 1 s asked, STATUS polls, polling off)" test $rc -eq 0
check "STATUS is the no-data form 80 F2 00 0C" grep -qx "> 80F2000C" "$T/card.log"
check "daemon logs the negotiation" grep -q "poll interval 1000 ms asked, 2000 ms used" "$T/dmscgw.log"
# nothing polls once polling is off, while the card was still there
after=$(sed -n '/^> 80140000..8103020400/,$p' "$T/card.log" | grep -c "^> 80F2")
check "no STATUS in the 5 s after POLLING OFF ($after)" test "$after" -eq 0
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
