#!/bin/bash
# The card's web server over TLS 1.2 with a pre-shared key (--scws-tls, the
# OMA DM_SC port), through the daemon's BIP proxy: openssl s_client on
# 127.0.0.1 and [::1] gets the card's page byte-exact; a wrong key or
# identity fails on both sides with an alert and the channel listens again;
# plain HTTP on a --scws channel of the same card is untouched.
# lib.sh is bash: run by sh (dash), start again under bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
command -v openssl >/dev/null || skip_all "openssl is not installed"
openssl ciphers -tls1_2 PSK-AES128-CBC-SHA >/dev/null 2>&1 ||
	skip_all "openssl has no PSK-AES128-CBC-SHA"

ID=dmsc-test
PSK=000102030405060708090A0B0C0D0E0F
BAD=0F0E0D0C0B0A09080706050403020100
CTL=$top_builddir/dmscgwctl

"$VUICC" -p 1 --scws-tls 4116 >"$T/usage.log" 2>&1
rc=$?
check "--scws-tls without --psk is a usage error (exit $rc)" \
	bash -c "[ $rc -eq 2 ] && grep -q -- '--psk' '$T/usage.log'"

pick_port
TP=$(another_port)
SP=$(another_port)
start_pcscd
start_bus
card_www
write_conf
start_daemon
start_vuicc -v --scws-tls "$TP" --scws "$SP" --psk-identity "$ID" \
	--psk "$PSK" --www "$T/www"
wait_listening "$TP" "$SP"

# tls_get NAME HOST:PORT [KEY [IDENTITY]]: GET / through s_client, its
# output in $T/NAME.out (stdout and stderr), its status returned
tls_get() {
	printf 'GET / HTTP/1.1\r\nHost: card\r\nConnection: close\r\n\r\n' |
		timeout 10 openssl s_client -connect "$2" -psk "${3:-$PSK}" \
			-psk_identity "${4:-$ID}" -cipher PSK-AES128-CBC-SHA \
			-tls1_2 -ign_eof >"$T/$1.out" 2>&1
}

# body NAME: the body of the one HTTP response in $T/NAME.out, framed by
# its Content-Length, into $T/NAME.body
body() {
	python3 - "$T/$1.out" "$T/$1.body" <<'EOF'
import re, sys
raw = open(sys.argv[1], 'rb').read()
at = raw.find(b'HTTP/1.1 200 ')
head_end = raw.find(b'\r\n\r\n', at)
assert at >= 0 and head_end > at, 'no 200 response'
head = raw[at:head_end].decode('latin-1')
n = int(re.search(r'(?im)^content-length:\s*(\d+)', head).group(1))
body = raw[head_end + 4:head_end + 4 + n]
assert len(body) == n, 'short body'
open(sys.argv[2], 'wb').write(body)
EOF
}

# tls_page NAME HOST:PORT: TLS 1.2 with PSK-AES128-CBC-SHA, the page
tls_page() {
	tls_get "$1" "$2" &&
		grep -q "Cipher is PSK-AES128-CBC-SHA" "$T/$1.out" &&
		grep -q "Protocol  *: TLSv1.2" "$T/$1.out" &&
		body "$1" && cmp "$T/$1.body" "$T/www/index.html"
}

# tls_state: the daemon's state of the channel on the TLS port
tls_state() {
	"$CTL" channels | awk -F'\t' -v p="$TP" '$4 == p { print $3 }'
}

tls_listening() {
	[ "$(tls_state)" = listen ]
}

# HTTP on the plain port, byte-exact
plain_page() {
	curl -sf "http://127.0.0.1:$SP/" -o "$T/$1" && cmp "$T/$1" "$T/www/index.html"
}

not_tls() {
	! tls_get "$@"
}

# check_alert DESCRIPTION NAME ALERT STATUS: s_client ($T/NAME.out, exit
# STATUS) failed on the card's ALERT and got no response.
# check_alert DESC NAME ALERT STATUS: s_client failed with the card's alert
# and got no page (the daemon sends the card's last bytes before it closes)
check_alert() {
	local d=$1 out=$T/$2.out
	check "$d" bash -c "[ '$4' -ne 0 ] && [ '$4' -ne 124 ] &&
		grep -qi 'alert $3' '$out' && ! grep -q 'HTTP/1.1' '$out'"
}

