#!/bin/bash
# Benchmark (not a test): one DM session from the notification to its end,
# provisioning 100 nodes (./Bench, then ./Bench/N1 .. ./Bench/N100: 101
# Adds), in XML and in WBXML, with the card's DM_SC server over TLS-PSK
# through BIP (the off-line trigger: the card's Package#0 in terminal server
# mode, then HTTPS back to the card's --scws-tls channel).
#
# One clock, the daemon's CLOCK_REALTIME, for both ends:
#  start: the pcap APDU trace ([trace] file) record of the FETCH that handed
#         the daemon the SEND DATA carrying Package#0 (the daemon stamps a
#         record when the exchange is complete, i.e. when it holds the
#         notification): the first SEND DATA on the channel the latest OPEN
#         CHANNEL opened - not merely the first SEND DATA, which with a
#         download under way is the stranger's;
#  end:   the session's "finished" time in dmscgwctl --json sessions (taken
#         by the daemon when the session ends).
# Neither the card log (no timestamps) nor timestamps added by a reader of
# a growing log (pipe and scheduling delays, two processes) would be as
# close to the events.
# APDUs: the trace records from start to end, both included (the Package#0
# FETCH, its TERMINAL RESPONSE, CLOSE CHANNEL, the TLS session; not the
# teardown after the end: TLS close_notify, link drop, CLOSE CHANNEL).
# Bytes: the channel data in the same records on the DM client's channel,
# decoded from the trace:
# "down" = SEND DATA on the SCWS channel (card -> daemon -> HTTPS client),
# "up" = RECEIVE DATA's TERMINAL RESPONSE channel data (client -> card);
# TLS bytes only, Package#0 (on its own channel) is not in them.  The
# daemon's own counters, logged when the link closes ("N bytes in, M out",
# including the close_notify after the end), are printed to cross-check.
# Minimum = 2*ceil(down/237) + 2*ceil(up/237) (one FETCH + one TERMINAL
# RESPONSE per 237 bytes of channel data each way).
# Runs alternate XML and WBXML BENCH_REPEAT times (3), a fresh pcscd, card
# and daemon each; medians are printed.
# BENCH_MODE (contention.sh sets it): "alone" (default); "idle": the card
# has one channel on the port and a local client sits idle on it when the
# notification comes; "download": two channels, and a 1 MiB download over
# TLS-PSK runs on one of them meanwhile.  BENCH_CARD=ignore-room: the
# card serves every channel in turn whatever room the daemon reports
# (dmsc-vuicc --ignore-room).  Asserts only that every session finished ok
# and the card's scenario passed; never timing.
. "${top_srcdir:-.}/tests/lib.sh"

REPEAT=${BENCH_REPEAT:-3}
MODE=${BENCH_MODE:-alone}
# BENCH_STATE=tmpfs: the tree on a tmpfs, where fsync costs nothing (the
# cost of writing before acknowledging is the difference)
STATE=${BENCH_STATE:-disk}
NODES=${BENCH_NODES:-100}
CTL=$top_builddir/dmscgwctl
PSK=00112233445566778899aabbccddeeff
pick_port
SP=$(another_port)
start_bus
: >"$T/results"
MOUNTS=()
trap 'for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done; cleanup' EXIT
echo "session: load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"

# session_done: the first session in the list has finished
session_done() {
	"$CTL" --json sessions 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["Sessions"]
sys.exit(0 if s and s[0]["state"] == "finished" else 1)'
}

