#!/bin/bash
# Card removed and reinserted: the profile is sent again every time, with no
# leak of threads or descriptors and no crash.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
start_daemon
start_vuicc
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no first profile"
wait_for 5 grep -q "terminal profile sent" "$T/dmscgw.log"
fds0=$(ls /proc/$DAEMON_PID/fd | wc -l)
threads0=$(ls /proc/$DAEMON_PID/task | wc -l)

cycles=5
for i in $(seq 2 $((cycles + 1))); do
	stop_vuicc
	wait_count 10 "$T/dmscgw.log" "card gone" $((i - 1)) || break
	start_vuicc
	wait_count 10 "$T/card.log" "^> $TP_APDU\$" "$i" || break
	wait_count 10 "$T/dmscgw.log" "terminal profile sent" "$i" || break
done
check "card removal seen $cycles times" \
	test "$(count_lines "$T/dmscgw.log" "card gone")" -eq $cycles
check "profile sent again at each of $cycles insertions" \
	test "$(count_lines "$T/card.log" "^> $TP_APDU\$")" -eq $((cycles + 1))
fds1=$(ls /proc/$DAEMON_PID/fd | wc -l)
threads1=$(ls /proc/$DAEMON_PID/task | wc -l)
check "no descriptor leak ($fds0 -> $fds1)" test "$fds0" -eq "$fds1"
check "no thread leak ($threads0 -> $threads1)" test "$threads0" -eq "$threads1"
check "daemon still running" kill -0 "$DAEMON_PID"

stop_daemon
check "clean exit after the cycles (sanitizers report leaks here)" \
	test "$DAEMON_RC" -eq 0
done_testing
