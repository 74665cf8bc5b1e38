#!/bin/bash
# tests/integration/tls_interop.sh - the DM client's HTTP(S) transport
# (src/dm/http.c, through tests/unit/http_tool) against other peers.
#
# TLS 1.2 PSK against `openssl s_server -www`.  s_server -www answers the
# first line starting "GET " and ignores the others, so our POST carries
# "GET / HTTP/1.0" as its body: the request is a real POST, and the answer is
# s_server's status page, which names the negotiated cipher.  It closes
# after each answer without close_notify, so several posts in a row also
# check that every request opens a fresh connection and SSL.
#
# TLS with certificates against `openssl s_server -www` too, with a test PKI
# made here (make_pki): the good path by name and by address, the system
# store (SSL_CERT_FILE), a client certificate, and each refusal of the
# server's certificate with its class: unknown CA, name mismatch, expired,
# not yet valid.
#
# Plain HTTP against a small Python http.server that logs the request
# headers and echoes the body: the SyncML HTTP binding's headers, byte-exact
# bodies, keep-alive, a non-200 status, and the failures (closed before an
# answer, answer too large, time-out, refused).
#
# TAP on stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"	# lib.sh is bash
. "${top_srcdir:-.}/tests/lib.sh"

TOOL=$top_builddir/tests/unit/http_tool
[ -x "$TOOL" ] || bail "$TOOL not built"
command -v openssl >/dev/null 2>&1 || skip_all "openssl not installed"
PY=/usr/bin/python3
[ -x $PY ] || PY=python3

KEY=6A0D1F3E5B2C4D7E8F90A1B2C3D4E5F6
BADKEY=6A0D1F3E5B2C4D7E8F90A1B2C3D4E5F7
ID=dmsc-client
WBXML=application/vnd.syncml.dm+wbxml
HMAC='algorithm=MD5, username="dev", mac=LRI6fiBKJ8BaRL/2/ZJUvw=='

pick_port			# $PORT: s_server, $PORT+1: never listened on
HP=$(another_port)		# the Python responder

listening() {
	[ -n "$(ss -Htln "( sport = :$1 )" 2>/dev/null)" ]
}

# tool NAME ARGS...: run http_tool, stdout in $T/NAME.out, stderr in
# $T/NAME.err, exit status in RC
tool() {
	local name=$1
	shift
	"$TOOL" "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	cat "$T/$name.err" >>"$T/http_tool.log"
}

# expect_fail NAME TEXT DESCRIPTION: http_tool exited 1 with TEXT in its
# "http_tool: ..." message
expect_fail() {
	if [ "$RC" -eq 1 ] && grep -q "^http_tool: .*$2" "$T/$1.err"; then
		ok "$3"
	else
		not_ok "$3 (exit $RC)"
		diag "$T/$1.err"
	fi
}

# ---- TLS 1.2 PSK against openssl s_server ----

openssl s_server -accept "127.0.0.1:$PORT" -nocert -psk "$KEY" \
	-psk_identity "$ID" -cipher PSK-AES128-CBC-SHA -tls1_2 -www \
	</dev/null >>"$T/s_server.log" 2>&1 &
PIDS+=("$!")
wait_for 5 listening "$PORT" || bail "openssl s_server did not start"

printf 'GET / HTTP/1.0\r\n\r\n' >"$T/get"
URL=https://127.0.0.1:$PORT/OMA/DM

tool tls --psk-identity "$ID" --psk "$KEY" --timeout 5 --out "$T/page" \
	"$URL" "$T/get"
if [ "$RC" -eq 0 ] && grep -qx 'status 200' "$T/tls.out"; then
	ok "https POST through s_server: status 200"
else
	not_ok "https POST through s_server (exit $RC)"
	diag "$T/tls.err"
fi
check "handshake negotiated TLS 1.2 with PSK-AES128-CBC-SHA" \
	grep -q 'Cipher is PSK-AES128-CBC-SHA' "$T/page"
check "s_server saw our PSK identity" \
	grep -q "PSK identity: $ID\$" "$T/page"

tool tls3 --psk-identity "$ID" --psk "$KEY" --timeout 5 --count 3 \
	--out "$T/page3" "$URL" "$T/get"
if [ "$RC" -eq 0 ] && [ "$(grep -cx 'status 200' "$T/tls3.out")" -eq 3 ] &&
   [ "$(grep -c 'Cipher is PSK-AES128-CBC-SHA' "$T/page3")" -eq 3 ]; then
	ok "three posts in a row, each on a fresh TLS connection"
else
	not_ok "three posts in a row (exit $RC)"
	diag "$T/tls3.out" "$T/tls3.err"
