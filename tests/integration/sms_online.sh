#!/bin/bash
# The on-line trigger and the modem, with a ModemManager mock that speaks
# ModemManager's D-Bus API (tests/mm/modemmanager.py): a DM Notification in
# a WAP push SMS starts a session with the card's DM_SC server and the SMS
# is deleted; a bad digest starts nothing and keeps the SMS; SEND SHORT
# MESSAGE goes out with the right number and text, and a failure gives 35;
# registration and location reach the card only when registered; an
# outgoing call goes through call control and is hung up when refused;
# ModemManager restarting is followed.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
MM=org.freedesktop.ModemManager1
pick_port
SP=$(another_port)
start_pcscd
start_bus
start_mm_mock
PSK=b0b1b2b3b4b5b6b7b8b9babbbcbdbebf
write_conf "
encoding = wbxml
$(dm_sc_conf "$SP" "$PSK")"

mock() { busctl --system call $MM /org/freedesktop/ModemManager1 org.freedesktop.DBus.Mock "$@"; }
hexbytes() { local h=$1 out="" i; for ((i = 0; i < ${#h}; i += 2)); do out+=" 0x${h:i:2}"; done; echo "$((${#h} / 2))$out"; }
finished() { count_lines "$T/dmscgw.log" "session .* with DMSC01 (finished|failed)"; }
finished_ge() { [ "$(finished)" -ge "$1" ]; }

# SEND SHORT MESSAGE (TS 102 223 6.6.9): SMS-SUBMIT to +3312345678, 7-bit
# "hello" (E8 32 9B FD 06); then the same again (the mock fails the send)
SUBMIT="0100 0A91 3321436587 0000 05 E8329BFD06"
SUBMIT=${SUBMIT// /}
ssm() { echo "D0 $(printf '%02X' $((11 + ${#SUBMIT} / 2))) 810301 1300 82028183 8B$(printf '%02X' $((${#SUBMIT} / 2)))$SUBMIT" | tr -d ' '; }

cat >"$T/card.scn" <<EOS
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 30
# the modem came first: SEND SHORT MESSAGE is in the profile (byte 4 bit 2)
expect profile A1006842 *
expect envelope DC*
proactive $(ssm)
expect tr 8103011300 82028281 830100
# the test makes the next send fail, then says go (envelope D9 01 01)
expect envelope D90101
proactive $(ssm)
expect tr 8103011300 82028281 830135
proactive set-event-list 03 09 0A
expect tr 8103..0500 82028281 830100
# registered in 208-10, LAC 0x1234, cell 0xABCDE01 (E-UTRAN)
expect envelope D6 .. 990103 82028281 9B0100 1309 02F8011234ABCDE01F
on envelope D4 .. 82028281 86.. 91 33 99* reply 0100
dm-add ./BySms chr yes expect 200
timeout 120
expect dm-session
expect dm-end completed
EOS
start_daemon
wait_for 10 grep -q "modem .* in use" "$T/dmscgw.log"
check "the modem was found through ModemManager" grep -q "modem .* in use" "$T/dmscgw.log"
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -v -s "$T/card.scn"

# SEND SHORT MESSAGE: sent, then a failure
wait_for 15 grep -q "SEND SHORT MESSAGE: sent" "$T/dmscgw.log"
out=$(mock GetSentSms)
check "SEND SHORT MESSAGE went out to +3312345678 with 'hello' ($out)" \
	bash -c "echo '$out' | grep -q '\"+3312345678\" \"hello\"'"
mock SetSendFailure ss org.freedesktop.ModemManager1.Error.MessageError.NetworkFailure "no network" >/dev/null
busctl --system call org.dmscgw1 /org/dmscgw1/card/1 org.dmscgw1.Card Envelope ay 3 0xD9 0x01 0x01 >/dev/null
wait_for 15 grep -q "SEND SHORT MESSAGE failed" "$T/dmscgw.log"
check "a failed send is answered 35 (SMS RP-ERROR)" \
	grep -q "^> 80140000..810301130082028281830135" "$T/card.log"

# location: not registered, nothing; registered, the event
wait_for 10 grep -q "^> 80140000..8103..0500" "$T/card.log"
mock SetRegistration us 2 "" >/dev/null
mock SetLocation ssuuu 208 10 4660 180149761 4660 >/dev/null
mock SetRegistration us 1 20810 >/dev/null
mock SetAccessTechnologies u 16384 >/dev/null
wait_for 10 grep -q "^> 80C20000..D6..990103.*1309" "$T/card.log"
# the daemon takes the modem's signals in order: an event for the location
# seen while not registered would have reached the card first
first=$(grep -m1 "^> 80C20000..D6..990103.*1309" "$T/card.log")
check "not registered: no location event with a location ($first)" \
	contains "$first" "9B0100"
check "registered: the location status event reached the card" \
	grep -q "^> 80C20000..D6..99010382028281 *9B0100 *130902F8011234ABCDE01F" "$T/card.log"

# an outgoing call: call control says no, the call is hung up
mock AddOutgoingCall s +3399887766 >/dev/null
wait_for 10 grep -q "not allowed by the card, hanging up" "$T/dmscgw.log"
check "the outgoing call went through call control" grep -q "^> 80C20000..D4" "$T/card.log"
out=$(mock GetHungUpCalls)
check "the refused call was hung up ($out)" contains "$out" "/org/freedesktop/ModemManager1/Call/"

# a DM Notification by SMS with a bad digest: nothing starts, SMS kept
bad=$(package0 DMSC01 srvpwd "" 0BAD bad)
bad_sms=$(mock ReceiveSms says +33600000001 $(hexbytes "$(wap_push "$bad")") "" | grep -o '/org[^"]*')
wait_for 10 grep -q "notification by sms refused" "$T/dmscgw.log"
check "bad digest: refused" grep -q "notification by sms refused: digest" "$T/dmscgw.log"
out=$(mock GetDeletedSms)
check "bad digest: the SMS is kept ($bad_sms)" bash -c "[ -n '$bad_sms' ] && ! grep -q '$bad_sms' <<<'$out'"
check "bad digest: no session" test "$(finished)" -eq 0

# a good one: the session with the card's DM_SC server, the SMS deleted
good=$(package0 DMSC01 srvpwd "" 1A2B)
good_sms=$(mock ReceiveSms says +33600000002 $(hexbytes "$(wap_push "$good")") "" | grep -o '/org[^"]*')
wait_for 30 finished_ge 1
check "the on-line trigger started a session that finished" \
	grep -q "session 1A2B with DMSC01 finished" "$T/dmscgw.log"
check "its trigger was the SMS" grep -q "notification from DMSC01 by sms: session 1A2B" "$T/dmscgw.log"
check "the tree was provisioned" test "$("$CTL" tree get ./BySms 2>&1)" = yes
out=$(mock GetDeletedSms)
check "the SMS was deleted once taken ($good_sms)" contains "$out" "\"$good_sms\""
# an SMS that is not a DM notification is left alone
text_sms=$(mock ReceiveSms says +33600000003 0 "just text" | grep -o '/org[^"]*')
wait_for 5 grep -q "not a WAP push, left alone" "$T/dmscgw.log"
out=$(mock GetDeletedSms)
check "a text SMS is left alone ($text_sms)" bash -c "[ -n '$text_sms' ] && ! grep -q '$text_sms' <<<'$out'"

# ModemManager restarting
stop_mm_mock
wait_for 10 grep -q "no modem" "$T/dmscgw.log"
check "ModemManager leaving is noticed" grep -q "no modem" "$T/dmscgw.log"
start_mm_mock
wait_for 10 test "$(count_lines "$T/dmscgw.log" "modem .* in use")" -ge 2
check "ModemManager coming back is followed" \
	test "$(count_lines "$T/dmscgw.log" "modem .* in use")" -ge 2
out=$("$CTL" notify wap-push "$(wap_push "$(package0 DMSC01 srvpwd "" 3C4D)")" 2>&1)
check "dmscgwctl notify takes a WAP push ($out)" contains "$out" "notification taken"
wait_for 10 grep -q "notification from DMSC01 by dbus: session 3C4D" "$T/dmscgw.log"
check "... through the same entry point" grep -q "notification from DMSC01 by dbus: session 3C4D" "$T/dmscgw.log"
out=$("$CTL" notify package0 0102 2>&1)
check "dmscgwctl notify: malformed is refused with a reason ($out)" contains "$out" "not a DM notification"
check "... and the daemon logs it with the reason" \
	grep -q "notification by dbus refused: not a DM notification" "$T/dmscgw.log"
out=$("$CTL" notify wap-push "$(package0 DMSC01 srvpwd "" 3C4E)" 2>&1)
check "a Package#0 given as a WAP push is refused ($out)" contains "$out" "not a WAP push"
check "... logged with its reason" grep -q "notification by dbus refused: not a WAP push" "$T/dmscgw.log"
check "the daemon still runs" "$CTL" status
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
