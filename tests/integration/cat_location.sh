#!/bin/bash
# Location Status: a location change reaches the card only after SET UP
# EVENT LIST registered event 03, only when something changed, and no more
# once the list is emptied.  PROVIDE LOCAL INFORMATION follows the feed.
# The feed is the D-Bus method SetLocation (the same entry the modem uses).
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
start_bus
cat >"$T/card.scn" <<'EOS'
expect profile *
# the test says "go" with a private envelope D9 01 01
expect envelope D90101
proactive set-event-list 03
expect tr 8103..0500 82028281 830100
# 208/10, TAC 1234, E-UTRAN cell ABCDE01
expect envelope D615 990103 82028281 9B0100 1309 02F8011234ABCDE01F
proactive local-info 00
expect tr 8103..2600 82028281 830100 1309 02F8011234ABCDE01F
expect envelope D60A 990103 82028281 9B0102
proactive set-event-list
expect tr 8103..0500 82028281 830100
EOS
write_conf
start_daemon
start_vuicc -s "$T/card.scn" --scenario-exit
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no profile"
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1

setloc() { busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager SetLocation sssuus "$@"; }
card=/org/dmscgw1/card/1

check "SetLocation before the card listed event 03" setloc normal 001 01 1 1 eutran
check "... tells no card" grep -q "location status 00: 0 cards told" "$T/dmscgw.log"

check "go envelope accepted" busctl --system call org.dmscgw1 $card org.dmscgw1.Card Envelope ay 3 0xD9 0x01 0x01
wait_count 10 "$T/card.log" "^> 801400000C8103..050082028281830100\$" 1
check "the card registered event 03" \
	bash -c "busctl --system get-property org.dmscgw1 $card org.dmscgw1.Card Events | grep -qx 'ay 1 3'"
check "SetLocation after registration" setloc normal 208 10 4660 180149761 eutran
check "same location again" setloc normal 208 10 4660 180149761 eutran
check "... is not sent twice" grep -q "location unchanged, no event" "$T/dmscgw.log"
wait_count 10 "$T/card.log" "^> 80140000..8103..260082028281830100" 1
check "SetLocation no-service" setloc no-service "" "" 0 0 eutran
wait_count 10 "$T/card.log" "^> 801400000C8103..050082028281830100\$" 2
check "SetLocation after the list was emptied" setloc normal 001 01 1 1 gsm
check "... tells no card" test "$(count_lines "$T/dmscgw.log" "location status 00: 0 cards told")" -eq 2
wait "$VUICC_PID"; rc=$?
check "card scenario passed (exact D6 envelopes, local info follows the feed)" test $rc -eq 0
check "exactly two location status events reached the card" \
	test "$(count_lines "$T/card.log" "^> 80C20000..D6..990103")" -eq 2
out=$(setloc sideways "" "" 0 0 eutran 2>&1)
check "bad status is a named error" contains "$out" "status 'sideways' is not normal, limited or no-service"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
