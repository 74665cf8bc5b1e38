#!/bin/bash
# Run the demo with already-built binaries in $1 (see contrib/demo.sh).
set -u
B=${1:?build directory}
T=$(mktemp -d /tmp/dmscgw-demo.XXXXXX)
PORT=$((35000 + RANDOM % 5000))
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap finish EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "private pcscd with the vpcd driver on port $PORT"
mkdir -p "$T/readers"
printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:%s\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID %s\n' \
	"$PORT" "$PORT" >"$T/readers/vpcd"
systemd-socket-activate -l "$T/pcscd.sock" pcscd -f -c "$T/readers" >"$T/pcscd.log" 2>&1 &
pids+=($!)
export PCSCLITE_CSOCK_NAME=$T/pcscd.sock
for _ in $(seq 1 50); do [ -S "$T/pcscd.sock" ] && break; sleep 0.1; done

printf '[card]\nreader = Virtual PCD 00 00\n[dm]\nstate_dir = %s/state\n' "$T" >"$T/dmscgw.conf"
step "dmscgw -f --debug=card,bip --bus=none -c $T/dmscgw.conf"
"$B/dmscgw" -f --debug=card,bip -c "$T/dmscgw.conf" --bus=none >"$T/dmscgw.log" 2>&1 &
dpid=$!
pids+=($dpid)

SCWS=$((PORT + 2))
step "dmsc-vuicc: the virtual card enters the reader, with a web server on BIP port $SCWS"
"$B/dmsc-vuicc" -p "$PORT" -l "$T/card.log" --scws "$SCWS" >"$T/vuicc.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 100); do
	grep -q "terminal profile sent" "$T/dmscgw.log" 2>/dev/null &&
		ss -Hltn "( sport = :$SCWS )" | grep -q 127.0.0.1 && break
	sleep 0.1
done
step "curl http://127.0.0.1:$SCWS/ : the card's page, through BIP"
curl -sf "http://127.0.0.1:$SCWS/" | tee "$T/page"
echo
step "what the daemon logged"
cat "$T/dmscgw.log"
step "what the card received (> command, < response; first 40 lines)"
head -n 40 "$T/card.log"
kill -TERM "$dpid"
wait "$dpid"
rc=$?
if grep -q "terminal profile sent" "$T/dmscgw.log" && [ -s "$T/page" ] && [ $rc -eq 0 ]; then
	step "demo OK: card found, TERMINAL PROFILE exchanged, its web server reached over BIP, clean stop"
	exit 0
fi
step "demo FAILED"
exit 1
