#!/bin/bash
# pcscd killed and restarted: the loss is logged once, the daemon keeps
# retrying with backoff and finds the card again without a restart.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
start_daemon
start_vuicc
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no first profile"

stop_pcscd
wait_for 10 grep -q "pcscd not available" "$T/dmscgw.log"
check "loss of pcscd is logged" grep -q "pcscd not available" "$T/dmscgw.log"
check "the card session ended with it" grep -q "card gone" "$T/dmscgw.log"
# several retry periods (retry_max = 2 s) without pcscd
sleep 5
check "the loss is logged once, not at every retry" \
	test "$(count_lines "$T/dmscgw.log" "pcscd not available")" -eq 1

start_pcscd
wait_count 15 "$T/card.log" "^> $TP_APDU\$" 2
check "after pcscd is back the profile is sent again" \
	test "$(count_lines "$T/card.log" "^> $TP_APDU\$")" -eq 2
check "the return is logged" test "$(count_lines "$T/dmscgw.log" "connected to pcscd")" -eq 2
check "same daemon process" kill -0 "$DAEMON_PID"

stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
