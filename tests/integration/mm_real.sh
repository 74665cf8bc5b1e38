#!/bin/bash
# The real ModemManager and a fake AT modem: a DM Notification (Package#0)
# in an SMS WAP push reaches ModemManager's D-Bus API as an Sms object.
#
# ModemManager runs on a private SESSION bus (--test-session), with its Test
# interface (--test-enable) and without udev (--test-no-udev).  The modem is
# given to it by org.freedesktop.ModemManager1.Test.SetProfile(s id,
# s plugin, as ports): a "virtual" device whose ports ModemManager opens as
# UNIX stream sockets (a path, or "abstract:NAME"), never as ttys, so the fake
# modem (tests/mm/fake_at_modem.py) listens on a socket.  Virtual ports are
# not probed: the generic plugin takes the socket as its primary AT port.
# The modem is enabled through the API (no NetworkManager here to do it),
# registers, and then the fake modem announces an SMS with +CMTI.
#
# What ModemManager (1.20) exposes for an 8-bit SMS with a user data header
# is the user data WITHOUT the header: Sms.Data is the WSP push PDU itself
# (TID 01, PDU type 06, headers, then the body); the WDP ports 2948/9200 of
# the header are not exposed at all.  Sms.Number is the originator with "+"
# for an international number, Sms.State is MM_SMS_STATE_RECEIVED (3),
# Sms.PduType MM_SMS_PDU_TYPE_DELIVER (1).
#
# Logs (KEEP=1 keeps $T): mm.log (ModemManager --debug), modem.log (every AT
# command in and answer out), dbus.log.
. "${top_srcdir:-.}/tests/lib.sh"

MM=$(command -v ModemManager || echo /usr/sbin/ModemManager)
[ -x "$MM" ] || skip_all "modemmanager not installed"
command -v busctl >/dev/null || skip_all "busctl (systemd) is not installed"
command -v dbus-daemon >/dev/null || skip_all "dbus-daemon is not installed"
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
FAKE_MODEM=$top_srcdir/tests/mm/fake_at_modem.py

MM1=org.freedesktop.ModemManager1
OA=+15551234567

# bus ARGS...: busctl on the private session bus
bus() {
	busctl --address="$DBUS_SESSION_BUS_ADDRESS" --timeout=10 "$@"
}

# prop PATH IFACE NAME: a property as busctl prints it ("i 8", "ay 3 1 2 3")
prop() {
	bus get-property $MM1 "$1" "$MM1.$2" "$3" 2>/dev/null
}

# start_session_bus: a private session-type dbus-daemon, anyone may own and
# call anything; exports DBUS_SESSION_BUS_ADDRESS
start_session_bus() {
	cat >"$T/session.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$T/session-bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOC
	dbus-daemon --config-file="$T/session.conf" --nofork --nopidfile \
		>>"$T/dbus.log" 2>&1 &
	PIDS+=($!)
	wait_for 5 test -S "$T/session-bus" || bail "dbus-daemon did not start"
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$T/session-bus"
}

start_fake_modem() {
	$PY "$FAKE_MODEM" --socket "$T/modem.sock" --control "$T/modem.ctl" \
		--log "$T/modem.log" >>"$T/fake_modem.out" 2>&1 &
	PIDS+=($!)
	wait_for 10 grep -q ready "$T/fake_modem.out" || bail "the fake modem did not start"
}

start_mm() {
	"$MM" --test-session --test-enable --test-no-udev --debug \
		--log-level=DEBUG >>"$T/mm.log" 2>&1 &
	MM_PID=$!
	PIDS+=("$MM_PID")
	wait_for 15 bus status $MM1 >/dev/null 2>&1 || bail "ModemManager did not take its name"
}

# the object paths under PREFIX/, one a line
objects() {
	bus tree --list $MM1 2>/dev/null | grep -E "^$1/[0-9]+\$"
}

# modem_state_at_least N: Modem.State (MMModemState) >= N
modem_state_at_least() {
	local s
	s=$(prop "$MODEM" Modem State) || return 1
	[ "${s#i }" -ge "$1" ] 2>/dev/null
}

# has_objects PREFIX: some object PREFIX/N exists
has_objects() {
	[ -n "$(objects "$1")" ]
}

# prop_is PATH IFACE NAME VALUE: the property is VALUE, as busctl prints it
prop_is() {
	[ "$(prop "$1" "$2" "$3")" = "$4" ]
}

# ay_hex "ay 3 1 2 255" -> 0102FF
ay_hex() {
	local v w
	read -r -a w <<<"$1"
	for v in "${w[@]:2}"; do printf '%02X' "$v"; done
}