# run FORMAT N: one session, its figures appended to $T/results
run() {
	local fmt=$1 n=$2 d i
	d=$T/$fmt-$n
	mkdir -p "$d/state"
	if [ "$STATE" = tmpfs ]; then
		mount -t tmpfs -o size=16m tmpfs "$d/state" || bail "cannot mount a tmpfs"
		MOUNTS+=("$d/state")
	fi
	start_pcscd
	{
		echo "dm-server DMSC01 srvpwd"
		echo "dm-client dmclient clipwd"
		echo "timeout 120"
		echo "expect profile *"
		echo "expect envelope DC*"
		[ "$MODE" = alone ] || echo "expect envelope D90101"
		echo "dm-add ./Bench node - expect 200"
		for i in $(seq 1 "$NODES"); do
			echo "dm-add ./Bench/N$i chr value-of-node-number-$i expect 200"
		done
		echo "dm-notify"
		echo "expect tr 8103..4301 82028281 830100 *"
		echo "expect dm-session alert 1200 format $fmt"
		echo "expect dm-end completed"
	} >"$d/card.scn"
	# no debug logging: a benchmark
	cat >"$d/dmscgw.conf" <<EOC
[card]
reader = Virtual PCD 00 00

[dm]
state_dir = $d/state
encoding = $fmt

$(dm_sc_conf "$SP" "$PSK")

[trace]
file = $d/trace.pcap
EOC
	"$DMSCGW" -f -c "$d/dmscgw.conf" >>"$d/dmscgw.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 ||
		bail "$fmt: the daemon did not come up"
	local extra=
	[ "$MODE" = download ] && extra="--scws-tls $SP"
	[ "${BENCH_CARD:-}" = ignore-room ] && extra="$extra --ignore-room"
	mkdir -p "$d/www"
	[ "$MODE" = download ] && head -c 1048576 /dev/urandom >"$d/www/big"
	"$VUICC" -p "$PORT" -l "$d/card.log" --scws-tls "$SP" $extra \
		--psk-identity dmsc --psk "$PSK" --www "$d/www" -v -s "$d/card.scn" \
		>>"$d/vuicc.log" 2>&1 &
	VUICC_PID=$!
	PIDS+=("$VUICC_PID")
	case $MODE in
	idle)
		wait_listening "$SP"
		/usr/bin/python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
