#!/bin/bash
# SIGHUP reloads the config or keeps the old one, saying why; sd_notify
# reports READY, STATUS and STOPPING; SIGINT stops cleanly.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || skip_all "needs /usr/bin/python3 to receive sd_notify messages"

pick_port
start_pcscd
# A notify socket that records every datagram, one per line.
$PY - "$T/notify.sock" "$T/notify.log" <<'EOP' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        d = s.recv(4096).decode()
        f.write(d.replace("\n", "|") + "\n")
EOP
PIDS+=($!)
wait_for 5 test -S "$T/notify.sock" || bail "no notify socket"

write_conf
NOTIFY_SOCKET="$T/notify.sock" start_daemon
start_vuicc
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1
wait_for 5 grep -q "STATUS=1 card active" "$T/notify.log"
check "sd_notify READY=1" grep -q "^READY=1" "$T/notify.log"
check "sd_notify STATUS with the card" grep -q "STATUS=1 card active" "$T/notify.log"

# a bad config on SIGHUP: logged, the old one kept
cp "$T/dmscgw.conf" "$T/good.conf"
printf '[card]\nreader = x\ncolour = blue\n' >"$T/dmscgw.conf"
kill -HUP "$DAEMON_PID"
wait_for 5 grep -q "reload failed" "$T/dmscgw.log"
check "bad reload is refused with file:line and key" \
	grep -q "reload failed, keeping the running configuration: $T/dmscgw.conf:3: unknown key 'colour' in section \[card\]" "$T/dmscgw.log"
check "card still served after the refused reload" kill -0 "$DAEMON_PID"
check "card session untouched" bash -c "! grep -q 'card gone' '$T/dmscgw.log'"

# a good config that no longer matches the reader: the card is released
sed 's/^reader = .*/reader = No Such Reader*/' "$T/good.conf" >"$T/dmscgw.conf"
kill -HUP "$DAEMON_PID"
wait_for 5 grep -q "configuration reloaded" "$T/dmscgw.log"
check "good reload applied" grep -q "configuration reloaded from $T/dmscgw.conf" "$T/dmscgw.log"
wait_for 5 grep -q "card gone" "$T/dmscgw.log"
check "reader no longer matching is released" grep -q "Virtual PCD 00 00: no longer matches reader = No Such Reader\*" "$T/dmscgw.log"
check "sd_notify RELOADING=1" grep -q "^RELOADING=1" "$T/notify.log"

# and back: the card is taken again and gets its profile
cp "$T/good.conf" "$T/dmscgw.conf"
kill -HUP "$DAEMON_PID"
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 2
check "reader matching again: profile sent again" \
	test "$(count_lines "$T/card.log" "^> $TP_APDU\$")" -eq 2

kill -INT "$DAEMON_PID"
wait "$DAEMON_PID"; rc=$?
check "SIGINT: exit 0" test $rc -eq 0
check "sd_notify STOPPING=1" grep -q "^STOPPING=1" "$T/notify.log"
check "the card was released (reset) at stop" grep -q "# reset\|# power off" "$T/card.log"
done_testing
