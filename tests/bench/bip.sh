#!/bin/bash
# Benchmark (not a test): BIP proxy throughput against the raw APDU rate.
#  raw:   apdu_rate, a minimal one-thread terminal sending the proxy's very
#         command sequence to the same kind of card (dmsc-vuicc with its
#         web server and the same buffer size, in the second reader of the
#         pair) through the same pcscd + vpcd, with no daemon, event loop or
#         socket in between;
#  proxy: the same 1 MiB GET (card -> client) and 1 MiB POST echo (both
#         ways) by curl through dmscgw.
# Raw and proxy runs alternate, BENCH_REPEAT times (9), in the order
# raw-proxy, then proxy-raw (ABBA), so that a drift in the machine's speed
# hits both alike; each proxy run is compared with the raw run next to it,
# and the median of those ratios is the figure.  Prints APDU/s,
# the ratio proxy/raw, bytes per APDU against the 237-byte ceiling and the
# daemon's CPU time.
. "${top_srcdir:-.}/tests/lib.sh"

REPEAT=${BENCH_REPEAT:-9}
pick_port
SP=$(another_port)
start_pcscd
mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/big"
head -c 1048576 /dev/urandom >"$T/up"

"$VUICC" -p "$((PORT + 1))" -l "$T/raw.log" --scws "$SP" --www "$T/www" \
	--buffer 8192 >>"$T/vuicc.log" 2>&1 &
PIDS+=($!)
RATE=$top_builddir/tests/bench/apdu_rate
# the first client starts pcscd; the card connects to it then
wait_for 15 "$RATE" "Virtual PCD 00 01" get /big >/dev/null 2>&1

printf '[card]\nreader = Virtual PCD 00 00\n[dm]\nstate_dir = %s/state\n' "$T" >"$T/dmscgw.conf"
start_daemon
start_vuicc --scws "$SP" --www "$T/www" --buffer 8192
wait_for 15 bash -c "ss -Hltn '( sport = :$SP )' | grep -q 127.0.0.1" || bail "no listener"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

# raw NAME ARGS...: one raw run; "NAME raw APDU/s" on results
raw() {
	local name=$1 out
	shift
	out=$("$RATE" "Virtual PCD 00 01" "$@") || bail "raw loop failed"
	echo "$out"
	echo "$out" | sed -n "s/.* = \([0-9]*\) APDU\/s.*/$name raw \1/p" >>"$T/results"
}

# proxy NAME WANT CURL-ARGS...: one transfer through the daemon; its APDUs
# (as the card counts them), time, bytes and the daemon's CPU.  The time is
# curl's own, from the TCP connection to the last byte - what the raw loop
# times too (from its "client connected" envelope), without curl's start-up.
proxy() {
	local name=$1 want=$2 a0 a1 c0 c1 bytes
	shift 2
	a0=$(grep -c '^>' "$T/card.log")
	c0=$(cpu_ticks)
	curl -sf "$@" -o "$T/out" \
		-w '%{size_download} %{size_upload} %{time_connect} %{time_total}\n' \
		>"$T/sizes" || bail "$name failed"
	c1=$(cpu_ticks)
	a1=$(grep -c '^>' "$T/card.log")
	cmp -s "$T/out" "$want" || bail "$name: the bytes that came back differ"
	read -r down up t0 t1 <"$T/sizes"
	bytes=$((down + up))
	awk -v n="$name" -v a=$((a1 - a0)) -v t0="$t0" -v t1="$t1" -v b="$bytes" \
	    -v cpu=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
		t = t1 - t0
		printf "proxy %s: %d APDUs in %.3f s = %.0f APDU/s, %d bytes, %.1f bytes per APDU, daemon CPU %.2f s\n", n, a, t, a / t, b, b / a, cpu / hz
		printf "%s proxy %.0f\n", n, a / t >>ENVIRON["T"] "/results"
		printf "%s bpa %.1f\n", n, b / a >>ENVIRON["T"] "/results"
	}'
}

export T
# pair NAME: one raw and one proxy run of NAME, in the order of round i
pair() {
	local r p
	case $1 in
	download)
		r=(raw download get /big)
		p=(proxy download "$T/www/big" "http://127.0.0.1:$SP/big") ;;
	echo)
		r=(raw echo post /echo "$T/up")
		p=(proxy echo "$T/up" --data-binary @"$T/up" "http://127.0.0.1:$SP/echo") ;;
	esac
	if [ $((i % 2)) = 1 ]; then
		"${r[@]}"; "${p[@]}"
	else
		"${p[@]}"; "${r[@]}"
	fi
}
for i in $(seq "$REPEAT"); do
	pair download
	pair echo
done
stop_daemon

for name in download echo; do
	awk -v n="$name" '
	function median(a, k,   i, j, t) {
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	$1 == n && $2 == "raw" { r[++nr] = $3 }
	$1 == n && $2 == "proxy" { p[++np] = $3 }
	$1 == n && $2 == "bpa" { b = $3 }
	END {
		# the k-th proxy run against the k-th raw run: the same round
		for (k = 1; k <= np; k++) {
			q[k] = p[k] / r[k]; runs = runs sprintf(" %.2f", q[k])
		}
		printf "%s 1 MiB: median of %d: raw %.0f APDU/s, proxy %.0f APDU/s: ratio %.2f (target >= 0.95; runs%s)", n, np, median(r, nr), median(p, np), median(q, np), runs
		printf "; %.1f bytes per APDU, %.2f of the 237-byte ceiling\n", b, b / 237
	}' "$T/results"
done
