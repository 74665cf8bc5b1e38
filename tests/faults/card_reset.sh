#!/bin/bash
# The card's link resets in the middle of a transfer (fault: pcscd said
# "Transaction failed", the daemon dropped the exchange and went idle; the
# card sat unserved, clients waited for their own time-outs).  Now a
# transmission error ends the card session at once for everyone (peers
# closed, CardRemoved), the card is reset and started again, and serves
# as before.  SIGUSR1 makes dmsc-vuicc drop its vpcd connection and
# reconnect at once: to pcscd the card is gone and back within
# milliseconds.  Then the same in the middle of a DM session, and a card
# taken out for good.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
DP=$(another_port)
start_pcscd
start_bus
card_www
head -c 2000000 /dev/urandom >"$T/www/big"
write_conf "
$(dm_sc_http_conf "$DP")"
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"
start_monitor mon.txt
start_vuicc --scws "$SP" --www "$T/www" -v
wait_listening "$SP"
n0=$(count_lines "$T/card.log" "^> $TP_APDU\$")

# --- mid-download ------------------------------------------------------
curl -s --max-time 60 -o "$T/got" -w '%{http_code} %{size_download}\n' \
	"http://127.0.0.1:$SP/big" >"$T/curl.out" 2>&1 & CURL=$!; PIDS+=($CURL)
wait_for 30 bash -c "[ \"\$(stat -c %s '$T/got' 2>/dev/null || echo 0)\" -gt 100000 ]" ||
	bail "the download did not start"
t0=$(date +%s.%N)
kill -USR1 "$VUICC_PID"
wait "$CURL"; rc=$?
t1=$(date +%s.%N)
lat=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "# the client was let go $lat s after the link reset"
check "the client mid-download was let go, not left to its time-out (curl $rc after $lat s)" \
	bash -c "[ $rc -ne 28 ] && awk -v l=$lat 'BEGIN { exit !(l < 20) }'"
check "... with less than the whole file" \
	test "$(stat -c %s "$T/got")" -lt 2000000
# pcscd may see the vpcd link drop first ("card gone") or the daemon's
# exchange may fail first ("transmission failed ... resetting the card")
wait_for 20 grep -qE "resetting the card|card removed|card reset|card gone" "$T/dmscgw.log"
check "the daemon saw the card fail and said what it does" \
	grep -qE "(transmission failed|card removed|card reset).*resetting the card|: card gone$" "$T/dmscgw.log"
wait_count 20 "$T/card.log" "^> $TP_APDU\$" $((n0 + 1))
check "the card was started again: a new TERMINAL PROFILE" \
	test "$(count_lines "$T/card.log" "^> $TP_APDU\$")" -gt "$n0"
wait_for 10 grep -q "^CardInserted" "$T/mon.txt"
check "the monitor saw CardRemoved, then CardInserted" \
	bash -c "grep -E '^Card(Removed|Inserted)' '$T/mon.txt' | tail -2 | tr '\n' ' ' | grep -q '^CardRemoved .* CardInserted '"
wait_listening "$SP"
check "a new download after the reset is byte-exact" \
	bash -c "curl -sf --max-time 60 http://127.0.0.1:$SP/big -o '$T/got2' && cmp '$T/got2' '$T/www/big'"
check "the daemon answers" "$CTL" status

# --- a reset from another PC/SC application (vpcd's reset) -------------
# pcscd resets the card (vpcd control code 2) when an application leaves it
# with SCARD_RESET_CARD; the daemon's next exchange gets "card was reset"
reset_card() {
	/usr/bin/python3 - "$1" <<'EOP'
import ctypes, sys
pcsc = ctypes.CDLL("libpcsclite.so.1")
ctx, card, proto = ctypes.c_long(), ctypes.c_long(), ctypes.c_ulong()
SHARED, T0_T1, RESET = 2, 3, 1
assert pcsc.SCardEstablishContext(2, None, None, ctypes.byref(ctx)) == 0
rv = pcsc.SCardConnect(ctx, sys.argv[1].encode(), SHARED, T0_T1,
                       ctypes.byref(card), ctypes.byref(proto))
assert rv == 0, hex(rv & 0xffffffff)
assert pcsc.SCardDisconnect(card, RESET) == 0
pcsc.SCardReleaseContext(ctx)
print("reset")
EOP
}
n2=$(count_lines "$T/card.log" "^> $TP_APDU\$")
curl -s --max-time 60 -o "$T/got3" "http://127.0.0.1:$SP/big" >/dev/null 2>&1 & CURL=$!; PIDS+=($CURL)
wait_for 30 bash -c "[ \"\$(stat -c %s '$T/got3' 2>/dev/null || echo 0)\" -gt 100000 ]" ||
	bail "the third download did not start"
