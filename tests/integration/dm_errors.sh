#!/bin/bash
# DM sessions that do not go the happy way: a Package#0 with a bad digest
# (TERMINAL RESPONSE 20 with its cause, no session), nonce
# resynchronisation, a server whose credentials are refused (the client
# aborts with 1223), an Atomic that fails and rolls back, and a session the
# server aborts.  The card checks every Status; the tree is checked after.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_pcscd
start_bus

PSK=000102030405060708090a0b0c0d0e0f
write_conf "
encoding = xml
auth_retries = 2

$(dm_sc_conf "$SP" "$PSK")"

finished() { count_lines "$T/dmscgw.log" "session .* with DMSC01 (finished|failed)"; }
finished_ge() { [ "$(finished)" -ge "$1" ]; }

cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
expect profile *
expect envelope DC*
# a bad digest: refused on the spot, 20 with additional information
dm-notify bad-digest
expect tr 8103..4301 82028281 83022000
# nonce resynchronisation: the card lost its nonce and uses 00000000
dm-nonce server AAAAAA==
dm-add ./Resync chr yes expect 200
dm-notify nonce zero
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# the new nonce is in use on both sides: an ordinary notification works
dm-add ./Atomic node - expect 200
dm-atomic expect 507
dm-add ./Atomic/A chr a expect 216
dm-replace ./Atomic/B chr b expect 404
dm-add ./Atomic/C chr c expect 215
dm-end-atomic
dm-package
dm-get ./Atomic/A expect 404
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# the server aborts after one command
# (no Status comes back after an abort: the Add is checked in the tree)
dm-add ./BeforeAbort chr kept
dm-abort
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end aborted
# wrong server credentials: a client-initiated session the client gives up
dm-server DMSC01 not-the-password
dm-add ./NotAuthed chr x
expect dm-session alert 1201
expect dm-end client-abort
EOS
start_daemon
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -v -s "$T/card.scn"

wait_for 15 grep -q "notification by bip refused" "$T/dmscgw.log"
check "bad digest: refused, with the reason" \
	grep -q "notification by bip refused: digest of the notification from 'DMSC01' is wrong" "$T/dmscgw.log"
check "bad digest: TERMINAL RESPONSE 20 00 to the SEND DATA" \
	grep -q "^> 80140000..8103..430182028281830220 *00" "$T/card.log"
wait_for 20 finished_ge 1
check "resync: the notification was taken with the zero nonce" \
	grep -q "nonce resynchronisation" "$T/dmscgw.log"
check "resync: a new server nonce was sent" grep -q "new server nonce sent" "$T/dmscgw.log"
check "resync: the session provisioned ./Resync" test "$("$CTL" tree get ./Resync 2>&1)" = yes
wait_for 20 finished_ge 2
check "after resync: the next notification verifies with the new nonce" \
	test "$(count_lines "$T/dmscgw.log" "nonce resynchronisation")" -le 2
check "atomic: rolled back in the log" grep -q "Atomic .* failed, rolled back" "$T/dmscgw.log"
check "atomic: ./Atomic/A is not in the tree" \
	bash -c "! '$CTL' tree get ./Atomic/A >/dev/null 2>&1"
check "atomic: ./Atomic (before the Atomic) is" test "$("$CTL" tree get ./Atomic 2>&1)" = ""
wait_for 20 finished_ge 3
check "abort: the session ended as aborted" grep -q "failed (aborted): aborted by the server" "$T/dmscgw.log"
check "abort: what was done before stays" test "$("$CTL" tree get ./BeforeAbort 2>&1)" = kept
out=$("$CTL" session start DMSC01 2>&1)
check "client-initiated session started ($out)" test $? -eq 0
wait_for 20 finished_ge 4
check "server credentials refused: auth-failed" \
	grep -q "failed (auth-failed): the server's credentials were refused" "$T/dmscgw.log"
check "server credentials refused: nothing executed" \
	bash -c "! '$CTL' tree get ./NotAuthed >/dev/null 2>&1"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed" grep -q "all .* steps passed" "$T/vuicc.log"
out=$("$CTL" sessions 2>&1)
check "sessions: the aborted one is shown" contains "$out" aborted
check "sessions: the auth-failed one is shown" contains "$out" auth-failed
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
