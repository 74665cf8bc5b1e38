#!/bin/bash
# The ModemManager mock (tests/mm/modemmanager.py, a python3-dbusmock
# template) on a private system bus: the modem through the ObjectManager;
# SMS received, listed, deleted, created and sent, a send failing on demand;
# registration, location and access technology changing with their signals;
# an outgoing call announced and hung up; the mock restarting comes back.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || skip_all "needs /usr/bin/python3"
$PY -c 'import dbusmock' 2>/dev/null || skip_all "needs python3-dbusmock"
command -v busctl >/dev/null || skip_all "needs busctl"
command -v dbus-monitor >/dev/null || skip_all "needs dbus-monitor"

MM=org.freedesktop.ModemManager1
MMP=/org/freedesktop/ModemManager1
MODEM=$MMP/Modem/0
TEMPLATE=$top_srcdir/tests/mm/modemmanager.py

start_bus
# The bus is shaped like Debian's system bus (default deny): let root own
# ModemManager's name and anyone call it, as ModemManager's own policy does.
mm_start() { start_mm_mock "$@"; }
mm_stop() { stop_mm_mock; }
mock() { busctl --system call $MM $MMP org.freedesktop.DBus.Mock "$@"; }
call() { local path=$1 iface=$2; shift 2; busctl --system call $MM "$path" "$MM.$iface" "$@"; }
prop() { busctl --system get-property $MM "$1" "$MM.$2" "$3"; }
# path_of 'o "/x/y"' -> /x/y
# flat TEXT: on one line, for a TAP description
flat() { echo "${1//$'\n'/; }"; }
path_of() { local p=${1#o \"}; echo "${p%\"}"; }

# every signal the mock sends, one per line (interface member args)
dbus-monitor --system "type='signal',sender='$MM'" >"$T/signals.log" 2>>"$T/monitor.log" &
PIDS+=($!)
# it prints the bus's NameAcquired only from its main loop, after its
# match rules (or BecomeMonitor) are in place
wait_for 10 grep -q "member=NameAcquired" "$T/signals.log" || bail "dbus-monitor did not start"
sig_count() { count_lines "$T/signals.log" "$1"; }
# signal_has INTERFACE MEMBER TEXT...: a signal seen with all the TEXTs in it
signal_has() {
	$PY - "$T/signals.log" "$@" <<'EOP'
import re, sys
log, iface, member, needles = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
blocks = re.split(r"\n(?=signal )", open(log).read())
head = f"interface={iface}; member={member}"
sys.exit(0 if any(head in b.split("\n")[0] and all(n in b for n in needles)
                  for b in blocks) else 1)
EOP
}

mm_start
check "the mock owns $MM" mm_up

# the ObjectManager: the modem with its interfaces, and nothing else
out=$(busctl --system --json=short call $MM $MMP org.freedesktop.DBus.ObjectManager GetManagedObjects)
echo "$out" >"$T/objects.json"
check "GetManagedObjects lists $MODEM with its interfaces" $PY -c '
import json, sys
objs = json.load(open(sys.argv[1]))["data"][0]
ifs = objs["/org/freedesktop/ModemManager1/Modem/0"]
need = ["Modem", "Modem.Modem3gpp", "Modem.Location", "Modem.Messaging", "Modem.Voice"]
assert all("org.freedesktop.ModemManager1." + i in ifs for i in need), ifs.keys()
assert list(objs) == ["/org/freedesktop/ModemManager1/Modem/0"], list(objs)
m = ifs["org.freedesktop.ModemManager1.Modem"]
assert m["EquipmentIdentifier"] == {"type": "s", "data": "490154203237518"}, m["EquipmentIdentifier"]
assert m["State"]["type"] == "i"
' "$T/objects.json"
out=$(prop $MODEM Modem.Modem3gpp Imei)
check "Modem3gpp.Imei ($(flat "$out"))" test "$out" = 's "490154203237518"'
out=$(busctl --system get-property $MM $MMP $MM Version)
check "the manager's Version ($(flat "$out"))" contains "$out" 's "1.20'
check "ScanDevices and SetLogging answer" bash -c "
	busctl --system call $MM $MMP $MM ScanDevices &&
	busctl --system call $MM $MMP $MM SetLogging s debug"

# a received SMS: State received (3), its data and number; listed
out=$(mock ReceiveSms says +33600000001 5 0x01 0x06 0x03 0xc4 0xaf "")
SMS1=$(path_of "$out")
check "ReceiveSms gives an SMS object ($SMS1)" contains "$SMS1" "$MMP/SMS/"
out=$(prop "$SMS1" Sms State)
check "its State is received ($(flat "$out"))" test "$out" = "u 3"
out=$(prop "$SMS1" Sms Data)
check "its Data ($(flat "$out"))" test "$out" = "ay 5 1 6 3 196 175"
out=$(prop "$SMS1" Sms Number)
check "its Number ($(flat "$out"))" test "$out" = 's "+33600000001"'
out=$(prop "$SMS1" Sms PduType)
check "its PduType is deliver ($(flat "$out"))" test "$out" = "u 1"
out=$(call $MODEM Modem.Messaging List)
check "Messaging.List returns it ($(flat "$out"))" test "$out" = "ao 1 \"$SMS1\""
out=$(prop $MODEM Modem.Messaging Messages)
check "Messaging.Messages has it ($(flat "$out"))" test "$out" = "ao 1 \"$SMS1\""
wait_for 5 grep -q "member=Added" "$T/signals.log"
check "Messaging.Added(path, true) was emitted" \
	signal_has $MM.Modem.Messaging Added "object path \"$SMS1\"" "boolean true"

# a text SMS: Text, empty Data
out=$(path_of "$(mock ReceiveSms says +33600000002 0 "just text")")
SMS2=$out
out=$(prop "$SMS2" Sms Text; prop "$SMS2" Sms Data)
check "a text SMS has Text and empty Data ($(flat "$out"))" test "$out" = $'s "just text"\nay 0'

# Delete: gone from the list and the bus, recorded, Deleted emitted
check "Messaging.Delete" call $MODEM Modem.Messaging Delete o "$SMS1"
out=$(call $MODEM Modem.Messaging List)
check "the deleted SMS is no longer listed ($(flat "$out"))" test "$out" = "ao 1 \"$SMS2\""
check "the deleted SMS object is gone" bash -c "! busctl --system get-property $MM $SMS1 $MM.Sms State"
out=$(mock GetDeletedSms)
check "GetDeletedSms has it ($(flat "$out"))" test "$out" = "ao 1 \"$SMS1\""
wait_for 5 grep -q "member=Deleted" "$T/signals.log"
check "Messaging.Deleted was emitted" signal_has $MM.Modem.Messaging Deleted "\"$SMS1\""
out=$(call $MODEM Modem.Messaging Delete o "$SMS1" 2>&1)
check "deleting it again: NotFound ($(flat "$out"))" contains "$out" "path '$SMS1' not found"

# Create + Send
out=$(call $MODEM Modem.Messaging Create a{sv} 2 number s +3312345678 text s hello)
SMS3=$(path_of "$out")
check "Messaging.Create gives an SMS ($SMS3)" contains "$SMS3" "$MMP/SMS/"
check "Sms.Send" call "$SMS3" Sms Send
out=$(prop "$SMS3" Sms State)
check "the SMS is sent, State 5 ($(flat "$out"))" test "$out" = "u 5"
out=$(mock GetSentSms)
check "GetSentSms records it ($(flat "$out"))" test "$out" = 'a(ssay) 1 "+3312345678" "hello" 0'
out=$(call $MODEM Modem.Messaging Create a{sv} 2 number s +3312345678 data ay 3 1 2 3)
SMS4=$(path_of "$out")
call "$SMS4" Sms Send >/dev/null
out=$(mock GetSentSms)
check "... and a data SMS ($(flat "$out"))" contains "$out" '"+3312345678" "" 3 1 2 3'
out=$(call $MODEM Modem.Messaging Create a{sv} 1 text s hello 2>&1)
check "Create without number is refused ($(flat "$out"))" contains "$out" "number"

# SetSendFailure: the next Send fails with that error, once
# (busctl prints only the message: the error name is read in python)
send() {
	$PY - "$1" <<'EOP' 2>&1
import sys, dbus
sms = dbus.SystemBus().get_object("org.freedesktop.ModemManager1", sys.argv[1])
try:
    sms.Send(dbus_interface="org.freedesktop.ModemManager1.Sms")
    print("sent")
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name(), e.get_dbus_message())
EOP
}
check "SetSendFailure" mock SetSendFailure ss $MM.Error.MessageError.NetworkFailure "no network"
SMS5=$(path_of "$(call $MODEM Modem.Messaging Create a{sv} 2 number s +3312345678 text s third)")
out=$(send "$SMS5")
check "the next Send fails with the given error name and message ($(flat "$out"))" \
	test "$out" = "$MM.Error.MessageError.NetworkFailure no network"
out=$(prop "$SMS5" Sms State)
check "the failed SMS is not sent ($(flat "$out"))" test "$out" != "u 5"
out=$(send "$SMS5")
check "only once: sending it again goes out ($(flat "$out"))" test "$out" = "sent"
mock SetSendFailure ss x.y "z" >/dev/null
mock SetSendFailure ss "" "" >/dev/null
SMS7=$(path_of "$(call $MODEM Modem.Messaging Create a{sv} 2 number s +3312345678 text s fourth)")
check "an empty SetSendFailure clears it" call "$SMS7" Sms Send
out=$(mock GetSentSms)
check "every successful send is recorded, in order ($(flat "$out"))" \
	contains "$out" 'a(ssay) 4 "+3312345678" "hello" 0 "+3312345678" "" 3 1 2 3 "+3312345678" "third" 0 "+3312345678" "fourth" 0'

# registration
out=$(prop $MODEM Modem.Modem3gpp RegistrationState; prop $MODEM Modem State)
check "at start: searching, not registered ($(flat "$out"))" test "$out" = $'u 2\ni 7'
n=$(sig_count "member=StateChanged")
check "SetRegistration" mock SetRegistration us 1 20810
out=$(prop $MODEM Modem.Modem3gpp RegistrationState; prop $MODEM Modem.Modem3gpp OperatorCode;
	prop $MODEM Modem State)
check "registered home in 20810, modem registered ($(flat "$out"))" test "$out" = $'u 1\ns "20810"\ni 8'
wait_for 5 eval '[ "$(sig_count "member=StateChanged")" -gt "$n" ]'
check "Modem.StateChanged was emitted" test "$(sig_count "member=StateChanged")" -gt "$n"
check "PropertiesChanged on Modem3gpp" signal_has org.freedesktop.DBus.Properties PropertiesChanged \
	"string \"$MM.Modem.Modem3gpp\"" '"RegistrationState"' 'string "20810"'
check "Modem.StateChanged(7, 8, 0)" signal_has $MM.Modem StateChanged \
	$'int32 7\n   int32 8\n   uint32 0'

# location: GetLocation always; the property only with SignalsLocation
check "SetLocation" mock SetLocation ssuuu 208 10 4660 180149761 4660
out=$(call $MODEM Modem.Location GetLocation)
check "GetLocation: 3GPP LAC/CI as MCC,MNC,LAC,CI,TAC in hex ($(flat "$out"))" \
	test "$out" = 'a{uv} 1 1 s "208,10,1234,ABCDE01,1234"'
out=$(prop $MODEM Modem.Location Location)
check "without SignalsLocation the Location property stays empty ($(flat "$out"))" test "$out" = "a{uv} 0"
check "Location.Setup(3GPP LAC/CI, signal)" call $MODEM Modem.Location Setup ub 1 true
out=$(prop $MODEM Modem.Location Location; prop $MODEM Modem.Location SignalsLocation)
check "then the Location property has it ($(flat "$out"))" \
	test "$out" = $'a{uv} 1 1 s "208,10,1234,ABCDE01,1234"\nb true'
n=$(sig_count "ABCDE02")
mock SetLocation ssuuu 208 10 4660 180149762 4660 >/dev/null
out=$(prop $MODEM Modem.Location Location)
check "SetLocation changes it ($(flat "$out"))" test "$out" = 'a{uv} 1 1 s "208,10,1234,ABCDE02,1234"'
wait_for 5 grep -q "ABCDE02" "$T/signals.log"
check "PropertiesChanged(Location) was emitted" \
	signal_has org.freedesktop.DBus.Properties PropertiesChanged "string \"$MM.Modem.Location\"" \
	'"Location"' '"208,10,1234,ABCDE02,1234"'
out=$(call $MODEM Modem.Location Setup ub 4 true 2>&1)
check "Setup with an unsupported source is refused ($(flat "$out"))" contains "$out" "unsupported"

check "SetAccessTechnologies" mock SetAccessTechnologies u 16384
out=$(prop $MODEM Modem AccessTechnologies)
check "AccessTechnologies is lte ($(flat "$out"))" test "$out" = "u 16384"

# an outgoing call
out=$(mock AddOutgoingCall s +3399887766)
CALL=$(path_of "$out")
check "AddOutgoingCall gives a call ($CALL)" contains "$CALL" "$MMP/Call/"
wait_for 5 grep -q "member=CallAdded" "$T/signals.log"
check "Voice.CallAdded was emitted with it" signal_has $MM.Modem.Voice CallAdded "\"$CALL\""
out=$(prop "$CALL" Call Direction; prop "$CALL" Call Number; prop "$CALL" Call State)
check "the call: outgoing, its number, dialing ($(flat "$out"))" test "$out" = $'i 2\ns "+3399887766"\ni 1'
out=$(call $MODEM Modem.Voice ListCalls)
check "Voice.ListCalls has it ($(flat "$out"))" test "$out" = "ao 1 \"$CALL\""
check "Call.Hangup" call "$CALL" Call Hangup
out=$(prop "$CALL" Call State)
check "the call is terminated ($(flat "$out"))" test "$out" = "i 7"
out=$(mock GetHungUpCalls)
check "GetHungUpCalls has it ($(flat "$out"))" test "$out" = "ao 1 \"$CALL\""

# a multipart SMS: added while receiving, complete a moment later
out=$(mock ReceiveSmsMultipart say +33600000009 4 0xde 0xad 0xbe 0xef)
SMSM=$(path_of "$out")
out=$(prop "$SMSM" Sms State; prop "$SMSM" Sms Data)
check "multipart: receiving at first, no data yet ($(flat "$out"))" test "$out" = $'u 2\nay 0'
wait_for 5 eval '[ "$(prop "$SMSM" Sms State)" = "u 3" ]'
out=$(prop "$SMSM" Sms State; prop "$SMSM" Sms Data)
check "multipart: then received with its data ($(flat "$out"))" test "$out" = $'u 3\nay 4 222 173 190 239'

# the modem leaving and coming back
n=$(sig_count "member=InterfacesAdded")
check "RemoveModem" mock RemoveModem
out=$(busctl --system call $MM $MMP org.freedesktop.DBus.ObjectManager GetManagedObjects)
check "no modem listed ($(flat "$out"))" test "$out" = "a{oa{sa{sv}}} 0"
check "InterfacesRemoved was emitted" \
	signal_has org.freedesktop.DBus.ObjectManager InterfacesRemoved "\"$MODEM\"" "\"$MM.Modem.Messaging\""
check "AddModem" mock AddModem
wait_for 5 eval '[ "$(sig_count "member=InterfacesAdded")" -gt "$n" ]'
check "InterfacesAdded was emitted" test "$(sig_count "member=InterfacesAdded")" -gt "$n"

# the mock restarting: gone from the bus, then back, fresh
mm_stop
check "the mock stopped: the name is gone" wait_for 5 eval '! mm_up'
mm_start -p '{"registration_state": 1, "operator_code": "20801", "modem_delay": 0.5}'
check "the mock restarted: the name is back" mm_up
wait_for 5 eval 'busctl --system call $MM $MMP org.freedesktop.DBus.ObjectManager GetManagedObjects | grep -q Modem/0'
check "... with its modem (added late, as ModemManager probing)" \
	bash -c "busctl --system call $MM $MMP org.freedesktop.DBus.ObjectManager GetManagedObjects | grep -q Modem/0"
out=$(call $MODEM Modem.Messaging List; prop $MODEM Modem.Modem3gpp OperatorCode)
check "... fresh, with the parameters given ($(flat "$out"))" test "$out" = $'ao 0\ns "20801"'
check "the mock's calls were logged" grep -q "ReceiveSms" "$T/mm-calls-1.log"
done_testing
