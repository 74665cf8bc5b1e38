#!/bin/bash
# UICC client mode and terminal server mode: a TCP channel to an echo
# server, a UDP one, an unreachable address (3A 07), a channel to a
# registered local application (bytes delivered), and one to a port no
# application has (20 with its cause).
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || PY=python3
pick_port
EP=$(another_port)
UP=$(another_port)
AP=$(another_port)
DEAD=$(another_port)
start_pcscd

# echo servers (TCP and UDP), and a local application that records bytes
$PY - "$EP" "$UP" <<'EOP' >"$T/peers.log" 2>&1 &
import socket, sys, threading
ep, up = int(sys.argv[1]), int(sys.argv[2])
def tcp_echo():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", ep)); s.listen(4)
    while True:
        c, _ = s.accept()
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
        c.close()
def udp_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", up))
    while True:
        d, a = s.recvfrom(65536); s.sendto(d, a)
for t in (tcp_echo, udp_echo):
    threading.Thread(target=t, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
EOP
PIDS+=($!)
wait_for 10 grep -q ready "$T/peers.log" || bail "test peers did not start"
start_recorder "$AP" "$T/app.out"

cat >"$T/card.scn" <<EOS
expect profile *
# the registry: one application, port $AP, type 05
expect envelope DC*
proactive set-event-list 09 0A
expect tr 8103..0500 82028281 830100
open-client tcp 127.0.0.1 $EP 1024 immediate
expect tr 8103..4001 82028281 830100 380281 00 *
send 1 48454C4C4F
expect data 1 48454C4C4F
close 1
expect tr 8103..4100 82028281 830100
open-client udp 127.0.0.1 $UP 1024 immediate
expect tr 8103..4001 82028281 830100 *
send 1 50494E47
expect data 1 50494E47
close 1
expect tr 8103..4100 82028281 830100
open-client tcp 127.0.0.1 $DEAD 1024 immediate
expect tr 8103..4001 82028281 83023A07
open-local tcp $AP
expect tr 8103..40.. 82028281 830100 *
send-text 1 hello app
expect tr 8103..43.. 82028281 830100 *
close 1
expect tr 8103..4100 82028281 830100
open-local tcp 9
expect tr 8103..40.. 82028281 83022000
EOS
rmdir "/tmp/dmscgw-ports/$DEAD"	# nobody listens there
write_conf "
[bip]
applications = $AP:05:Test App"
start_daemon
start_vuicc -s "$T/card.scn" --scenario-exit
wait "$VUICC_PID"; rc=$?
check "card scenario passed: TCP echo, UDP echo, 3A 07, local app, 20 00" test $rc -eq 0
wait_for 5 test -s "$T/app.out"
check "the registered application received the card's bytes" \
	test "$(cat "$T/app.out" 2>/dev/null)" = "hello app"
check "the registry was announced: port, coding 04, type 05, name" \
	grep -qE "^> 80C20000..DC..82028281 ?71..$(printf '%04X' "$AP")0405$(printf 'Test App' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" "$T/card.log"
check "the unreachable peer is logged" grep -q "remote device not reachable\|cannot reach" "$T/dmscgw.log"
check "the unregistered port is logged" grep -q "no terminal application on port 9" "$T/dmscgw.log"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