fi

n_err=$(count_lines "$T/s_server.log" 'bad record mac|decrypt error')
tool badpsk --psk-identity "$ID" --psk "$BADKEY" --timeout 5 "$URL" "$T/get"
expect_fail badpsk 'TLS handshake with .* failed' \
	"wrong PSK: TLS handshake failure reported"
if wait_count 5 "$T/s_server.log" 'bad record mac|decrypt error' \
	$((n_err + 1)); then
	ok "wrong PSK: s_server logged a bad record MAC"
else
	not_ok "wrong PSK: s_server logged a bad record MAC"
fi
check "wrong PSK: the key is not in our messages" \
	bash -c "! grep -qi '$BADKEY' '$T/badpsk.err' '$T/badpsk.out'"

tool tlsrefused --psk-identity "$ID" --psk "$KEY" --timeout 5 \
	"https://127.0.0.1:$((PORT + 1))/OMA/DM" "$T/get"
expect_fail tlsrefused "refused" "https to a closed port: connection refused"

# without a PSK the server must show a certificate: this one has none
tool nopsk --timeout 5 "$URL" "$T/get"
expect_fail nopsk "TLS handshake with 127.0.0.1:$PORT failed" \
	"https without a PSK to a PSK-only server: the handshake fails"

# ---- TLS with certificates against openssl s_server ----

make_pki "$T/pki" || bail "cannot make the test PKI"
PKI=$T/pki

# cert_server NAME [S_SERVER ARGS...]: s_server with NAME.crt on a new
# port, in CP
cert_server() {
	local name=$1
	shift
	CP=$(another_port)
	openssl s_server -accept "127.0.0.1:$CP" -cert "$PKI/$name.crt" \
		-key "$PKI/$name.key" -www "$@" </dev/null \
		>>"$T/s_server_$name.log" 2>&1 &
	PIDS+=("$!")
	wait_for 5 listening "$CP" || bail "openssl s_server ($name) did not start"
}

# expect_ok NAME DESCRIPTION: http_tool got status 200
expect_ok() {
	if [ "$RC" -eq 0 ] && grep -qx 'status 200' "$T/$1.out"; then
		ok "$2"
	else
		not_ok "$2 (exit $RC)"
		diag "$T/$1.err"
	fi
}

cert_server server
tool cert_name --ca "$PKI/ca.crt" --timeout 5 --out "$T/cert_page" \
	"https://localhost:$CP/OMA/DM" "$T/get"
expect_ok cert_name "certificate for localhost, trusted through --ca: status 200"
check "... over TLS 1.3" grep -q '^New, TLSv1.3' "$T/cert_page"
tool cert_ip --ca "$PKI/ca.crt" --timeout 5 "https://127.0.0.1:$CP/OMA/DM" \
	"$T/get"
expect_ok cert_ip "certificate for IP address 127.0.0.1: status 200"
SSL_CERT_FILE=$PKI/ca.crt tool cert_system --timeout 5 \
	"https://localhost:$CP/OMA/DM" "$T/get"
expect_ok cert_system "the system store (here SSL_CERT_FILE) trusts the CA: status 200"
tool cert_nosys --timeout 5 "https://localhost:$CP/OMA/DM" "$T/get"
expect_fail cert_nosys "certificate of localhost:$CP refused: unknown CA (" \
	"the real system store does not know the test CA: unknown CA"
tool cert_other --ca "$PKI/rogue.crt" --timeout 5 \
	"https://localhost:$CP/OMA/DM" "$T/get"
expect_fail cert_other "certificate of localhost:$CP refused: unknown CA (unable to get local issuer certificate)" \
	"a CA file without the server's CA: unknown CA"
tool cert_badca --ca "$PKI/client.ext" --timeout 5 \
	"https://localhost:$CP/OMA/DM" "$T/get"
expect_fail cert_badca "cannot read CA file $PKI/client.ext" \
	"a CA file with no certificate is refused up front"

# a name is looked up by evdns, on the loop: an answer or our time-out,
# never a blocked daemon (.invalid never resolves, RFC 6761)
tool noname --ca "$PKI/ca.crt" --timeout 5 "https://nonexistent.invalid/OMA/DM" \
	"$T/get"
expect_fail noname "\(cannot resolve nonexistent.invalid: \|timed out after 5 s\)" \
	"a host name that does not resolve: cannot resolve (or the time-out)"

# refused NAME HOST REASON DESCRIPTION: the running server's certificate,
# reached at HOST with the test CA, is refused for REASON
refused() {
	tool "$1" --ca "$PKI/ca.crt" --timeout 5 "https://$2:$CP/OMA/DM" "$T/get"
	expect_fail "$1" "certificate of $2:$CP refused: $3\$" "$4"
}

