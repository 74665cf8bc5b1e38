#!/bin/bash
# The DM_SC account as [dm_sc] says: the initial nonces are validated at
# load, seed the account and are the ones the first session uses (the
# card's DM_SC server is set to the same ones: its Package#0 digest and the
# client's first credentials pass); a nonce the sessions changed is not
# overwritten by an unchanged config, a changed one is applied and logged;
# an edited address and password are applied on reload, logged without the
# secret; `dmscgwctl accounts` shows the account in use with passwords
# masked; [dm] app_name names the DM client in the Terminal Applications
# envelope and the old [dm] client_name still works with a warning; notify
# takes an explicit kind, so a Package#0 whose digest starts with 06 is
# taken as one, and every refusal is logged with its reason.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
PY=python3
pick_port
SP=$(another_port)
SNONCE=MTIzNDU2Nzg=	# "12345678"
CNONCE=QUJDREVGR0g=	# "ABCDEFGH"

# conf ADDR CLIENT_PASSWORD CLIENT_NONCE [DM LINES]: the whole file
conf() {
	write_conf "
encoding = xml
app_name = dmscgwApp1
${4:-}

[dm_sc]
server_id = DMSC01
server_password = srvpwd-S3CRET
client_name = dmclient
client_password = $2
addr = $1
client_nonce = $3
server_nonce = $SNONCE"
}
ADDR=http://127.0.0.1:$SP/OMA/DM

# account FIELD: that field of the DMSC account, from dmscgwctl --json accounts
account() {
	"$CTL" --json accounts | $PY -c '
import json,sys
a = [x for x in json.load(sys.stdin)["Accounts"] if x["Account"] == "DMSC"][0]
print(a["Fields"][sys.argv[1]])' "$1"
}

# --- the configuration check ---------------------------------------------
conf "$ADDR" clipwd-S3CRET "QUJD*RA=="
out=$("$DMSCGW" -t -c "$T/dmscgw.conf" 2>&1); rc=$?
echo "$out" | diag
check "a bad client_nonce: dmscgw -t exits 1" test $rc -eq 1
line=$(grep -n "^client_nonce" "$T/dmscgw.conf" | cut -d: -f1)
check "... naming file:line and the key" \
	contains "$out" "$T/dmscgw.conf:$line: dm_sc.client_nonce: not base64 of 1 to 128 bytes"
conf "$ADDR" clipwd-S3CRET "$CNONCE"
sed -i 's/^app_name = /client_name = /' "$T/dmscgw.conf"
out=$("$DMSCGW" -t -c "$T/dmscgw.conf" 2>&1); rc=$?
echo "$out" | diag
check "the old [dm] client_name is still accepted" test $rc -eq 0
check "... with a warning that names app_name" \
	contains "$out" "[dm] client_name is deprecated: use app_name"
check "... once" test "$(grep -c deprecated <<<"$out")" -eq 1

# --- the first session uses the initial nonces ----------------------------
start_pcscd
start_bus
conf "$ADDR" clipwd-S3CRET "$CNONCE"
cat >"$T/card.scn" <<EOS
dm-server DMSC01 srvpwd-S3CRET
dm-client dmclient clipwd-S3CRET
dm-nonce server $SNONCE
dm-nonce client $CNONCE
timeout 30
expect profile *
expect envelope DC*
dm-add ./Nonces chr seeded expect 200
expect dm-session alert 1200 format xml
expect dm-end completed
EOS
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"
start_vuicc --scws "$SP" -v -s "$T/card.scn"
wait_for 10 grep -q "^> 80C20000..DC" "$T/card.log" || bail "no Terminal Applications envelope"
check "app_name is the DM client's name in the DC envelope" \
	grep -q "^> 80C20000..DC.*$(printf dmscgwApp1 | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" "$T/card.log"
check "the account was created with the initial nonces" \
	grep -q "DM_SC account DMSC: initial nonces client '$CNONCE', server '$SNONCE'" "$T/dmscgw.log"

"$CTL" accounts >"$T/acc.txt" 2>&1; rc=$?
diag "$T/acc.txt"
check "accounts: exit 0" test $rc -eq 0
check "accounts: the DMSC account" grep -qx "Account: DMSC" "$T/acc.txt"
check "... its address" grep -qx "AppAddr: $ADDR" "$T/acc.txt"
check "... the client nonce seeded" grep -qx "ClientNonce: $CNONCE" "$T/acc.txt"
check "... the server nonce seeded" grep -qx "ServerNonce: $SNONCE" "$T/acc.txt"
check "... the client's name" grep -qx "ClientAuthName: dmclient" "$T/acc.txt"
check "... passwords masked" grep -qx "ClientAuthSecret: (set)" "$T/acc.txt"
check "... both" grep -qx "ServerAuthSecret: (set)" "$T/acc.txt"
check "... configured by [dm_sc]" grep -qx "ConfiguredBy: dm_sc" "$T/acc.txt"
out=$("$CTL" --json accounts 2>&1)
check "accounts --json parses, with AAuthPref DIGEST" $PY -c '
import json,sys
a = json.loads(sys.argv[1])["Accounts"][0]
assert a["Account"] == "DMSC" and a["Fields"]["AAuthPref"] == "DIGEST", a' "$out"
check "no password in accounts" bash -c "! grep -q S3CRET '$T/acc.txt' && ! grep -q S3CRET <<<'$out'"

