#!/bin/bash
# Benchmark (not a test): the daemon's private memory (Private_Dirty in
# /proc/PID/smaps_rollup: the pages only it has written - heap, stacks,
# buffers; not the shared libraries' clean pages that RSS also counts)
#  idle:      after start-up with a card inserted whose web server holds
#             7 UICC-server-mode channels in LISTEN, nothing happening;
#  streaming: 7 curl clients at once downloading BENCH_MEM_KIB (512) KiB
#             each from the card's web server through the daemon's loopback
#             listener, one BIP channel each (7, the most TS 102 223 allows
#             and the virtual card opens: --scws up to 7), sampled every
#             0.1 s; the peak is printed, with how many channels were seen
#             established at once (dmscgwctl channels, polled).
# Channel buffer size BENCH_BUFFER (1400, the card's default).  Asserts
# only that the 7 downloads came back byte-exact.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null || { echo "memory: curl not installed"; exit 0; }
CHANNELS=7
KIB=${BENCH_MEM_KIB:-512}
BUF=${BENCH_BUFFER:-1400}
CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_pcscd
start_bus
mkdir -p "$T/www"
head -c $((KIB * 1024)) /dev/urandom >"$T/www/big"
printf '[card]\nreader = Virtual PCD 00 00\n[dm]\nstate_dir = %s/state\n' "$T" >"$T/dmscgw.conf"
start_daemon
scws=()
for _ in $(seq "$CHANNELS"); do scws+=(--scws "$SP"); done
start_vuicc "${scws[@]}" --www "$T/www" --buffer "$BUF"
wait_listening "$SP"
listening() { [ "$("$CTL" channels 2>/dev/null | awk -F'\t' '$3 == "listen"' | wc -l)" -eq "$1" ]; }
wait_for 15 listening "$CHANNELS" ||
	{ "$CTL" channels | diag; bail "the card did not open $CHANNELS channels"; }

pd() { awk '/^Private_Dirty:/ { print $2 }' "/proc/$DAEMON_PID/smaps_rollup"; }
rss() { awk '/^Rss:/ { print $2 }' "/proc/$DAEMON_PID/smaps_rollup"; }
sleep 1
idle=()
for _ in 1 2 3 4 5; do idle+=("$(pd)"); sleep 0.2; done
idle_rss=$(rss)
echo "memory: load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
echo "memory: idle, $CHANNELS channels in LISTEN: Private_Dirty ${idle[*]} KiB (RSS $idle_rss KiB)"

: >"$T/samples"
for i in $(seq "$CHANNELS"); do
	curl -sf "http://127.0.0.1:$SP/big" -o "$T/got$i" &
	cpids[$i]=$!
done
t0=$(date +%s.%N)
est_max=0
k=0
while :; do
	running=0
	for i in $(seq "$CHANNELS"); do
		kill -0 "${cpids[$i]}" 2>/dev/null && running=$((running + 1))
	done
	[ $running -eq 0 ] && break
	echo "$(pd) $(rss)" >>"$T/samples"
	if [ $((k % 5)) -eq 0 ]; then
		e=$("$CTL" channels 2>/dev/null | awk -F'\t' '$3 == "established"' | wc -l)
		[ "$e" -gt "$est_max" ] && est_max=$e
	fi
	k=$((k + 1))
	sleep 0.1
done
t1=$(date +%s.%N)
okc=0
for i in $(seq "$CHANNELS"); do
	wait "${cpids[$i]}" && cmp -s "$T/www/big" "$T/got$i" && okc=$((okc + 1))
done
after=$(pd)
waited=$(count_lines "$T/dmscgw.log" "waits for a free channel")
awk -v n="$(wc -l <"$T/samples")" -v idle="${idle[*]}" -v after="$after" \
    -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    -v c="$CHANNELS" -v kib="$KIB" -v est="$est_max" -v buf="$BUF" '
	{ if ($1 > pk) pk = $1; if ($2 > rk) rk = $2; s += $1 }
	END {
		split(idle, a, " "); id = a[length(a)]
		printf "memory: streaming, %d clients x %d KiB (buffer %d), %.1f s, %d samples, up to %d channels established at once: Private_Dirty peak %d KiB, mean %d KiB (RSS peak %d KiB)\n", c, kib, buf, t, n, est, pk, s / n, rk
		printf "memory: Private_Dirty idle %d KiB, streaming peak %d KiB (+%d KiB), after %d KiB\n", id, pk, pk - id, after
	}' "$T/samples"
[ "$waited" -gt 0 ] && echo "memory: $waited client(s) waited for a free channel"
stop_daemon
if [ "$okc" -ne "$CHANNELS" ]; then
	echo "memory: only $okc of $CHANNELS downloads came back byte-exact"
	exit 1
fi
_n=1
echo "ok 1 - memory measured, $okc downloads byte-exact"
done_testing >/dev/null