cert_server untrusted
refused untrusted localhost "unknown CA (unable to get local issuer certificate)" \
	"a certificate by another CA: unknown CA"

cert_server wrongname
refused wrongname localhost "name mismatch (hostname mismatch)" \
	"a certificate for wrong.example: name mismatch"
refused wrongip 127.0.0.1 "name mismatch (IP address mismatch)" \
	"a certificate for 192.0.2.1 at 127.0.0.1: name mismatch"

cert_server expired
refused expired localhost "expired (certificate has expired)" \
	"a certificate valid in 2020 only: expired"

cert_server notyet
refused notyet localhost "not yet valid (certificate is not yet valid)" \
	"a certificate valid from 2099 only: not yet valid"

cert_server server -Verify 1 -CAfile "$PKI/ca.crt"
tool client_cert --ca "$PKI/ca.crt" --cert "$PKI/client.crt" \
	--key "$PKI/client.key" --timeout 5 --out "$T/client_page" \
	"https://localhost:$CP/OMA/DM" "$T/get"
expect_ok client_cert "a server that asks for a client certificate gets ours: status 200"
check "... s_server saw CN=client" grep -q 'Subject: CN=client$' "$T/client_page"
tool no_client_cert --ca "$PKI/ca.crt" --timeout 5 \
	"https://localhost:$CP/OMA/DM" "$T/get"
expect_fail no_client_cert "certificate required" \
	"without a client certificate that server refuses us"
check "the client key is not in our messages" \
	bash -c "! grep -q 'PRIVATE' '$T/client_cert.err' '$T/no_client_cert.err'"

# ---- plain HTTP against a Python responder ----

cat >"$T/responder.py" <<'EOP'
import http.server, socketserver, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(log, "a") as f:
            f.write("request %d %s\n" % (self.client_address[1], self.path))
            for k, v in self.headers.items():
                f.write("header %s: %s\n" % (k, v))
            f.write("body %d\n" % len(body))
        if self.path == "/drop":
            self.close_connection = True
            return
        if self.path == "/slow":
            time.sleep(4)
        if self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(5 << 20))
            self.end_headers()
            self.close_connection = True
            return
        self.send_response(404 if self.path == "/missing" else 200)
        self.send_header("Content-Type", self.headers.get("Content-Type", ""))
        self.send_header("x-syncml-hmac", 'algorithm=MD5, username="srv", mac=AAAA')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("127.0.0.1", port), H).serve_forever()
EOP
$PY "$T/responder.py" "$HP" "$T/requests.log" >>"$T/responder.log" 2>&1 &
PIDS+=("$!")
wait_for 5 listening "$HP" || bail "the Python responder did not start"

head -c 3000 /dev/urandom >"$T/bin"
tool echo --type "$WBXML" --hmac "$HMAC" --timeout 5 --out "$T/echo.body" \
	"http://127.0.0.1:$HP/OMA/DM" "$T/bin"
if [ "$RC" -eq 0 ] && grep -qx 'status 200' "$T/echo.out" &&
   grep -qx "content-type $WBXML" "$T/echo.out" &&
   grep -qx 'hmac algorithm=MD5, username="srv", mac=AAAA' "$T/echo.out"; then
	ok "http POST: status, content-type and x-syncml-hmac of the answer"
else
	not_ok "http POST (exit $RC)"
	diag "$T/echo.out" "$T/echo.err"
fi
for h in "Host: 127.0.0.1:$HP" "User-Agent: dmscgw" \
	 "Content-Type: $WBXML" "Accept: $WBXML" "Cache-Control: no-store" \
	 "Content-Length: 3000" "x-syncml-hmac: $HMAC"; do
	check "request header $h" grep -qxF "header $h" "$T/requests.log"
done
check "the body came back byte-exact" cmp "$T/bin" "$T/echo.body"

: >"$T/requests.log"
tool keep --timeout 5 --count 2 --out "$T/keep.body" \
	"http://127.0.0.1:$HP/OMA/DM" "$T/bin"
peers=$(awk '$1 == "request" { print $2 }' "$T/requests.log" | sort -u | wc -l)
if [ "$RC" -eq 0 ] && [ "$(grep -cx 'status 200' "$T/keep.out")" -eq 2 ] &&
   [ "$(count_lines "$T/requests.log" '^request ')" -eq 2 ] &&
   [ "$peers" -eq 1 ]; then
	ok "two posts on one kept-alive HTTP/1.1 connection"
else
	not_ok "keep-alive (exit $RC, $peers connections)"
	diag "$T/requests.log"
fi