# A Package#0 whose digest starts with 06 (a WSP push PDU type) is taken
# as the Package#0 it is said to be, checked with the seeded server nonce.
p0=$($PY - "$SNONCE" <<'EOP'
import base64, hashlib, sys
nonce, sid, pwd = base64.b64decode(sys.argv[1]), "DMSC01", "srvpwd-S3CRET"
H = lambda b: hashlib.md5(b).digest()
B = base64.b64encode
for sess in range(1, 65536):
    trig = (12 << 30 | 1 << 27).to_bytes(5, "big") + sess.to_bytes(2, "big") + bytes([len(sid)]) + sid.encode()
    d = H(B(H((sid + ":" + pwd).encode())) + b":" + nonce + b":" + B(H(trig)))
    if d[0] == 0x06:
        print((d + trig).hex().upper()); break
EOP
)
diag <<<"Package#0 $p0"
"$CTL" notify package0 "$p0" >"$T/n.out" 2>&1; rc=$?
diag "$T/n.out"
check "notify package0 with a digest starting 06: taken" test $rc -eq 0
wait_for 30 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "the session finished: the server nonce was the seeded one" \
	grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed" grep -q "all .* steps passed" "$T/vuicc.log"
check "the client's first credentials passed: the client nonce was the seeded one" \
	bash -c "! grep -q 'client credentials refused' '$T/vuicc.log'"
check "... and the tree was provisioned" test "$("$CTL" tree get ./Nonces 2>&1)" = seeded

# --- refusals --------------------------------------------------------------
out=$("$CTL" notify push 0102 2>&1); rc=$?
check "notify with a wrong kind: usage error 2 ($out)" test $rc -eq 2
check "... naming the kinds" contains "$out" "'push' is not package0 or wap-push"
out=$(busctl --system call org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager Notify say push 1 0 2>&1); rc=$?
check "D-Bus Notify with a wrong kind: InvalidArgs ($out)" contains "$out" "kind 'push' is not package0 or wap-push"
check "... logged" grep -q "notification by dbus refused: kind 'push'" "$T/dmscgw.log"
bad=$(package0 DMSC01 srvpwd-S3CRET "$SNONCE" 0BAD bad)
out=$("$CTL" notify package0 "$bad" 2>&1); rc=$?
check "a wrong digest: exit 1 ($out)" test $rc -eq 1
check "... logged with its reason" grep -q "notification by dbus refused: digest of the notification from 'DMSC01' is wrong" "$T/dmscgw.log"
out=$("$CTL" notify package0 "$(package0 NOSUCH pw "" 0001)" 2>&1); rc=$?
check "an unknown ServerID: exit 1 ($out)" test $rc -eq 1
check "... logged with its reason" grep -q "notification by dbus refused: no DM account for server 'NOSUCH'" "$T/dmscgw.log"

# --- reloads ----------------------------------------------------------------
after=$(account ClientNonce)
check "the session gave the client a new nonce ($after)" bash -c "[ -n '$after' ] && [ '$after' != '$CNONCE' ]"
"$CTL" reload
check "an unchanged client_nonce does not overwrite it on reload" test "$(account ClientNonce)" = "$after"
srv=$(account ServerNonce)
conf "$ADDR" clipwd-S3CRET "WllZWQ=="
"$CTL" reload
check "a changed client_nonce is applied on reload" test "$(account ClientNonce)" = "WllZWQ=="
check "... and logged" grep -q "DM_SC account DMSC: client nonce (CLCRED) set to 'WllZWQ=='" "$T/dmscgw.log"
check "... the server nonce, unchanged in the file, was left alone ($srv)" test "$(account ServerNonce)" = "$srv"

NEW=http://127.0.0.1:1/OMA/DM
conf "$NEW" clipwd-N3WSECRET "WllZWQ=="
"$CTL" reload
check "a changed addr is applied on reload" test "$(account AppAddr)" = "$NEW"
check "... and logged old -> new" grep -q "DM_SC account DMSC: addr $ADDR -> $NEW" "$T/dmscgw.log"
check "a changed client password is logged, not shown" grep -q "DM_SC account DMSC: client password changed" "$T/dmscgw.log"
check "no password in the daemon's log" bash -c "! grep -qE 'S3CRET|N3WSECRET' '$T/dmscgw.log'"
check "the server password did not change: not logged" bash -c "! grep -q 'server password changed' '$T/dmscgw.log'"
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0

# a restart with the same file changes nothing
n=$(count_lines "$T/dmscgw.log" "DM_SC account DMSC:")
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"
check "a restart with the same [dm_sc]: the nonce the config set is kept" test "$(account ClientNonce)" = "WllZWQ=="
check "... and nothing is logged as changed" test "$(count_lines "$T/dmscgw.log" "DM_SC account DMSC:")" -eq "$n"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