s.recv(1)' "$SP" >"$d/stranger.out" 2>&1 &
		PIDS+=($!)
		wait_for 10 grep -q connected "$d/stranger.out"
		wait_for 10 grep -q "client .* connected on port $SP" "$d/dmscgw.log"
		;;
	download)
		wait_listening "$SP"
		printf 'GET /big HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$SP" \
			-psk_identity dmsc -psk "$PSK" -tls1_2 -cipher PSK-AES128-CBC-SHA \
			-quiet -ign_eof >"$d/download.got" 2>/dev/null &
		PIDS+=($!)
		wait_for 30 bash -c "[ \$(stat -c %s '$d/download.got' 2>/dev/null || echo 0) -gt 65536 ]"
		;;
	esac
	[ "$MODE" = alone ] || "$CTL" envelope D90101 >/dev/null
	if ! wait_for 180 session_done; then
		cp "$d"/*.log "$T/"
		bail "$fmt run $n: the session did not finish"
	fi
	"$CTL" --json sessions >"$d/sessions.json"
	# the card's verdict, and the daemon's counters at the link close
	wait_for 20 grep -q "all .* steps passed\|failed" "$d/vuicc.log"
	wait_for 10 grep -q "channel [0-9]*: .*([0-9]* bytes in, [0-9]* out)" "$d/dmscgw.log"
	stop_vuicc
	stop_daemon
	stop_pcscd
	if ! grep -q "all .* steps passed" "$d/vuicc.log"; then
		cp "$d"/*.log "$T/"
		not_ok "$fmt run $n: the card's scenario failed"
		echo "session: $fmt run $n: FAILED (the card's scenario did not pass)"
		return
	fi
	python3 - "$fmt" "$n" "$d" "${top_srcdir:-.}/tests" <<'EOP' >>"$T/results" || { cp "$d"/*.log "$T/"; not_ok "$fmt run $n: the session did not finish ok"; }
import json, re, sys
fmt, n, d = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, sys.argv[4])
import apdu_trace
tlvs = apdu_trace.tlvs
s = json.load(open(d + "/sessions.json"))["Sessions"][0]
if s["result"] != "ok":
    print("session: %s run %s: FAILED: %s %s" % (fmt, n, s["result"], s["error"]), file=sys.stderr)
    sys.exit(1)
end = s["finished"]

recs = apdu_trace.records(d + "/trace.pcap")

# Package#0: the first SEND DATA on the channel the latest OPEN CHANNEL
# opened (the card's terminal server mode channel to the DM client), so a
# stranger's transfer already under way is not taken for it.  The DM
# session's channel: the first "link established" Channel Status event
# (B8 with bit 8 set) after that.  Bytes count on that channel only.
start = p0ch = dmch = last_open = fetched = None
down = up = apdus = 0
for ts, p in recs:
    ins = p[1]
    cmd = ch = None
    f = apdu_trace.fetched(p)
    if f:
        cmd, ch, t = f
        ch = ch or None
        fetched = ch
    elif ins == 0x14:
        t = apdu_trace.response(p)
        cmd = t.get(0x01, b"\0\0")[1]
        if cmd == 0x40 and 0x38 in t:
            last_open = t[0x38][0] & 0x07
    elif ins == 0xC2 and start is not None and dmch is None:
        t = tlvs(p[7:5 + p[4]])
        st = t.get(0x38, b"")
        if len(st) == 2 and st[0] & 0x80:
            dmch = st[0] & 0x07
    if start is None:
        if ins == 0x12 and cmd == 0x43 and ch is not None and ch == last_open:
            start, p0ch = ts, ch
        else:
            continue
    if ts > end:
        break
    apdus += 1
    if ins == 0x12 and cmd == 0x43 and ch == dmch:
        down += len(t.get(0x36, b""))
    elif ins == 0x14 and cmd == 0x42 and fetched == dmch:
        up += len(t.get(0x36, b""))
if start is None:
    print("session: %s run %s: no Package#0 SEND DATA in the trace" % (fmt, n), file=sys.stderr)
    sys.exit(1)
log = open(d + "/dmscgw.log").read()
m = re.findall(r"channel (\d+): [^\n]*\((\d+) bytes in, (\d+) out\)", log)
daemon = " ".join("channel %s: %s in, %s out" % x for x in m) or "none logged"
mn = 2 * (-(-down // 237)) + 2 * (-(-up // 237))
wall = (end - start) / 1e6
print("session: %s run %s: %.3f s, %d APDUs, %d bytes down (card->client), %d up, "
      "minimum %d APDUs, ratio %.2f; %s commands; daemon counters at link close: %s"
      % (fmt, n, wall, apdus, down, up, mn, apdus / mn, s["commands"], daemon), file=sys.stderr)
print(fmt, wall, apdus, down, up, mn, apdus / mn)
EOP
	ok "$fmt run $n: the session finished ok, the card's scenario passed"
}

for i in $(seq "$REPEAT"); do
	run xml "$i"
	run wbxml "$i"
done
echo "session: load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
for fmt in xml wbxml; do
	awk -v f="$fmt" -v nodes="$NODES" -v mode="$MODE" '
	function median(a, k,   i, j, t) {
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	$1 == f { k++; w[k] = $2; a[k] = $3; dn[k] = $4; u[k] = $5; m[k] = $6; r[k] = $7 }
	END {
		if (!k) { printf "session %s: no run finished\n", f; exit }
		printf "session %s (%s), %d nodes, median of %d: %.3f s, %d APDUs, %d bytes down, %d up, minimum %d APDUs, ratio %.2f\n", f, mode, nodes, k, median(w, k), median(a, k), median(dn, k), median(u, k), median(m, k), median(r, k)
	}' "$T/results"
done
done_testing >/dev/null || { echo "session: $_failed run(s) failed"; exit 1; }
