#!/bin/bash
# The off-line trigger end to end (OMA-TS-DM_SC-V1_0 chapters 6-8): the card
# wakes up (power-on, timer expiry, call control, location change), sends
# its DM Notification over BIP in terminal server mode, and the daemon's DM
# client runs the session with the card's DM_SC server over TLS-PSK through
# the SCWS proxy.  Once with XML, once with WBXML; the tree is checked
# afterwards through D-Bus, and the card checks every Status it gets.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_bus

PSK=00112233445566778899aabbccddeeff
dm_conf() {
	write_conf "
encoding = $1

$(dm_sc_conf "$SP" "$PSK")"
}

run() {	# run FORMAT
	local fmt=$1
	rm -rf "$T/state" "$T/card.log" "$T/vuicc.log"
	start_pcscd
	cat >"$T/card.scn" <<EOS
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 30
expect profile *
expect envelope DC*
# 1. power-on: the profile download woke the card up
dm-add ./DMAcc/Remote node - expect 200
dm-add ./DMAcc/Remote/ServerID chr remote.example.com expect 200
dm-add ./DMAcc/Remote/Name chr Remote expect 200
dm-get ./DevInfo/DevId expect 200 value IMEI:000000000000000
dm-get ./DevInfo/Man expect 200 value dmscgw
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session alert 1200 format $fmt
expect dm-end completed
# 2. timer expiry
proactive timer-start 1 00:00:01
expect tr 8103..2700 82028281 830100 *
expect envelope D7*
dm-replace ./DMAcc/Remote/Name chr after-timer expect 200
dm-add ./Conn node - expect 200
dm-add ./Conn/APN chr internet expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# 3. call control: a customer-care call
expect envelope D4*
dm-add ./Conn/Proxy chr proxy.example.com:8080 expect 200
dm-delete ./DMAcc/Remote/Name expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# 4. location change (event 03 registered first)
proactive set-event-list 03 09 0A
expect tr 8103..0500 82028281 830100
expect envelope D6 .. 990103 *
dm-add ./Conn/Roaming bool true expect 200
dm-get ./Conn/APN expect 200 value internet
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
EOS
	dm_conf "$fmt"
	: >"$T/dmscgw.log"
	start_daemon
	# which threads touch the disk: never the loop (the main thread), once
	# it runs - the start-up save of a fresh tree comes before the loop and
	# before the bus name
	wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1
	rm -f "$T/strace.txt"
	strace -f -qq -e trace=fsync,rename -o "$T/strace.txt" -p "$DAEMON_PID" 2>/dev/null &
	STRACE=$!
	PIDS+=($STRACE)
	wait_for 5 test -s "$T/strace.txt" -o -f "$T/strace.txt"
	start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -v -s "$T/card.scn"
	wait_for 15 grep -q "session .* with DMSC01 finished" "$T/dmscgw.log"
	check "$fmt: power-on wake-up: session finished" \
		test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 finished")" -ge 1
	wait_for 10 grep -q "^> 80140000..8103..270082028281830100" "$T/card.log"
	wait_count 15 "$T/dmscgw.log" "session .* with DMSC01 finished" 2
	check "$fmt: timer wake-up: second session finished" \
		test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 finished")" -ge 2
	out=$("$CTL" call +33123 2>&1)
	check "$fmt: the call went through call control ($out)" contains "$out" allowed
	wait_count 15 "$T/dmscgw.log" "session .* with DMSC01 finished" 3
	check "$fmt: call-control wake-up: third session finished" \
		test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 finished")" -ge 3
	wait_for 10 grep -q "^> 80140000..8103..0500" "$T/card.log"
	busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager \
		SetLocation sssuus normal 208 10 4660 180149761 eutran >/dev/null
	wait_count 15 "$T/dmscgw.log" "session .* with DMSC01 finished" 4
	check "$fmt: location wake-up: fourth session finished" \
		test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 finished")" -ge 4
	wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
	check "$fmt: the card's scenario passed (every Status as expected)" \
		grep -q "all .* steps passed" "$T/vuicc.log"
	check "$fmt: the client spoke $fmt" \
		grep -q "Content-Type: application/vnd.syncml.dm+$fmt\|client.*$fmt\|$fmt" "$T/vuicc.log"
	check "$fmt: tree: ./DMAcc/Remote/ServerID" \
		test "$("$CTL" tree get ./DMAcc/Remote/ServerID 2>&1)" = remote.example.com
	check "$fmt: tree: ./Conn/APN" test "$("$CTL" tree get ./Conn/APN 2>&1)" = internet
	check "$fmt: tree: ./Conn/Proxy" \
		test "$("$CTL" tree get ./Conn/Proxy 2>&1)" = proxy.example.com:8080
	check "$fmt: tree: ./Conn/Roaming" test "$("$CTL" tree get ./Conn/Roaming 2>&1)" = true
	out=$("$CTL" tree get ./DMAcc/Remote/Name 2>&1)
	check "$fmt: tree: ./DMAcc/Remote/Name deleted ($out)" \
		test "$("$CTL" tree get ./DMAcc/Remote/Name >/dev/null 2>&1; echo $?)" = 1
	kill -INT "$STRACE"; wait "$STRACE" 2>/dev/null
	saves=$(grep -c 'fsync(' "$T/strace.txt")
	onloop=$(awk -v p="$DAEMON_PID" '$1 == p && /fsync\(|rename\(/' "$T/strace.txt" | wc -l)
	check "$fmt: the tree was saved during the sessions ($saves fsync calls)" test "$saves" -gt 0
	check "$fmt: ... never by the event loop's thread ($onloop calls on it)" test "$onloop" -eq 0
	out=$("$CTL" sessions 2>&1)
	check "$fmt: four sessions, all ok" test "$(echo "$out" | grep -c "DMSC01.*bip.*ok")" -eq 4
	check "$fmt: no secret in the log" \
		bash -c "! grep -q -e srvpwd -e clipwd -e $PSK '$T/dmscgw.log'"
	stop_vuicc
	stop_daemon
	check "$fmt: clean exit" test "$DAEMON_RC" -eq 0
	stop_pcscd
}

run xml
run wbxml
done_testing
