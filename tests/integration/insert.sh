#!/bin/bash
# Card inserted: the daemon selects the MF, then the exact TERMINAL PROFILE
# arrives at the virtual card; SIGTERM stops it cleanly.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
start_daemon
start_vuicc

wait_count 10 "$T/card.log" "^> 801000" 1
check "SELECT MF with FCP request reaches the card" \
	grep -qx "> 00A40004023F0000" "$T/card.log"
check "exact TERMINAL PROFILE bytes reach the card" \
	grep -qx "> $TP_APDU" "$T/card.log"
check "SELECT comes before TERMINAL PROFILE" \
	test "$(grep '^>' "$T/card.log" | head -2 | tr -d '\n')" = "> 00A40004023F0000> $TP_APDU"
wait_for 5 grep -q "terminal profile sent (30 bytes), card answered 9000" "$T/dmscgw.log"
check "daemon logs the profile exchange" \
	grep -q "terminal profile sent (30 bytes), card answered 9000" "$T/dmscgw.log"
check "daemon logs the reader, protocol and ATR" \
	grep -qE "Virtual PCD 00 00: card present, T=[01], ATR [0-9A-F]+" "$T/dmscgw.log"
check "the other reader of the pattern-less pair is not used" \
	bash -c "! grep -q 'Virtual PCD 00 01: using reader' '$T/dmscgw.log'"

stop_daemon
check "SIGTERM: exit status 0" test "$DAEMON_RC" -eq 0
check "SIGTERM: logged and stopped" grep -q "stopped" "$T/dmscgw.log"
done_testing
