#!/bin/bash
# Bad arguments over D-Bus: each gets a named error with a clear message,
# nothing changes, and the daemon keeps serving.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
start_bus
write_conf
start_daemon
start_vuicc
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no profile"
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1

mgr="org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager"
card="org.dmscgw1 /org/dmscgw1/card/1 org.dmscgw1.Card"
long=$(printf '9%.0s' $(seq 1 300))
# err EXPECTED-NAME DESCRIPTION BUSCTL-ARGS...: a call failing with that error
err() {
	local name=$1 what=$2 out
	shift 2
	out=$(busctl --system call "$@" 2>&1)
	if contains "$out" "$name"; then ok "$what: $name"; else not_ok "$what: want $name, got: $out"; fi
}

envelopes_before=$(count_lines "$T/card.log" "^> 80C2")
err "must be one BER-TLV object" "envelope that is not BER-TLV" $card Envelope ay 3 0x01 0x02 0x03
err "must be one BER-TLV object" "envelope with a lying length" $card Envelope ay 3 0xD6 0x05 0x01
err "must be one BER-TLV object" "empty envelope" $card Envelope ay 0
err "Unknown object" "unknown card" org.dmscgw1 /org/dmscgw1/card/99 org.dmscgw1.Card Envelope ay 2 0xD6 0x00
err "no card in reader" "call control on an unknown reader" $mgr CallControl ss "Nope" 123
err "number must be digits" "overlong number" $mgr CallControl ss "" "$long"
err "number must be digits" "empty number" $mgr CallControl ss "" ""
err "mcc must be 3 digits" "overlong mcc" $mgr SetLocation sssuus normal "$long" 01 1 1 eutran
err "lac must be" "lac out of range" $mgr SetLocation sssuus normal 001 01 70000 1 eutran
err "rat 'lte' is not" "unknown rat" $mgr SetLocation sssuus normal 001 01 1 1 lte
err "absolute path" "relative trace file" $mgr StartTrace s "trace.pcap"
err "absolute path" "overlong trace file" $mgr StartTrace s "/$long"
err "/nonexistent/dir/t.pcap: No such file or directory" "unwritable trace file" $mgr StartTrace s "/nonexistent/dir/t.pcap"

# busctl shows the message; dbus-send shows the error names themselves.
# name EXPECTED-NAME DESCRIPTION DBUS-SEND-ARGS...
name() {
	local want=$1 what=$2 out
	shift 2
	out=$(dbus-send --system --print-reply --dest=org.dmscgw1 "$@" 2>&1)
	if contains "$out" "Error $want:"; then ok "$what is $want"; else not_ok "$what: want $want, got: $out"; fi
}
name org.dmscgw1.Error.InvalidArgs "envelope not BER-TLV" \
	/org/dmscgw1/card/1 org.dmscgw1.Card.Envelope array:byte:1,2,3
name org.freedesktop.DBus.Error.UnknownObject "unknown card object" \
	/org/dmscgw1/card/99 org.dmscgw1.Card.Envelope array:byte:0xD6,0
name org.dmscgw1.Error.NoCard "call control, unknown reader" \
	/org/dmscgw1 org.dmscgw1.Manager.CallControl string:Nope string:123
name org.dmscgw1.Error.InvalidArgs "call control, overlong number" \
	/org/dmscgw1 org.dmscgw1.Manager.CallControl string: string:$long
name org.dmscgw1.Error.Failed "unwritable trace" \
	/org/dmscgw1 org.dmscgw1.Manager.StartTrace string:/nonexistent/t.pcap
name org.freedesktop.DBus.Error.InvalidArgs "wrong argument types" \
	/org/dmscgw1 org.dmscgw1.Manager.SetLocation string:normal
err "nvalid" "wrong types (s for sssuus)" $mgr SetLocation s normal
err "nvalid" "wrong types (u for ay)" $card Envelope u 5
err "Unknown method" "unknown method" $mgr Explode
check "no envelope reached the card" test "$(count_lines "$T/card.log" "^> 80C2")" -eq "$envelopes_before"
check "the daemon keeps serving" busctl --system get-property $mgr State
out=$(busctl --system call $card Envelope ay 3 0xD6 0x01 0x00 2>&1)
check "a good envelope still works ($out)" test "$out" = "qay 36864 0"
check "the tracing property is still empty" test "$(busctl --system get-property $mgr Tracing)" = 's ""'
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