start_session_bus
start_fake_modem
start_mm
MM_VERSION=$(bus get-property $MM1 /org/freedesktop/ModemManager1 $MM1 Version 2>/dev/null)
MM_VERSION=${MM_VERSION#s }
check "ModemManager ${MM_VERSION//\"/} runs on the session bus" bus status $MM1

# the fake modem as a virtual device of the generic plugin
check "Test.SetProfile takes the fake modem's socket" \
	bus call $MM1 /org/freedesktop/ModemManager1 $MM1.Test SetProfile ssas \
	fake0 generic 1 "$T/modem.sock"
wait_for 15 has_objects /org/freedesktop/ModemManager1/Modem ||
	bail "no modem object"
MODEM=$(objects /org/freedesktop/ModemManager1/Modem | head -n 1)
# MMModemState: 3 disabled, 6 enabled, 8 registered
wait_for 20 modem_state_at_least 3 || bail "the modem did not initialize"
check "the modem is initialized (disabled)" modem_state_at_least 3
check "it has a Messaging interface" prop "$MODEM" Modem.Messaging SupportedStorages

check "Modem.Enable(true)" bus call $MM1 "$MODEM" $MM1.Modem Enable b true
wait_for 15 modem_state_at_least 8
check "the modem is registered" modem_state_at_least 8
modem_state_at_least 8 || bail "the modem did not register (see modem.log and mm.log)"
# +CMTI is handled once messaging is enabled, +CNMI being its last step
wait_for 10 grep -q '^[0-9.]* > AT+CNMI=' "$T/modem.log"
check "ModemManager asked for new message indications (+CNMI)" \
	grep -q '^[0-9.]* > AT+CNMI=' "$T/modem.log"

# The daemon and the card.  The daemon talks D-Bus on the "system" bus:
# here the private session bus ModemManager is on.  It starts with the
# modem off ([modem] enable = no), so that the Sms object can be looked at
# as ModemManager made it; then a reload turns the modem on and the daemon
# finds the SMS waiting (Messaging.List), as after a restart.
export DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SESSION_BUS_ADDRESS"
CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_pcscd
PSK=c0c1c2c3c4c5c6c7c8c9cacbcccdcecf
modem_conf() {
	write_conf "
encoding = xml
$(dm_sc_conf "$SP" "$PSK")

[modem]
enable = $1"
}
modem_conf no
cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 60
expect profile *
dm-add ./ByRealModem chr yes expect 200
expect dm-session
expect dm-end completed
EOS
start_daemon
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -s "$T/card.scn"
wait_for 15 grep -q "channel 1 listen" "$T/dmscgw.log"
check "the daemon and the card are up (the card's SCWS listens)" \
	grep -q "channel 1 listen" "$T/dmscgw.log"

# a General Package#0 (server DMSC01) in a WAP push from $OA
PKG0=$(package0 DMSC01 srvpwd "" 1234)
WSP=$(wap_push "$PKG0")
echo "sms $OA $PKG0" >"$T/modem.ctl"

wait_for 15 has_objects /org/freedesktop/ModemManager1/SMS
SMS=$(objects /org/freedesktop/ModemManager1/SMS | head -n 1)
check "ModemManager read the SMS (+CMTI, +CMGR)" grep -q '^[0-9.]* > AT+CMGR=1' "$T/modem.log"
check "and made an Sms object of it" test -n "$SMS"
if [ -n "$SMS" ]; then
	# MMSmsState: 3 received (2 while parts are still awaited)
	wait_for 10 prop_is "$SMS" Sms State "u 3"
	check "Sms.State is received (3)" prop_is "$SMS" Sms State "u 3"
	check "Sms.PduType is deliver (1)" prop_is "$SMS" Sms PduType "u 1"
	check "Sms.Number is the originator $OA" prop_is "$SMS" Sms Number "s \"$OA\""
	DATA=$(ay_hex "$(prop "$SMS" Sms Data)")
	echo "# Sms.Data $DATA"
	check "Sms.Data is the WSP push (the UDH stripped)" test "$DATA" = "$WSP"
	MESSAGES=$(prop "$MODEM" Modem.Messaging Messages)
	check "Messaging.Messages lists it" contains "$MESSAGES" "\"$SMS\""
	# the daemon is told to use the modem: it finds the SMS, checks it,
	# runs the session with the card's DM_SC server and deletes the SMS
	modem_conf yes
	kill -HUP "$DAEMON_PID"
	wait_for 30 grep -q "session 1234 with DMSC01 \(finished\|failed\)" "$T/dmscgw.log"
	check "the daemon found the modem through the real ModemManager" \
		grep -q "modem .* in use" "$T/dmscgw.log"
	check "it took the SMS's DM notification" \
		grep -q "SMS $SMS from $OA: DM notification taken" "$T/dmscgw.log"
	check "the on-line trigger started the session, which finished" \
		grep -q "session 1234 with DMSC01 finished" "$T/dmscgw.log"
	check "the card's DM_SC server provisioned the tree" \
		test "$("$CTL" tree get ./ByRealModem 2>&1)" = yes
	wait_for 10 grep -q '^[0-9.]* > AT+CMGD=1' "$T/modem.log"
	check "the SMS was deleted from the modem (AT+CMGD)" \
		grep -q '^[0-9.]* > AT+CMGD=1' "$T/modem.log"
	wait_for 10 eval '! prop "$MODEM" Modem.Messaging Messages | grep -q "\"$SMS\""'
	check "... and from ModemManager" \
		bash -c "! busctl --address='$DBUS_SESSION_BUS_ADDRESS' get-property $MM1 '$MODEM' $MM1.Modem.Messaging Messages | grep -q '\"$SMS\"'"
	stop_vuicc
	stop_daemon
	check "the daemon stops cleanly" test "$DAEMON_RC" -eq 0
fi

# the commands the fake modem answered ERROR to (ModemManager went on
# without them), for whoever extends it
grep 'unknown command' "$T/modem.log" | sed 's/^[0-9.]* /# fake modem: /' | sort -u
echo "quit" >"$T/modem.ctl"
done_testing
