#!/bin/bash
# Benchmark (not a test): what the daemon costs when nothing happens.
# Counts the daemon's system calls over 10 s with a card present and idle
# (strace -c -f), and reports its resident memory and threads.
. "${top_srcdir:-.}/tests/lib.sh"

command -v strace >/dev/null || { echo "idle: strace not installed"; exit 0; }
pick_port
start_pcscd
write_conf
start_daemon
start_vuicc
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no profile"
sleep 1
secs=${IDLE_SECONDS:-10}
timeout "$secs" strace -c -f -p "$DAEMON_PID" -o "$T/strace.out" 2>/dev/null
calls=$(awk '/^100.00/ { print $4 } /total$/ && NF == 5 { print $4 }' "$T/strace.out" | tail -1)
rss=$(awk '/^VmRSS/ { print $2 }' /proc/$DAEMON_PID/status)
threads=$(ls /proc/$DAEMON_PID/task | wc -l)
echo "idle: ${calls:-0} system calls in ${secs} s with a card present (wake-ups per second: $(awk -v c="${calls:-0}" -v s="$secs" 'BEGIN { printf "%.2f", c / s }'))"
echo "idle: RSS ${rss} KiB, ${threads} threads (loop, PC/SC monitor, one reader worker)"
stop_daemon
_n=1
echo "ok 1 - idle measured"
done_testing >/dev/null
