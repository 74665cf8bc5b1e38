#!/bin/bash
# Benchmark (not a test): BIP proxy throughput against the raw APDU rate.
#  raw:   apdu_rate, a minimal PC/SC loop doing the proxy's per-chunk
#         sequence (ENVELOPE, FETCH, TERMINAL RESPONSE of 237 bytes) through
#         the same pcscd + vpcd + dmsc-vuicc, no daemon;
#  proxy: 1 MiB GET (card -> client) and 1 MiB POST echo (both ways)
#         through dmscgw and the card's web server.
# Prints APDU/s, the ratio proxy/raw, and bytes per APDU against 237.
. "${top_srcdir:-.}/tests/lib.sh"

ITER=${BENCH_ITER:-1500}
pick_port
SP=$(another_port)
start_pcscd
mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/big"
head -c 1048576 /dev/urandom >"$T/up"

# raw loop: a card alone in the second reader of the pair, answering each
# data-available envelope with a SEND DATA of 237 bytes, as the SCWS does
chunk=$(head -c 237 /dev/zero | tr '\0' 'U' | od -v -An -tx1 | tr -d ' \n' | tr a-f A-F)
printf 'on envelope D6* proactive D081F9810301430182028121B681ED%s\n' "$chunk" >"$T/raw.scn"
"$VUICC" -p "$((PORT + 1))" -l "$T/raw.log" -s "$T/raw.scn" >>"$T/vuicc.log" 2>&1 &
RAW_CARD=$!
PIDS+=($RAW_CARD)
# the first client starts pcscd; the card connects to it then
wait_for 15 "$top_builddir/tests/bench/apdu_rate" "Virtual PCD 00 01" 1 >/dev/null 2>&1
raw=$("$top_builddir/tests/bench/apdu_rate" "Virtual PCD 00 01" "$ITER") || bail "raw loop failed"
echo "$raw"
raw_rate=$(echo "$raw" | awk '{ print $(NF - 1) }')
kill "$RAW_CARD"; wait "$RAW_CARD" 2>/dev/null

printf '[card]\nreader = Virtual PCD 00 00\n[dm]\nstate_dir = %s/state\n' "$T" >"$T/dmscgw.conf"
start_daemon
start_vuicc --scws "$SP" --www "$T/www" --buffer 8192
wait_for 15 bash -c "ss -Hltn '( sport = :$SP )' | grep -q 127.0.0.1" || bail "no listener"

# measure NAME CURL-ARGS...: APDUs, seconds and bytes of one transfer
measure() {
	local name=$1 a0 a1 t0 t1 bytes
	shift
	a0=$(grep -c '^>' "$T/card.log")
	t0=$(date +%s.%N)
	curl -sf "$@" -o "$T/out" -w '%{size_download} %{size_upload}\n' >"$T/sizes" || bail "$name failed"
	t1=$(date +%s.%N)
	a1=$(grep -c '^>' "$T/card.log")
	bytes=$(awk '{ print $1 + $2 }' "$T/sizes")
	awk -v n="$name" -v a=$((a1 - a0)) -v t0="$t0" -v t1="$t1" -v b="$bytes" -v raw="$raw_rate" 'BEGIN {
		t = t1 - t0; rate = a / t
		printf "%s: %d bytes in %.2f s = %.1f KiB/s, %d APDUs = %.0f APDU/s\n", n, b, t, b / t / 1024, a, rate
		printf "%s: ratio to the raw loop %.2f (target >= 0.9); %.1f bytes per APDU, %.2f of the 237-byte ceiling\n", n, rate / raw, b / a, b / a / 237
	}'
}
measure "download 1 MiB" http://127.0.0.1:$SP/big
cmp -s "$T/out" "$T/www/big" || echo "download: MISMATCH"
measure "echo 1 MiB each way" --data-binary @"$T/up" http://127.0.0.1:$SP/echo
cmp -s "$T/out" "$T/up" || echo "echo: MISMATCH"
stop_daemon
_n=1
echo "ok 1 - bip measured" >/dev/null