tool missing --timeout 5 "http://127.0.0.1:$HP/missing" "$T/bin"
if [ "$RC" -eq 0 ] && grep -qx 'status 404' "$T/missing.out"; then
	ok "a 404 is an answer, not an error"
else
	not_ok "a 404 is an answer (exit $RC)"
	diag "$T/missing.err"
fi

tool drop --timeout 5 "http://127.0.0.1:$HP/drop" "$T/bin"
expect_fail drop "connection closed before an answer" \
	"server closing without an answer"

tool big --timeout 5 "http://127.0.0.1:$HP/big" "$T/bin"
expect_fail big "larger than 4 MiB" "an answer above 4 MiB is refused"

start=$(date +%s)
tool slow --timeout 1 "http://127.0.0.1:$HP/slow" "$T/bin"
took=$(($(date +%s) - start))
expect_fail slow "timed out after 1 s" "a slow server times out"
check "the time-out took about 1 s, not the server's 4 s" test "$took" -le 3

tool refused --timeout 5 "http://127.0.0.1:$((PORT + 1))/OMA/DM" "$T/bin"
expect_fail refused "connection refused by 127.0.0.1:$((PORT + 1))" \
	"http to a closed port: connection refused"

tool badurl "ftp://127.0.0.1/x" "$T/bin"
expect_fail badurl "bad URL" "a non-HTTP URL is refused"

# ---- TLS 1.2 PSK against GnuTLS (gnutls-serv) ----
# gnutls-serv --http answers only GET with HTTP; a POST gets a bare HTML
# page with no status line, which the client must refuse as no HTTP answer.
# What is checked is the handshake, from the server's side: PSK key
# exchange, AES-128-CBC, SHA1, TLS 1.2, our identity; and a wrong key or an
# unknown identity failing on both sides.  (PSK-3DES-EDE-CBC-SHA cannot be
# tried: OpenSSL 3 has no 3DES to offer.)
if command -v gnutls-serv >/dev/null 2>&1; then
	GP=$(another_port)
	printf '%s:%s\n' "$ID" "$KEY" >"$T/pskpasswd"
	gnutls-serv -p "$GP" --http --pskpasswd "$T/pskpasswd" \
		--priority 'NORMAL:-KX-ALL:+PSK:-VERS-ALL:+VERS-TLS1.2' \
		</dev/null >>"$T/gnutls.log" 2>&1 &
	PIDS+=("$!")
	wait_for 5 listening "$GP" || bail "gnutls-serv did not start"
	tool gnutls --psk-identity "$ID" --psk "$KEY" --timeout 5 \
		--out "$T/gpage" "https://127.0.0.1:$GP/OMA/DM" "$T/get"
	expect_fail gnutls "malformed answer" \
		"https POST to gnutls-serv: its status-less page is refused"
	check "GnuTLS accepted our PSK identity" \
		grep -q "PSK authentication. Connected as '$ID'" "$T/gnutls.log"
	check "GnuTLS negotiated TLS 1.2, PSK, AES-128-CBC, SHA1" \
		grep -q -- '-(PSK)-(AES-128-CBC)-(SHA1)' "$T/gnutls.log"
	n0=$(grep -c 'Error in handshake' "$T/gnutls.log")
	tool gnutls_bad --psk-identity "$ID" --psk "$BADKEY" --timeout 5 \
		"https://127.0.0.1:$GP/OMA/DM" "$T/get"
	expect_fail gnutls_bad "TLS handshake with 127.0.0.1:$GP failed" \
		"a wrong key: our handshake fails"
	gnutls_failed() { [ "$(grep -c 'Error in handshake' "$T/gnutls.log")" -gt "$1" ]; }
	wait_for 5 gnutls_failed "$n0"
	check "... and GnuTLS's too" gnutls_failed "$n0"
	n0=$(grep -c 'Error in handshake' "$T/gnutls.log")
	tool gnutls_who --psk-identity nobody --psk "$KEY" --timeout 5 \
		"https://127.0.0.1:$GP/OMA/DM" "$T/get"
	expect_fail gnutls_who "TLS handshake with 127.0.0.1:$GP failed" \
		"an unknown identity: our handshake fails"
	wait_for 5 gnutls_failed "$n0"
	check "... and GnuTLS's too" gnutls_failed "$n0"
else
	for d in "GnuTLS peer" "GnuTLS identity" "GnuTLS cipher" \
		 "GnuTLS wrong key" "... both sides" "GnuTLS unknown identity" \
		 "... both sides"; do
		_n=$((_n + 1))
		echo "ok $_n # SKIP gnutls-serv (gnutls-bin) not installed: $d"
	done
fi

done_testing
