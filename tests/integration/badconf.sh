#!/bin/bash
# Bad configurations: a clear error naming file:line and the key, a
# non-zero exit, and nothing started.
. "${top_srcdir:-.}/tests/lib.sh"


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
bad '[daemon]\ndebug = card,bogus\n'    "2: daemon.debug: unknown module 'bogus' (known: all,main,conf,card,cat,wakeup,trace,ctl,bip,dm,sms,link)"
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
bad '[dm_sc]\ntcpip_addr = ftp://localuicc/OMA/DM\n' "2: dm_sc.tcpip_addr: 'ftp://localuicc/OMA/DM': not an http:// or https:// URL"
bad '[link]\nmatch = cdc_eem\n'          "2: link.match: 'cdc_eem': a condition is not KEY=GLOB"
bad '[link]\nmatch = Driver=cdc_eem\n'   "2: link.match: 'Driver=cdc_eem': a key is not name, driver or a udev property name (A-Z, 0-9, _)"
bad '[link]\nmatch =\n'                  "2: link.match: '': no condition"
bad '[link]\nmatch = A=1 B=2 C=3 D=4 E=5\n' "2: link.match: 'A=1 B=2 C=3 D=4 E=5': more than 4 conditions"
bad '[link]\n\ncard_address = localuicc\n' "3: link.card_address: 'localuicc' is not an IPv4 or IPv6 address"
bad '[link]\ncard_address = 10.0.0.2/30\n' "2: link.card_address: '10.0.0.2/30' is not an IPv4 or IPv6 address"
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
