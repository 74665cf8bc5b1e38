#!/bin/bash
# A bulk download from the card's web server and a DM session at once
# (fault 1: a 1 MiB download in progress held a DM session up ~10 s).
# While the DM client's own link to the card's DM_SC server is up, the
# daemon's SEND DATA answers on the stranger's channel offer no Tx room
# (channel data length 00, TS 102 223 8.54) and the virtual card, which
# respects the offer, serves the DM channel first; before and after, the
# stranger is offered its real room.  Asserted from the daemon's APDU
# trace: the bytes of every SEND DATA answer on the stranger's channel
# during the session, the number of commands the card spent on each
# channel, and that the download still arrives whole.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
PSK=00112233445566778899aabbccddeeff
pick_port
SP=$(another_port)
start_pcscd
start_bus
write_conf "
$(dm_sc_conf "$SP" "$PSK")

[trace]
file = $T/trace.pcap"
{
	echo "dm-server DMSC01 srvpwd"
	echo "dm-client dmclient clipwd"
	echo "timeout 60"
	echo "expect profile *"
	echo "expect envelope DC*"
	echo "expect envelope D90101"
	echo "dm-add ./First node - expect 200"
	for i in $(seq 1 30); do
		echo "dm-add ./First/N$i chr value-of-node-number-$i expect 200"
	done
	echo "dm-notify"
	echo "expect dm-session alert 1200"
	echo "expect dm-end completed"
} >"$T/card.scn"
mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/big"
start_daemon
# two channels on the TLS port: the stranger's and the DM client's
start_vuicc --scws-tls "$SP" --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" \
	--www "$T/www" -v -s "$T/card.scn"
wait_listening "$SP"

printf 'GET /big HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$SP" \
	-psk_identity dmsc -psk "$PSK" -tls1_2 -cipher PSK-AES128-CBC-SHA \
	-quiet -ign_eof >"$T/download.got" 2>"$T/download.err" &
DL=$!
PIDS+=("$DL")
wait_for 30 bash -c "[ \$(stat -c %s '$T/download.got' 2>/dev/null || echo 0) -gt 65536 ]" ||
	bail "the download did not start"
"$CTL" envelope D90101 >/dev/null
wait_for 60 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "the DM session finished while the download ran" \
	grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
check "the tree got what it added" \
	test "$("$CTL" tree get ./First/N30 2>&1)" = value-of-node-number-30
wait_for 60 bash -c "! kill -0 $DL 2>/dev/null"
wait "$DL" 2>/dev/null
python3 - "$T/download.got" "$T/www/big" >"$T/body.check" <<'EOP'
import sys
got, want = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
head, sep, body = got.partition(b"\r\n\r\n")
print("whole" if sep and body == want else "%d of %d bytes" % (len(body), len(want)))
EOP
check "the download arrived whole ($(cat "$T/body.check"))" grep -qx whole "$T/body.check"
wait_for 10 grep -q "all .* steps passed\|failed" "$T/vuicc.log"
check "the card's scenario passed" grep -q "all .* steps passed" "$T/vuicc.log"
check "the daemon still answers" "$CTL" status
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0

own=$(sed -n "s/.*channel \([0-9]\): client .* connected on port $SP (the DM client).*/\1/p" "$T/dmscgw.log" | head -1)
other=$(sed -n "s/.*channel \([0-9]\): client .* connected on port $SP\$/\1/p" "$T/dmscgw.log" | head -1)
[ -n "$own" ] && [ -n "$other" ] || bail "no channels in the log (DM client: '$own', stranger: '$other')"
# The trace, in the order of the exchanges.  The DM exchange: from the
# card's first RECEIVE DATA on the DM client's channel (the link is up by
# then) to its last SEND DATA there (the client has not closed yet).
# "Served first": no command for the stranger while the card knew the DM
# channel had more - bytes left to receive (the last RECEIVE DATA answer,
# or a Data Available event, said so: the one command fetched right after
# an event may predate it) or more of a burst to send (the last SEND DATA
# was "store") - once the card had been offered no room for the stranger.
python3 - "$T/trace.pcap" "$own" "$other" "$top_srcdir/tests" >"$T/offers" <<'EOP'
import sys
sys.path.insert(0, sys.argv[4])
import apdu_trace
own, other = int(sys.argv[2]), int(sys.argv[3])
ev, fetched = [], None
for _, p in apdu_trace.records(sys.argv[1]):
    f = apdu_trace.fetched(p)
    if f:
        fetched = (f[0], f[1], f[2][0x01][2])
    elif p[1] == 0x14 and fetched:
        ev.append(fetched + (apdu_trace.response(p).get(0x37),))
        fetched = None
    elif p[1] == 0xC2 and p[5] == 0xD6:
        t = apdu_trace.tlvs(p[7:5 + p[4]])
        st, n = t.get(0x38, b"\0"), t.get(0x37)
        if st[0] & 7 == own and n is not None:
            ev.append(("available", own, 0, n))
dm = [k for k, e in enumerate(ev) if e[1] == own and e[0] in (0x42, 0x43)]
first = next(k for k in dm if ev[k][0] == 0x42)
last = max(k for k in dm if ev[k][0] == 0x43)
offers = {"before": [], "during": [], "after": []}
for k, (cmd, ch, q, room) in enumerate(ev):
    if ch == other and cmd == 0x43 and room is not None:
        when = "before" if k < first else "during" if k <= last else "after"
        offers[when].append(room[0])
ndm = nst = bad = 0
told = more = grace = False
for cmd, ch, q, n in ev[first:last + 1]:
    if cmd == "available":
        more, grace = n[0] > 0, True
        continue
    if ch == own:
        ndm += 1
        if cmd == 0x42:
            more = n is not None and n[0] > 0
        elif cmd == 0x43:
            more = not q & 0x01
    elif ch == other:
        nst += 1
        if told and more and not grace:
            bad += 1
        told = told or (cmd == 0x43 and n is not None and n[0] == 0)
    grace = False
print("dm %d" % ndm)
print("stranger %d %d" % (nst, bad))
for when, rooms in offers.items():
    print("%s %d %d" % (when, len(rooms), sum(1 for r in rooms if r == 0)))
EOP
read -r _ ndm < <(grep "^dm " "$T/offers")
read -r _ nst bad < <(grep "^stranger " "$T/offers")
read -r _ nb zb < <(grep "^before " "$T/offers")
read -r _ nd zd < <(grep "^during " "$T/offers")
read -r _ na za < <(grep "^after " "$T/offers")
check "before the session the stranger is offered room ($nb answers, $zb with none)" \
	test "$nb" -gt 0 -a "$zb" -lt "$nb"
check "during the DM exchange every answer on the stranger's channel offers no room ($zd of $nd)" \
	test "$zd" -eq "$nd"
check "the card served the DM channel first ($ndm commands on it, $nst on the stranger's, $bad of them while the DM channel had more)" \
	test "$ndm" -gt 0 -a "$bad" -eq 0
check "after it the stranger is offered room again ($na answers, $za with none)" \
	test "$na" -gt 0 -a "$za" -lt "$na"
done_testing
