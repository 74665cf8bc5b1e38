#!/bin/bash
# Secrets from systemd credentials (issue 16): every secret of [dm_sc]
# (passwords, nonces, the PSK) written as credential:NAME is read from
# $CREDENTIALS_DIRECTORY/NAME, as systemd's LoadCredential= and
# LoadCredentialEncrypted= hand them to the unit.  A reference is refused,
# with file:line and the key, when the variable is unset, the file is
# missing, others may read it, or it is too large; the value is never
# shown.  Then a whole DM session over TLS-PSK whose PSK, passwords and
# server nonce all come from credentials: the card's DM_SC server checks
# each of them (Package#0 digest, both Creds, the TLS handshake).
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
PSK=00112233445566778899aabbccddeeff
SNONCE=MTIzNDU2Nzg=	# "12345678"
CRED=$T/credentials
mkdir -p "$CRED"
chmod 0700 "$CRED"
# cred NAME VALUE [MODE]: a credential as systemd makes it (0400), with the
# newline echo adds
cred() {
	echo "$2" >"$CRED/$1"
	chmod "${3:-0400}" "$CRED/$1"
}
cred dmsc-psk "$PSK"
cred dmsc-server-password srvpwd-S3CRET
cred dmsc-client-password clipwd-S3CRET
cred dmsc-server-nonce "$SNONCE"

# --- refusals (dmscgw -t) ----------------------------------------------------
unset CREDENTIALS_DIRECTORY
bad "[dm_sc]\npsk_key = credential:dmsc-psk\n" \
	"2: dm_sc.psk_key: credential dmsc-psk: \$CREDENTIALS_DIRECTORY is not set (systemd sets it for a unit with LoadCredential=)"
export CREDENTIALS_DIRECTORY=$CRED
bad "[dm_sc]\nserver_id = DMSC01\nclient_password = credential:nosuch\n" \
	"3: dm_sc.client_password: credential nosuch: no such file in \$CREDENTIALS_DIRECTORY ($CRED)"
cred readable clipwd-S3CRET 0644
bad "[dm_sc]\nclient_password = credential:readable\n" \
	"2: dm_sc.client_password: credential readable: mode 0644 lets others at it (0400 or 0440 wanted)"
head -c 300 /dev/zero | tr '\0' a >"$CRED/toobig"
chmod 0400 "$CRED/toobig"
bad "[dm_sc]\nserver_password = credential:toobig\n" \
	"2: dm_sc.server_password: credential toobig: larger than 127 bytes"
cred notahex S3CRETzz
bad "[dm_sc]\npsk_key = credential:notahex\n" \
	"2: dm_sc.psk_key: not 1 to 64 bytes in hex"
cred notb64 'S3CRET*'
bad "[dm_sc]\nserver_nonce = credential:notb64\n" \
	"2: dm_sc.server_nonce: not base64 of 1 to 128 bytes"
bad "[dm_sc]\npsk_identity = credential:dmsc-psk\n" \
	"2: dm_sc.psk_identity: only a secret ([dm_sc] passwords, nonces, psk_key) can be a credential"

# --- a DM session on secrets from credentials ---------------------------------
pick_port
SP=$(another_port)
start_pcscd
start_bus
write_conf "
encoding = xml

[dm_sc]
server_id = DMSC01
server_password = credential:dmsc-server-password
client_name = dmclient
client_password = credential:dmsc-client-password
server_nonce = credential:dmsc-server-nonce
addr = https://127.0.0.1:$SP/OMA/DM
psk_identity = dmsc
psk_key = credential:dmsc-psk"

out=$("$DMSCGW" -t -c "$T/dmscgw.conf" 2>&1); rc=$?
check "dmscgw -t: the credentials read, OK ($out)" test $rc -eq 0
"$DMSCGW" --dump-config -c "$T/dmscgw.conf" >"$T/dump" 2>&1
diag <(grep -A12 '^\[dm_sc\]' "$T/dump")
for k in server_password:dmsc-server-password client_password:dmsc-client-password \
	server_nonce:dmsc-server-nonce psk_key:dmsc-psk; do
	check "--dump-config shows ${k%%:*} as its credential" \
		grep -qx "${k%%:*} = credential:${k#*:}" "$T/dump"
done
check "... and no secret" bash -c "! grep -q -e S3CRET -e $PSK -e $SNONCE '$T/dump'"

cat >"$T/card.scn" <<EOS
dm-server DMSC01 srvpwd-S3CRET
dm-client dmclient clipwd-S3CRET
dm-nonce server $SNONCE
timeout 30
expect profile *
expect envelope DC*
dm-add ./FromCredentials chr yes expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session alert 1200 format xml
expect dm-end completed
EOS
start_daemon
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" -v -s "$T/card.scn"
wait_for 30 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "the session finished: Package#0 digest (server password and nonce), both Creds, the PSK" \
	grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed (it checked the client's credentials)" \
	grep -q "all .* steps passed" "$T/vuicc.log"
check "the tree was provisioned" test "$("$CTL" tree get ./FromCredentials 2>&1)" = yes
check "the nonce is logged by its credential, not its value" \
	grep -q "initial nonces client '', server from credential dmsc-server-nonce" "$T/dmscgw.log"
"$CTL" accounts >"$T/acc.txt" 2>&1
check "accounts: the passwords are set, masked" \
	test "$(grep -c 'AuthSecret: (set)' "$T/acc.txt")" -eq 2
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
check "no secret in the daemon's log" \
	bash -c "! grep -q -e S3CRET -e $PSK -e $SNONCE '$T/dmscgw.log'"
done_testing
