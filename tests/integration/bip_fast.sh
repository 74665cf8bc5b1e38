#!/bin/bash
# The BIP fast path (SEND DATA and RECEIVE DATA delegated by the CAT engine
# and answered on the reader's worker thread; it counts them, and the test
# fails without them): what the card and the client see is what the loop would
# have given them - bytes exact both ways, the channel's counters exact,
# every APDU in the trace - and a card that stops reading stops the daemon
# reading from the client (the kernel holds the rest), until it reads again.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
pick_port
SP=$(another_port)
start_pcscd
start_bus
card_www
head -c 300000 /dev/urandom >"$T/www/blob"
head -c 300000 /dev/urandom >"$T/up"
write_conf "
[trace]
file = $T/trace.pcap"
cat >"$T/card.scn" <<'EOS'
# the third exchange: the card does not read until the test says so (the
# test may wait long on a busy machine)
timeout 120
expect envelope D60E*
expect envelope D60E*
expect envelope D60E*
auto-receive off
expect envelope D90101
auto-receive on
on envelope D90102 reply - 9000
EOS
start_daemon
start_vuicc --scws "$SP" --www "$T/www" --buffer 4096 -s "$T/card.scn"
wait_listening "$SP"
CTL=$top_builddir/dmscgwctl

# "in out": the bytes of the last link as the daemon counted them, from its
# log line when the client left
bytes_of_last_link() {
	grep -E "channel [0-9]+: the peer closed the connection" "$T/dmscgw.log" |
		tail -n 1 | sed -nE 's/.*\(([0-9]+) bytes in, ([0-9]+) out\).*/\1 \2/p'
}

# exchange NAME CURL-ARGS...: one HTTP exchange; checks the daemon counted
# exactly what curl sent and received
exchange() {
	local name=$1 sizes links
	shift
	links=$(grep -c "the peer closed the connection" "$T/dmscgw.log")
	sizes=$(curl -sf "$@" -o "$T/out" \
		-w '%{size_request} %{size_upload} %{size_header} %{size_download}')
	wait_for 10 bash -c "[ \$(grep -c 'the peer closed the connection' '$T/dmscgw.log') -gt $links ]"
	check "$name: the daemon counted what curl sent and got ($sizes; $(bytes_of_last_link))" \
		test "$(bytes_of_last_link)" = "$(echo "$sizes" | awk '{ print $1 + $2, $3 + $4 }')"
}

exchange "a 300 kB GET" "http://127.0.0.1:$SP/blob"
check "... byte-exact" cmp "$T/out" "$T/www/blob"
exchange "a 300 kB POST echo" --data-binary @"$T/up" "http://127.0.0.1:$SP/echo"
check "... byte-exact" cmp "$T/out" "$T/up"

# a card that does not read: the daemon holds at most its buffers, the
# kernel the rest; the client's bytes are all there once the card reads
head -c 2000000 /dev/urandom >"$T/huge"
curl -sf --data-binary @"$T/huge" "http://127.0.0.1:$SP/echo" -o "$T/huge.out" &
CURL=$!
PIDS+=($CURL)
recv_q() {
	ss -Htn state established "( sport = :$SP )" | awk '{ s += $1 } END { print s + 0 }'
}
full() { [ "$(recv_q)" -gt 16384 ]; }
wait_for 15 full
check "while the card does not read, the daemon stops reading: the kernel holds $(recv_q) bytes" full
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status")
echo "# daemon RSS ${rss} KiB with 2 MB waiting"
"$CTL" envelope D90101 >/dev/null
"$CTL" envelope D90102 >/dev/null	# its answer tells the card's new commands
wait "$CURL"
check "then the card reads it all: a 2 MB echo, byte-exact" cmp "$T/huge" "$T/huge.out"

# the fast path really ran: the engine counts what its worker answered
# (without it every transfer above passes too, through the loop)
delegated=$("$CTL" --json card 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["DelegatedCommands"])')
check "the worker answered SEND DATA and RECEIVE DATA: DelegatedCommands = $delegated" \
	test "${delegated:-0}" -gt 0
text=$("$CTL" card 1 | sed -n 's/^DelegatedCommands: //p')
check "dmscgwctl card 1 shows DelegatedCommands: $text" test "${text:-0}" -ge "$delegated"

stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
# every APDU the card saw is in the trace, fast path or not: one record
# per command and its response
cmds=$(grep -c '^>' "$T/card.log")
recs=$(python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
n, off = 0, 24
while off + 16 <= len(d):
    incl = struct.unpack_from("<I", d, off + 8)[0]
    off += 16 + incl
    n += 1
print(n)' "$T/trace.pcap")
check "the trace holds every APDU: $recs records for $cmds commands" test "$recs" -eq "$cmds"
done_testing
