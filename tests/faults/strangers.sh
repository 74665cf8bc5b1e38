#!/bin/bash
# Hostile neighbours on the card's server ports (fault: an idle client, a
# slowloris or a pipelining client on 4116 held the card's only channel
# and the DM session waited for its 60 s time-out).  The DM client's own
# connection is recognised and takes the channel of the local client that
# moved bytes least recently; local clients idle for [bip] idle_timeout
# are closed.  The card here opens one channel on each port.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
PP=$(another_port)
start_pcscd
start_bus
PSK=00112233445566778899aabbccddeeff
write_conf "
[bip]
idle_timeout = 3

$(dm_sc_conf "$SP" "$PSK")"
cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 60
expect profile *
expect envelope DC*
expect envelope D90101
dm-add ./AfterStrangers chr yes expect 200
dm-notify
expect dm-session alert 1200
expect dm-end completed
expect envelope D90102
dm-add ./AfterPipelining chr yes expect 200
dm-notify
expect dm-session alert 1200
expect dm-end completed
EOS
start_daemon
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" --scws "$PP" -v -s "$T/card.scn"
wait_listening "$SP" "$PP"

# stranger NAME PORT MODE: connects, then idle (idle) or one byte every
# 0.5 s (slow); prints "closed" with the time it lasted when the daemon
# closes it
stranger() {
	$PY - "$2" "$3" >"$T/$1.out" 2>&1 <<'EOP' &
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(0.2)
print("connected", flush=True)
t0 = time.monotonic()
while time.monotonic() - t0 < 120:
    try:
        if mode == "slow":
            s.send(b"G")
            time.sleep(0.5)
        if s.recv(65536) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
print("closed after %.1f s" % (time.monotonic() - t0), flush=True)
EOP
	PIDS+=($!)
}

# the card's only TLS channel: a slowloris has it
stranger slow "$SP" slow
wait_for 10 grep -q connected "$T/slow.out"
wait_for 10 grep -q "client .* connected on port $SP" "$T/dmscgw.log"
# a DM session: the card sends its notification now
"$CTL" envelope D90101 >/dev/null
wait_for 30 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "the DM session finished although a slowloris held the port" \
	grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
check "... it took the slowloris's channel" \
	grep -q "port $SP: client .* closed: the DM client needs channel" "$T/dmscgw.log"
wait_for 10 grep -q "closed after" "$T/slow.out"
check "... and the slowloris learnt it at once ($(cat "$T/slow.out" | tail -1))" \
	grep -q "closed after" "$T/slow.out"
check "the tree got what the session added" \
	test "$("$CTL" tree get ./AfterStrangers 2>&1)" = yes
# a pipelining client has it now: over TLS-PSK, GET after GET without
# waiting for the answers
( while :; do printf 'GET / HTTP/1.1\r\nHost: card\r\n\r\n'; sleep 0.1; done |
	openssl s_client -connect "127.0.0.1:$SP" -psk_identity dmsc -psk "$PSK" \
		-tls1_2 -cipher PSK-AES128-CBC-SHA -quiet >"$T/busy.got" 2>&1
  echo "closed" >"$T/busy.out" ) &
PIDS+=($!)
wait_for 20 grep -q "HTTP/1.1 200" "$T/busy.got" || bail "the pipelining client got no page"
"$CTL" envelope D90102 >/dev/null
wait_count 30 "$T/dmscgw.log" "session .* with DMSC01 (finished|failed)" 2
check "a second session finished although a pipelining client held the port" \
	test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 finished")" -eq 2
wait_for 10 test -s "$T/busy.out"
check "... the pipelining client was closed after $(grep -c "HTTP/1.1 200" "$T/busy.got") pages" \
	test -s "$T/busy.out"
check "... to take its channel" \
	test "$(count_lines "$T/dmscgw.log" "port $SP: client .* closed: the DM client needs channel")" -eq 2
check "the tree got what it added" \
	test "$("$CTL" tree get ./AfterPipelining 2>&1)" = yes
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed" grep -q "all .* steps passed" "$T/vuicc.log"

# an idle client on the plain port is closed after idle_timeout (3 s)
stranger idle "$PP" idle
wait_for 10 grep -q "closed after" "$T/idle.out"
check "an idle client on the plain port was closed ($(tail -1 "$T/idle.out"))" \
	grep -q "closed after" "$T/idle.out"
check "... the daemon says why" \
	grep -q "client .* idle for 3 s: closed" "$T/dmscgw.log"
check "the daemon still answers" "$CTL" status
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
