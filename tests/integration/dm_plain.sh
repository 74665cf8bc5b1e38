#!/bin/bash
# A DM session over plain HTTP (DM_SC SCR C-008, mandatory; the account's
# AppAddr is http://): the off-line trigger, then the session with the
# card's DM_SC server through its unencrypted SCWS port, in XML and WBXML.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
start_pcscd
start_bus
write_conf "
encoding = wbxml

$(dm_sc_http_conf "$SP")"

cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 30
expect profile *
expect envelope DC*
dm-add ./Plain chr over-http expect 200
dm-get ./DevInfo/DevId expect 200
dm-package
dm-replace ./Plain chr twice expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session alert 1200 format wbxml
expect dm-end completed
EOS
start_daemon
start_vuicc --scws "$SP" -v -s "$T/card.scn"

wait_for 20 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "the session over http finished" grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
check "... posted to the http:// address" \
	grep -q "POST http://127.0.0.1:$SP/OMA/DM" "$T/dmscgw.log"
check "... the card saw no TLS: its requests were SyncML" \
	test "$(grep -c 'dm: <- ' "$T/vuicc.log")" -ge 2
check "the tree: ./Plain replaced in the second package" \
	test "$("$CTL" tree get ./Plain 2>&1)" = twice
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed (every Status as expected)" \
	grep -q "all .* steps passed" "$T/vuicc.log"
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
