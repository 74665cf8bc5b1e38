#!/bin/bash
# HMAC authentication (OMA DM Security 5.5, [dm_sc] auth = hmac): every
# message carries x-syncml-hmac both ways, keyed with the nonces the two
# sides gave each other.  The card's DM_SC server checks each client
# message (a bad or missing MAC fails its scenario) and signs its answers;
# a server that signs with the wrong password is refused by the client;
# a card that does not know the client's password refuses it.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_pcscd
start_bus

PSK=0f0e0d0c0b0a09080706050403020100
write_conf "
encoding = xml
auth_retries = 2

$(dm_sc_conf "$SP" "$PSK")
auth = hmac"

finished() { count_lines "$T/dmscgw.log" "session .* with DMSC01 (finished|failed)"; }
finished_ge() { [ "$(finished)" -ge "$1" ]; }

cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
dm-auth hmac
timeout 30
expect profile *
expect envelope DC*
# a whole session with MACs both ways, over two packages
dm-add ./Hmac node - expect 200
dm-add ./Hmac/A chr aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa expect 200
dm-add ./Hmac/B chr bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb expect 200
dm-add ./Hmac/C chr cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc expect 200
dm-package
dm-get ./DevInfo/DevId expect 200
dm-get ./DevInfo/Man expect 200
dm-get ./DevInfo/Mod expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# the server signs with a password the client does not know
dm-server DMSC01 not-the-password
dm-add ./NotAuthed chr x
expect dm-session alert 1201
expect dm-end client-abort
# the card does not know the client's password: it refuses the MAC
dm-server DMSC01 srvpwd
dm-client dmclient not-the-password
dm-add ./Refused chr x
expect dm-end auth-failed
EOS
start_daemon
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -v -s "$T/card.scn"

wait_for 20 finished_ge 1
check "HMAC: the session finished" \
	grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
check "HMAC: the card checked every client MAC (none left unchecked)" \
	bash -c "! grep -q 'x-syncml-hmac present, not checked' '$T/vuicc.log'"
check "HMAC: the session took several messages ($(grep -c 'dm: <-' "$T/vuicc.log") from the client)" \
	test "$(grep -c 'dm: <-' "$T/vuicc.log")" -ge 3
check "HMAC: the tree got ./Hmac/C" \
	test "$("$CTL" tree get ./Hmac/C 2>&1)" = cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
out=$("$CTL" session start DMSC01 2>&1)
check "client-initiated session started ($out)" test $? -eq 0
wait_for 20 finished_ge 2
check "a server MAC with the wrong password: refused" \
	grep -q "failed (auth-failed): the server's credentials were refused" "$T/dmscgw.log"
check "... nothing executed" bash -c "! '$CTL' tree get ./NotAuthed >/dev/null 2>&1"
out=$("$CTL" session start DMSC01 2>&1)
check "client-initiated session started ($out)" test $? -eq 0
wait_for 20 finished_ge 3
check "a client MAC the card cannot verify: the session fails" \
	test "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 failed")" -ge 2
check "... nothing executed" bash -c "! '$CTL' tree get ./Refused >/dev/null 2>&1"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed" grep -q "all .* steps passed" "$T/vuicc.log"
check "no secret in the daemon's log" \
	bash -c "! grep -q -e srvpwd -e clipwd -e $PSK '$T/dmscgw.log'"
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
