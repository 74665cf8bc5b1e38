#!/bin/bash
# UICC server mode: the card's web server on 127.0.0.1 and [::1] through
# BIP channels - pages byte-exact, a 1 MiB echo, concurrent clients on two
# channels, a client leaving mid-transfer, loopback-only listeners.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
pick_port
SP=$(another_port)
start_pcscd
start_bus
card_www
write_conf
start_daemon
start_vuicc --scws "$SP" --scws "$SP" --www "$T/www"
wait_listening "$SP"
CTL=$top_builddir/dmscgwctl
start_monitor mon.txt

check "GET / over IPv4 is the card's page, byte-exact" \
	bash -c "curl -sf http://127.0.0.1:$SP/ -o '$T/got4' && cmp '$T/got4' '$T/www/index.html'"
check "GET / over IPv6 is the card's page, byte-exact" \
	bash -c "curl -sf -g 'http://[::1]:$SP/' -o '$T/got6' && cmp '$T/got6' '$T/www/index.html'"
check "an unknown page is the card's 404" \
	test "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$SP/nope)" = 404

head -c 1048576 /dev/urandom >"$T/big"
t0=$(date +%s.%N)
curl -sf --data-binary @"$T/big" -H 'Content-Type: application/octet-stream' \
	http://127.0.0.1:$SP/echo -o "$T/big.out"
t1=$(date +%s.%N)
check "a 1 MiB POST echoes byte-exact" cmp "$T/big" "$T/big.out"
echo "# 1 MiB each way in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"

head -c 100000 /dev/urandom >"$T/mid"
for i in 1 2 3; do
	curl -sf --data-binary @"$T/mid" http://127.0.0.1:$SP/echo -o "$T/c$i" &
	cpids[$i]=$!
done
okc=0
for i in 1 2 3; do
	wait "${cpids[$i]}" && cmp -s "$T/mid" "$T/c$i" && okc=$((okc + 1))
done
check "three concurrent clients on two channels all complete ($okc/3)" test $okc -eq 3
check "the third waited for a free channel" grep -q "waits for a free channel" "$T/dmscgw.log"

# a client that gives up in the middle of an upload
curl -s --max-time 1 --limit-rate 20k --data-binary @"$T/big" \
	http://127.0.0.1:$SP/echo -o /dev/null
wait_for 10 bash -c "[ \"\$('$CTL' channels | cut -f3 | sort -u)\" = listen ]"
check "after a client left mid-transfer both channels are back in LISTEN" \
	test "$("$CTL" channels | cut -f3 | sort -u)" = listen
check "the link drop was reported to the card" \
	grep -qE "^> 80C20000..D60B99010A82028281B802(01|02)05" "$T/card.log"
check "and a new client is served" \
	bash -c "curl -sf http://127.0.0.1:$SP/ -o '$T/again' && cmp '$T/again' '$T/www/index.html'"
out=$("$CTL" channels)
echo "$out" | diag
out_json=$("$CTL" --json channels)
check "dmscgwctl --json channels parses, two channels" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert len(d["Channels"]) == 2 and d["Channels"][0]["transport"] == "tcp-server", d' "$out_json"
check "dmscgwctl channels lists two tcp-server channels on port $SP" \
	test "$(echo "$out" | awk -F'\t' -v p="$SP" '$2 == "tcp-server" && $4 == p' | wc -l)" -eq 2

check "monitor shows the channel events" \
	grep -q "^ChannelChanged /org/dmscgw1/card/1 channel=1 established" "$T/mon.txt"
check "monitor shows the channel going back to listen" \
	grep -q "^ChannelChanged /org/dmscgw1/card/1 channel=[12] listen" "$T/mon.txt"
listen=$(ss -Hltnp | grep "pid=$DAEMON_PID," | awk '{ print $4 }')
echo "$listen" | diag
bad=$(echo "$listen" | grep -vE '^(127\.0\.0\.1|\[::1\]):' || true)
check "the daemon listens on loopback addresses only" test -z "$bad" -a -n "$listen"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
