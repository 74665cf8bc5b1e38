#!/bin/bash
# Call control: the D4 envelope carries the number and location; the card's
# verdict (not allowed, allowed with modification, allowed) is returned to
# the caller of the D-Bus method CallControl.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
start_bus
cat >"$T/card.scn" <<'EOS'
expect profile *
on envelope D4* reply 0100
on envelope D4 .. 82028281 8604 91214365 * reply 0206860491999999
on envelope D4 .. 82028281 8603 811032 * reply -
expect envelope D4 .. 82028281 8606 913321436587 1307 00F110 0001 0001
expect envelope D4 .. 82028281 8604 91214365 *
expect envelope D4 .. 82028281 8603 811032 *
EOS
write_conf "
[terminal]
location_status = normal
rat = gsm"
start_daemon
# no --scenario-exit: the card must still answer the last envelope
start_vuicc -s "$T/card.scn"
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no profile"
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1

call() { busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager CallControl ss "" "$1" 2>&1; }
out=$(call +3312345678)
check "not allowed is reported back ($out)" test "$out" = 'ss "not-allowed" "+3312345678"'
out=$(call +123456)
check "allowed with a modified number ($out)" test "$out" = 'ss "allowed-modified" "+999999"'
out=$("$top_builddir/dmscgwctl" call 0123)
check "dmscgwctl call: allowed ($out)" contains "$out" "allowed"
check "... with the number" contains "$out" "0123"
out=$("$top_builddir/dmscgwctl" --json call +123456 2>&1)
check "dmscgwctl --json call: allowed-modified ($out)" \
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["verdict"] == "allowed-modified" and d["number"] == "+999999", d' "$out"
out=$(call 12ab)
check "a bad number is a named error" contains "$out" "number must be digits"
out=$(busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager CallControl ss "No Such Reader" 123 2>&1)
check "an unknown reader is NoCard" contains "$out" "no card in reader 'No Such Reader'"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "card scenario passed (exact D4 envelopes: address, location)" \
	grep -q "all .* steps passed" "$T/vuicc.log"
check "the verdicts are logged" grep -q "call to +3312345678: not allowed" "$T/dmscgw.log"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
