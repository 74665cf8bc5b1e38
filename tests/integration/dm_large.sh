#!/bin/bash
# DM sessions with more than fits in one message: a small MaxMsgSize on
# both sides (the server's package and the client's answer each go in
# several messages, Alert 1222), a 100 KiB large object (MoreData) both
# ways, the card removed in the middle of a session (the tree stays
# consistent, the daemon keeps serving), and a restart keeping the tree.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_pcscd
start_bus

PSK=0f0e0d0c0b0a09080706050403020100
write_conf "
encoding = xml
max_msg_size = 2048

$(dm_sc_conf "$SP" "$PSK")"

# 100 KiB of text, and 600 KiB for the session the card leaves
/usr/bin/python3 -c '
import random, string, sys
random.seed(7)
for path, n in ((sys.argv[1], 102400), (sys.argv[2], 614400)):
    open(path, "w").write("".join(random.choice(string.ascii_letters + string.digits) for _ in range(n)))
' "$T/big.txt" "$T/huge.txt"

{
	echo "dm-server DMSC01 srvpwd"
	echo "dm-client dmclient clipwd"
	echo "dm-max-msg-size 1500"
	echo "timeout 60"
	echo "expect profile *"
	echo "expect envelope DC*"
	echo "dm-add ./Multi node - expect 200"
	for i in $(seq 1 40); do echo "dm-add ./Multi/N$i chr value-number-$i expect 200"; done
	echo "dm-add-file ./Big chr $T/big.txt expect 200"
	echo "dm-package"
	for i in 1 20 40; do echo "dm-get ./Multi/N$i expect 200 value value-number-$i"; done
	echo "dm-get ./Big expect 200"
	echo "dm-notify"
	echo "expect tr 8103..4301 82028281 830100 *"
	echo "expect dm-session"
	echo "expect dm-end completed"
	echo "dm-add-file ./Huge chr $T/huge.txt"
	echo "dm-notify"
	echo "expect tr 8103..4301 82028281 830100 *"
	echo "expect dm-session"
	echo "expect dm-end any"
} >"$T/card.scn"

start_daemon
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -v -s "$T/card.scn"
wait_for 60 grep -q "session .* with DMSC01 \(finished\|failed\)" "$T/dmscgw.log"
check "the session with 40 adds and a 100 KiB object finished" \
	grep -q "session .* with DMSC01 finished: [0-9]* commands" "$T/dmscgw.log"
n=$(grep -c "dm: <- msg" "$T/vuicc.log")
check "the client's answers came in several messages ($n)" test "$n" -ge 6
check "the card asked for the next message (1222) of the client's package" \
	grep -q "dm: -> msg .*Alert(1222)" "$T/vuicc.log"
check "the client asked for the next message (1222) of the server's package" \
	grep -q "dm: <- msg .*Alert(1222)" "$T/vuicc.log"
big=$(grep -o "dm: <- msg [0-9]* (xml, [0-9]* bytes)" "$T/vuicc.log" |
	grep -o "[0-9]* bytes" | tr -dc '0-9\n' | sort -n | tail -1)
check "no client message above the card's MaxMsgSize 1500 ($big)" test "$big" -le 1500
sbig=$(grep -o "dm: -> msg [0-9]* (xml, [0-9]* bytes)" "$T/vuicc.log" |
	grep -o "[0-9]* bytes" | tr -dc '0-9\n' | sort -n | tail -1)
check "no server message above the client's MaxMsgSize 2048 ($sbig)" test "$sbig" -le 2048
check "./Multi/N40 in the tree" test "$("$CTL" tree get ./Multi/N40 2>&1)" = value-number-40
"$CTL" tree get ./Big >"$T/big.got" 2>&1
check "the 100 KiB object arrived byte-exact" cmp -s <(printf '%s\n' "$(cat "$T/big.txt")") "$T/big.got"
check "the client sent ./Big back in chunks (MoreData: the card answers 213)" \
	grep -q "dm: -> msg .*Status(Results [0-9/]*)=213" "$T/vuicc.log"

# the card leaves in the middle of the 600 KiB object
wait_count 30 "$T/dmscgw.log" "session .* with DMSC01: connecting -> sending" 2
wait_count 30 "$T/dmscgw.log" "session .*: server message 3," 2
stop_vuicc
wait_for 30 grep -q "session .* with DMSC01 failed (transport-failed)" "$T/dmscgw.log"
check "card removed mid-session: the session failed on the transport" \
	grep -q "session .* with DMSC01 failed (transport-failed)" "$T/dmscgw.log"
check "the half-received object is not in the tree" \
	bash -c "! '$CTL' tree get ./Huge >/dev/null 2>&1"
check "the daemon still serves: the earlier provisioning is there" \
	test "$("$CTL" tree get ./Multi/N1 2>&1)" = value-number-1
check "... and its status answers" "$CTL" status
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
mv "$T/dmscgw.log" "$T/dmscgw-first.log"
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1
check "after a restart the provisioned tree is loaded" \
	grep -q "management tree loaded from" "$T/dmscgw.log"
check "... with ./Multi/N20" test "$("$CTL" tree get ./Multi/N20 2>&1)" = value-number-20
"$CTL" tree get ./Big >"$T/big.got2" 2>&1
check "... and the 100 KiB object" cmp -s "$T/big.got" "$T/big.got2"
stop_daemon
check "clean exit after the restart" test "$DAEMON_RC" -eq 0
done_testing
