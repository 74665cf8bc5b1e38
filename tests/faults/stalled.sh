#!/bin/bash
# A local client that asks the card's web server for a large page and
# never reads it (fault 1: a client on the card's server ports held the
# DM session up).  The daemon holds a SEND DATA answer while the client's
# bytes pile up, and a held answer stops the whole card - so it holds only
# while nothing else wants the card, and lets the answer go (no room) when
# an envelope queues behind it or the DM client connects.  The stalled
# client is closed after [bip] idle_timeout: bytes queued for it that it
# does not take are not activity.
# Runs in a network namespace of its own with small TCP buffers, so the
# client's socket fills after some kilobytes, not megabytes.
if [ -z "${STALLED_NETNS:-}" ]; then
	command -v unshare >/dev/null || { echo "1..0 # SKIP no unshare"; exit 0; }
	exec env STALLED_NETNS=1 unshare -n bash -c '
		ip link set lo up &&
		sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096" \
			net.ipv4.tcp_rmem="4096 4096 4096" &&
		exec bash "$0"' "$0"
fi
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
PSK=00112233445566778899aabbccddeeff
pick_port
SP=$(another_port)
PP=$(another_port)
start_pcscd
start_bus
# a long SEND DATA time-out: a held answer that goes early went because
# something wanted the card
write_conf "
[bip]
timeout = 120
idle_timeout = 15

$(dm_sc_conf "$SP" "$PSK")"
cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 100
expect profile *
expect envelope DC*
expect envelope D90101
dm-add ./PastTheStall chr yes expect 200
dm-notify
expect dm-session alert 1200
expect dm-end completed
expect envelope D90102
open-local tcp 4117
sleep 3
close 3
EOS
mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/big"
start_daemon
start_vuicc --scws-tls "$SP" --scws "$PP" --psk-identity dmsc --psk "$PSK" \
	--www "$T/www" -v -s "$T/card.scn"
wait_listening "$SP" "$PP"

# stalled NAME: a client of the plain port that asks for the big page and
# never reads; "closed" in $T/NAME.out when the daemon lets it go
stalled() {
/usr/bin/python3 - "$PP" >"$T/$1.out" 2>&1 <<'EOP' &
import select, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /big HTTP/1.0\r\n\r\n")
print("asked", flush=True)
t0 = time.monotonic()
# never reads: only watches for the daemon closing the connection
p = select.poll()
p.register(s, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
if p.poll(100000):
    print("closed after %.1f s" % (time.monotonic() - t0), flush=True)
EOP
PIDS+=($!)
}
stalled stalled
# the stalled channel held or let go, in the daemon's log
MOVE='channel [0-9]+ established \((established -> held|held -> established)'
# held, and not let go since: the client's buffers are full for good
held_now() {
	[ "$(count_lines "$T/dmscgw.log" "held: the peer is slow")" -gt \
	  "$(count_lines "$T/dmscgw.log" "held -> established")" ]
}
wait_for 30 held_now || bail "the stalled client's answer was never held"
check "the stalled client's SEND DATA answer is held" \
	grep -q "held: the peer is slow" "$T/dmscgw.log"

# An envelope the card ignores (D9 01 99), queued behind the held answer:
# judged in the log's order - the stalled channel's state when the
# envelope was queued, and its next change.  A receiver's kernel may still
# open a little window (it compacts what it holds), so the answer may
# have gone just before the envelope came (or in the same instant): then
# the card, back on the stalled channel, is held again; try again.
probe() {
	local k=$1
	awk -v k="$k" -v move="$MOVE" '
	/raw envelope D9 queued/ { n++; if (n == k) { q = 1; next } }
	$0 ~ move {
		if (!q) last = $0; else if (!after) after = $0
	}
	END {
		print (last ~ /-> held:/ ? "held" : "free")
		print (after ~ /held -> established: the card is wanted/ ? "wanted" : "other: " after)
	}' "$T/dmscgw.log" >"$T/release"
}
# moves: how many times the stalled channel was held or let go so far
moves() { grep -cE "$MOVE" "$T/dmscgw.log"; }
moved_since() { [ "$(moves)" -gt "$1" ]; }
tries=0
: >"$T/release"
# inconclusive: no answer held when the envelope came, or the receiver
# let it go in the same instant
inconclusive() {
	[ "$(head -1 "$T/release")" != held ] ||
		tail -1 "$T/release" | grep -q "the peer took the data"
}
while [ $tries -lt 5 ] && { [ $tries -eq 0 ] || inconclusive; }; do
	tries=$((tries + 1))
	wait_for 30 held_now || break
	before=$(moves)
	"$CTL" envelope D90199 >/dev/null
	wait_count 10 "$T/dmscgw.log" "raw envelope D9 queued" "$tries"
	wait_for 10 moved_since "$before"
	probe "$tries"
done
check "an envelope queued behind the held answer let it go at once (try $tries: $(tail -1 "$T/release"))" \
	test "$(head -1 "$T/release")" = held -a "$(tail -1 "$T/release")" = wanted

# the card's notification, the same way
wait_for 30 held_now
"$CTL" envelope D90101 >/dev/null &
PIDS+=($!)
wait_for 60 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "a DM session finished although a client had stalled the card" \
	grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
check "... while the client still stalled it (not after its idle close)" \
	test "$(count_lines "$T/dmscgw.log" "idle for .* s: closed")" -eq 0
check "... not at the SEND DATA time-out" \
	test "$(count_lines "$T/dmscgw.log" "SEND DATA time-out")" -eq 0
check "the tree got what the session added" \
	test "$("$CTL" tree get ./PastTheStall 2>&1)" = yes
wait_for 30 grep -q closed "$T/stalled.out"
check "the stalled client was closed after idle_timeout" \
	grep -q "client .* idle for 15 s: closed" "$T/dmscgw.log"
check "... and learnt it ($(tail -1 "$T/stalled.out"))" grep -q closed "$T/stalled.out"
# The card opens a channel to the DM client (an own link: the card is the
# daemon's) and keeps it 3 s while a new client stalls: its answers are
# not held, the card comes back to it whenever it has nothing else, and
# once it leaves 64 KiB untaken it is closed rather than buffered on.
stalled second
wait_for 30 grep -q "client .* connected on port $PP" "$T/dmscgw.log"
"$CTL" envelope D90102 >/dev/null &
PIDS+=($!)
wait_for 30 grep -q "left [0-9]* bytes untaken: closed" "$T/dmscgw.log"
check "while the card held a channel to the DM client, a client that took nothing was closed ($(grep -o "left [0-9]* bytes untaken" "$T/dmscgw.log" | head -1))" \
	grep -q "left [0-9]* bytes untaken: closed" "$T/dmscgw.log"
wait_for 10 grep -q closed "$T/second.out"
check "... and learnt it ($(tail -1 "$T/second.out"))" grep -q closed "$T/second.out"
wait_for 20 grep -q "all .* steps passed\|failed" "$T/vuicc.log"
check "the card's scenario passed" grep -q "all .* steps passed" "$T/vuicc.log"
check "the daemon still answers" "$CTL" status
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
