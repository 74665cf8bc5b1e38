#!/bin/bash
# Bad configurations: a clear error naming file:line and the key, a
# non-zero exit, and nothing started.
. "${top_srcdir:-.}/tests/lib.sh"

# bad CONTENT EXPECTED-MESSAGE
bad() {
	local content=$1 want=$2 f="$T/bad.conf" out rc
	printf '%b' "$content" >"$f"
	out=$("$DMSCGW" -t -c "$f" 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && [ "$out" = "dmscgw: $f:$want" ]; then
		ok "rejected: $want"
	else
		not_ok "rejected: $want (rc=$rc, got: $out)"
	fi
}

bad '[card]\nfoo = 1\n'                 "2: unknown key 'foo' in section [card]"
bad '[nosuch]\n'                        "1: unknown section [nosuch]"
bad 'reader = *\n'                      "1: key 'reader' outside of any [section]"
bad '[card]\nreader\n'                  "2: expected 'key = value', got 'reader'"
bad '[card\n'                           "1: malformed section header '[card'"
bad '[card]\nretry_min = abc\n'         "2: card.retry_min: 'abc' is not a whole number from 1 to 3600"
bad '[card]\nretry_max = 0\n'           "2: card.retry_max: '0' is not a whole number from 1 to 3600"
bad '[card]\nretry_min = -1\n'          "2: card.retry_min: '-1' is not a whole number from 1 to 3600"
bad '[card]\nshare = maybe\n'           "2: card.share: 'maybe' is not one of shared, exclusive"
bad '[card]\nprotocol = t2\n'           "2: card.protocol: 't2' is not one of any, t0, t1"
bad '[card]\nreader =\n'                "2: card.reader: empty value"
bad '[card]\nreader = a\nreader = b\n'  "3: card.reader: set twice"
bad '[daemon]\ndebug = card,bogus\n'    "2: daemon.debug: unknown module 'bogus' (known: all,main,conf,card,cat,wakeup,trace,ctl,bip,dm,sms)"
bad '# ok\n[card]\n = 3\n'              "3: missing key before '='"
bad '[card]\nreader = "abc\n'           "2: unterminated quoted value"
bad "[card]\nreader = $(printf 'x%.0s' $(seq 1 300))\n" "2: card.reader: value longer than 255 characters"
bad '[card]\nretry_min = 10\nretry_max = 5\n' " card.retry_min (10) is larger than card.retry_max (5)"
bad '[wakeup]\nsources = timer,nope\n'  "2: wakeup.sources: unknown wake-up source 'nope' (known: profile-download, timer, location, call-control)"
bad '[bip]\napplications = 80:7\n'       "2: bip.applications: '80:7' is not PORT:TYPE:NAME (port 1-65535, type in hex)"
bad '[terminal]\nimei = 1234\n'        "2: terminal.imei: '1234' is not 15 digits"
# the keys their modules check, still at file:line
bad '[dm_sc]\nclient_nonce = not*base64\n' "2: dm_sc.client_nonce: not base64 of 1 to 128 bytes"
bad '[dm_sc]\n\nserver_nonce = QQ=A\n'   "3: dm_sc.server_nonce: not base64 of 1 to 128 bytes"
bad "[dm_sc]\nserver_nonce = $(printf 'A%.0s' $(seq 1 172))\n" "2: dm_sc.server_nonce: not base64 of 1 to 128 bytes"
bad '[dm_sc]\nauth = plain\n'            "2: dm_sc.auth: 'plain' is not one of basic, digest, hmac"
bad '[dm_sc]\npsk_key = abc\n'           "2: dm_sc.psk_key: not 1 to 64 bytes in hex"
# issue 14 item 6: values taken as they came, now checked at load
bad '[dm_sc]\naddr = 127.0.0.1:4116/OMA/DM\n' "2: dm_sc.addr: '127.0.0.1:4116/OMA/DM': not an http:// or https:// URL"
bad '[dm_sc]\naddr = ftp://127.0.0.1/OMA/DM\n' "2: dm_sc.addr: 'ftp://127.0.0.1/OMA/DM': not an http:// or https:// URL"
bad '[dm_sc]\naddr = https://127.0.0.1:70000/OMA/DM\n' "2: dm_sc.addr: 'https://127.0.0.1:70000/OMA/DM': bad port"
bad '[dm_sc]\naddr = https://[::1/OMA/DM\n' "2: dm_sc.addr: 'https://[::1/OMA/DM': bad IPv6 literal"
bad '[dm_sc]\naddr = https:///OMA/DM\n' "2: dm_sc.addr: 'https:///OMA/DM': no host"
bad '[dm]\nstate_dir = state\n'          "2: dm.state_dir: 'state' is not an absolute path"
bad '[trace]\nfile = t.pcap\n'           "2: trace.file: 't.pcap' is not an absolute path"
bad '[bip]\napplications = 5000:7:a,5000:5:b\n' "2: bip.applications: port 5000 listed twice"
bad '[bip]\napplications = 5000:5:a\n[dm]\nclient_port = 5000\n' "4: dm.client_port: port 5000 is also in bip.applications"
bad '[dm]\nmax_obj_size = 1\n'           "2: dm.max_obj_size: '1' is not a whole number from 512 to 1048576"
bad '[dm]\nmax_msg_size = 65536\nmax_obj_size = 4096\n' " dm.max_obj_size (4096) is smaller than dm.max_msg_size (65536)"
bad '[terminal]\nimei = abcdefghijklmno\n' "2: terminal.imei: 'abcdefghijklmno' is not 15 digits"
bad '[terminal]\nimei = 490154203237519\n' "2: terminal.imei: '490154203237519' has a wrong check digit (Luhn, TS 23.003 B.2: 8 expected)"
bad '[trace]\nudp = junk\n'              "2: trace.udp: UDP address \"junk\": \"junk\" is not a numeric IPv4 address"
bad '[daemon]\ndebug = card,,cat\n'      "2: daemon.debug: empty item in 'card,,cat'"
bad '\xef\xbb\xbf[nosuch]\n'             "1: unknown section [nosuch]"

# a byte-order mark is skipped
printf '\xef\xbb\xbf[card]\nreader = x\n' >"$T/bom.conf"
check "a UTF-8 byte-order mark at the start is skipped" "$DMSCGW" -t -c "$T/bom.conf"

# --bus: a usage error, before anything is read
out=$("$DMSCGW" -t --bus=bogus -c "$top_srcdir/conf/dmscgw.conf" 2>&1); rc=$?
check "--bus=bogus: usage error 2 naming the accepted forms" test $rc -eq 2 -a \
	"$out" = "dmscgw: --bus: 'bogus' is not system, session, none or a D-Bus address (unix:path=..., unix:abstract=..., tcp:host=...,port=...)"
for b in unix:path= tcp:host=localhost unix:tmpdir=/tmp 'tcp:port=1,host=' system2; do
	"$DMSCGW" -t --bus="$b" -c "$top_srcdir/conf/dmscgw.conf" >/dev/null 2>&1
	check "--bus=$b: usage error 2" test $? -eq 2
done
for b in system session none unix:path=/run/dbus/system_bus_socket \
	 unix:abstract=/tmp/dbus-x tcp:host=127.0.0.1,port=12345,family=ipv4; do
	check "--bus=$b is accepted" "$DMSCGW" -t --bus="$b" -c "$top_srcdir/conf/dmscgw.conf"
done

# --trace: an absolute path, as [trace] file
out=$("$DMSCGW" -t --trace=t.pcap -c "$top_srcdir/conf/dmscgw.conf" 2>&1); rc=$?
check "--trace=t.pcap: usage error 2" test $rc -eq 2 -a \
	"$out" = "dmscgw: --trace: 't.pcap' is not an absolute path"

# a FIFO as the configuration: refused at once, not an open() for ever
mkfifo "$T/fifo.conf"
out=$(timeout 10 "$DMSCGW" -t -c "$T/fifo.conf" 2>&1); rc=$?
check "a FIFO as the config file: exit 1 (not the timeout's 124)" test $rc -eq 1
check "a FIFO as the config file: 'not a regular file'" \
	test "$out" = "dmscgw: $T/fifo.conf: not a regular file"

# a FIFO as the management tree: the daemon stops with a clear error
mkdir -p "$T/fstate"
mkfifo "$T/fstate/tree"
printf '[card]\nreader = none\n[dm]\nstate_dir = %s/fstate\n' "$T" >"$T/fifotree.conf"
timeout -s KILL 10 "$DMSCGW" -f --bus=none -c "$T/fifotree.conf" >"$T/fifotree.out" 2>&1
rc=$?
check "a FIFO as the tree file: exit 1 (not killed after 10 s)" test $rc -eq 1
check "a FIFO as the tree file: 'not a regular file'" \
	grep -q "cannot load $T/fstate/tree: $T/fstate/tree: not a regular file" "$T/fifotree.out"

# a missing file
out=$("$DMSCGW" -t -c "$T/none.conf" 2>&1); rc=$?
check "missing file: exit 1 and says so" \
	test $rc -eq 1 -a "$out" = "dmscgw: $T/none.conf: cannot open: No such file or directory"

# the daemon itself (not -t) exits non-zero having started nothing
printf '[card]\nreader = x\nbogus = 1\n' >"$T/bad.conf"
"$DMSCGW" -f -c "$T/bad.conf" >"$T/run.out" 2>&1
rc=$?
check "daemon with a bad config exits 1" test $rc -eq 1
check "daemon names file:line and the key" \
	grep -qx "dmscgw: $T/bad.conf:3: unknown key 'bogus' in section \[card\]" "$T/run.out"
check "nothing was started (no start-up log line)" \
	bash -c "! grep -q started '$T/run.out'"

# good configurations pass
check "the shipped dmscgw.conf is valid" "$DMSCGW" -t -c "$top_srcdir/conf/dmscgw.conf"
printf '; comment\n[card]\n  reader = "  spaced  "  \n\n[daemon]\ndebug = card, cat\n' >"$T/good.conf"
check "comments, blanks, quotes and module lists are accepted" "$DMSCGW" -t -c "$T/good.conf"
check "quoted value keeps its blanks, and is dumped quoted" \
	grep -qx 'reader = "  spaced  "' <("$DMSCGW" --dump-config -c "$T/good.conf")
"$DMSCGW" --dump-config -c "$T/good.conf" >"$T/dumped.conf"
check "the dump reads back to the same configuration" \
	cmp -s "$T/dumped.conf" <("$DMSCGW" --dump-config -c "$T/dumped.conf")
out=$("$DMSCGW" --bogus 2>&1); rc=$?
check "unknown option: usage error 2" test $rc -eq 2
done_testing