check "another application resets the card mid-download" \
	reset_card "Virtual PCD 00 00"
wait "$CURL"; rc=$?
check "the client was let go (curl $rc), not left to its time-out" test "$rc" -ne 28
wait_count 20 "$T/card.log" "^> $TP_APDU\$" $((n2 + 1))
check "the card was started again after the reset: a new TERMINAL PROFILE" \
	test "$(count_lines "$T/card.log" "^> $TP_APDU\$")" -gt "$n2"
check "the daemon said so" grep -qE "card reset: resetting the card|transmission failed" "$T/dmscgw.log"
wait_listening "$SP"
check "a download after it is byte-exact" \
	bash -c "curl -sf --max-time 60 http://127.0.0.1:$SP/big -o '$T/got4' && cmp '$T/got4' '$T/www/big'"

# --- mid-session: the card's DM_SC server goes with it ------------------
stop_vuicc
head -c 600000 /dev/zero | tr '\0' 'y' >"$T/huge.txt"
cat >"$T/card.scn" <<EOS
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 60
expect profile *
expect envelope DC*
dm-add ./Before chr 1 expect 200
dm-package
dm-add-file ./Huge chr $T/huge.txt
dm-notify
expect dm-session alert 1200
EOS
mv "$T/vuicc.log" "$T/vuicc-first.log"
n1=$(count_lines "$T/card.log" "^> $TP_APDU\$")
# a card swapped faster than pcscd polls can be missed by pcscd itself:
# the new card gets a fresh pcscd (the daemon follows it back)
stop_pcscd
start_pcscd
start_vuicc --scws "$DP" -v -s "$T/card.scn"
wait_count 30 "$T/dmscgw.log" "session .*: server message 3," 1 ||
	bail "the session did not get to its third message"
kill -USR1 "$VUICC_PID"
wait_for 20 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "the session failed at once, saying why: card removed" \
	grep -qE "session .* with DMSC01 failed \(transport-failed\): card removed" "$T/dmscgw.log"
check "... and the sessions list says so" \
	bash -c "'$CTL' --json sessions | grep -q '\"error\":\"card removed\"'"
check "the half-received object is not in the tree" \
	bash -c "! '$CTL' tree get ./Huge >/dev/null 2>&1"
check "what the first package did is" test "$("$CTL" tree get ./Before 2>&1)" = 1
wait_count 20 "$T/card.log" "^> $TP_APDU\$" $((n1 + 2))
check "the card was started again after the reset" \
	test "$(count_lines "$T/card.log" "^> $TP_APDU\$")" -ge $((n1 + 2))

# --- taken out for good -------------------------------------------------
# the card is in (its last signal is CardInserted); how many removals so
# far depends on how many resets the card went through above
wait_for 20 bash -c "grep -E '^Card(Removed|Inserted)' '$T/mon.txt' | tail -1 | grep -q '^CardInserted'"
r0=$(grep -c '^CardRemoved' "$T/mon.txt")
t0=$(date +%s.%N)
stop_vuicc
wait_for 10 bash -c "[ \$(grep -c '^CardRemoved' '$T/mon.txt') -gt $r0 ]"
t1=$(date +%s.%N)
lat=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
check "a card taken out: CardRemoved ($lat s)" \
	test "$(grep -c '^CardRemoved' "$T/mon.txt")" -eq $((r0 + 1))
check "the daemon still answers" "$CTL" status
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
