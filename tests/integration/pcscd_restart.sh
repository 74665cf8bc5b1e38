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
# several retries without pcscd: a stand-in on its socket counts the
# daemon's attempts to reach it and turns each away
rm -f "$T/pcscd.sock"
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept(); c.close()
    print("attempt", flush=True)
' "$T/pcscd.sock" >"$T/attempts" 2>&1 &
STANDIN=$!; PIDS+=($STANDIN)
wait_count 20 "$T/attempts" "^attempt" 3
check "the daemon kept trying ($(count_lines "$T/attempts" "^attempt") attempts)" \
	test "$(count_lines "$T/attempts" "^attempt")" -ge 3
kill $STANDIN; wait $STANDIN 2>/dev/null
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