# alert_then_close DESC: in the exchange log, a SEND DATA whose data is the
# fatal alert DESC (TLS 1.2 record 15 0303 0002 02 DESC), "send now", and
# the card's next command CLOSE CHANNEL back to LISTEN on the same channel
alert_then_close() {
	python3 - "$T/card.log" "$1" <<'EOF'
import re, sys
cmds = [l[2:].strip() for l in open(sys.argv[1]) if l.startswith('< D0')]
alert = '150303000202' + sys.argv[2].upper()
for i, c in enumerate(cmds):
    m = re.fullmatch(r'D0128103..43018202(812[1-7])B607' + alert + '9000', c)
    if m:
        nxt = cmds[i + 1] if i + 1 < len(cmds) else ''
        assert re.fullmatch(r'D0098103..41018202' + m.group(1) + '9000', nxt), nxt
        sys.exit(0)
sys.exit('no SEND DATA of the alert')
EOF
}

check "s_client over IPv4: PSK-AES128-CBC-SHA handshake and the card's page, byte-exact" \
	tls_page v4 "127.0.0.1:$TP"
check "s_client over IPv6: the same" tls_page v6 "[::1]:$TP"

# tls_echo NAME FILE: POST /echo of FILE, closing, through s_client
tls_echo() {
	{
		printf 'POST /echo HTTP/1.1\r\nHost: card\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
			"$(stat -c %s "$2")"
		cat "$2"
	} | timeout 20 openssl s_client -connect "127.0.0.1:$TP" -psk "$PSK" \
		-psk_identity "$ID" -cipher PSK-AES128-CBC-SHA -tls1_2 -quiet \
		-nocommands >"$T/$1.out" 2>"$T/$1.err" &&
		body "$1" && cmp "$T/$1.body" "$2"
}
head -c 45000 /dev/urandom | base64 >"$T/post"
check "a 60 kB POST /echo over TLS comes back byte-exact before the close" \
	tls_echo echo "$T/post"
check "the card saw the handshake" \
	grep -q "TLS: TLSv1.2 handshake done, PSK-AES128-CBC-SHA, identity '$ID'" \
	"$T/vuicc.log"

CLOSE_RE='^< D0098103..41018202812[1-7]9000$'
wait_for 5 tls_listening
closes=$(count_lines "$T/card.log" "$CLOSE_RE")
tls_get bad "127.0.0.1:$TP" "$BAD"
rc=$?
# s_client prints the cipher of the ServerHello even when the handshake
# fails later: the alert and the missing response are what tell.
check_alert "a wrong key: s_client fails (status $rc) with the card's alert" \
	bad "bad record mac" $rc
check "the card logs the failure with OpenSSL's reason and the alert it sent" \
	grep -qE "channel [1-7]: TLS handshake failed: decryption failed or bad record mac.*sent fatal alert bad record mac" \
	"$T/vuicc.log"
wait_count 5 "$T/card.log" "$CLOSE_RE" $((closes + 1))
check "the card sends the alert (bad_record_mac), then CLOSE CHANNEL 01" \
	alert_then_close 14
check "the daemon's channel is in LISTEN again" wait_for 5 tls_listening

wait_for 5 tls_listening
closes=$(count_lines "$T/card.log" "$CLOSE_RE")
tls_get badid "127.0.0.1:$TP" "$PSK" nobody
rc=$?
check_alert "an unknown identity: s_client fails (status $rc) with unknown PSK identity" \
	badid "unknown psk identity" $rc
check "the card logs the identity it did not know" \
	grep -q "unknown identity 'nobody'" "$T/vuicc.log"
wait_count 5 "$T/card.log" "$CLOSE_RE" $((closes + 1))
check "the card sends the alert (unknown_psk_identity), then CLOSE CHANNEL 01" \
	alert_then_close 73

check "then a client with the right key gets the page again" \
	tls_page again "127.0.0.1:$TP"
check "plain HTTP on the --scws channel of the same card still works" \
	plain_page plain
check "a TLS client on the --scws port gets no TLS" \
	not_tls plaintls "127.0.0.1:$SP"
check "and HTTP still works there after that" plain_page plain2
"$CTL" channels | diag
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
