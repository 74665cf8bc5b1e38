#!/bin/bash
# SIGKILL: of pcscd in the middle of a download (it is started again), and
# of the daemon at several points of a DM session.  What a user checks:
# the daemon answers, the tree reloads (old or new, never mixed or
# corrupt), the next session works.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null || skip_all "curl is not installed"
CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
DP=$(another_port)
PSK=00112233445566778899aabbccddeeff
start_pcscd
start_bus
card_www
head -c 2000000 /dev/urandom >"$T/www/big"
write_conf "
$(dm_sc_conf "$DP" "$PSK")"

# --- pcscd SIGKILLed mid-download, then started again -------------------
start_daemon
start_vuicc --scws "$SP" --www "$T/www"
wait_listening "$SP"
curl -s --max-time 60 -o "$T/got" "http://127.0.0.1:$SP/big" >/dev/null 2>&1 & CURL=$!; PIDS+=($CURL)
wait_for 30 bash -c "[ \"\$(stat -c %s '$T/got' 2>/dev/null || echo 0)\" -gt 100000 ]" ||
	bail "the download did not start"
kill -KILL "$PCSCD_PID"; wait "$PCSCD_PID" 2>/dev/null
wait "$CURL"; rc=$?
check "pcscd killed: the client mid-download is let go (curl $rc)" test "$rc" -ne 28
check "... the daemon still answers" "$CTL" status
stop_vuicc
start_pcscd
start_vuicc --scws "$SP" --www "$T/www"
wait_listening "$SP"
check "pcscd back: the card serves again, byte-exact" \
	bash -c "curl -sf --max-time 60 http://127.0.0.1:$SP/big -o '$T/got2' && cmp '$T/got2' '$T/www/big'"
stop_daemon
stop_vuicc

# --- the daemon SIGKILLed at message N of a session ---------------------
session_card() {	# session_card TAG: a session of three packages
	cat <<EOS
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 30
expect profile *
expect envelope DC*
dm-add ./K$1 node - expect 200
dm-add ./K$1/A chr a expect 200
dm-package
dm-add ./K$1/B chr b expect 200
dm-replace ./K$1/A chr a2 expect 200
dm-package
dm-delete ./K$1/B expect 200
dm-add ./K$1/C chr c expect 200
dm-notify
expect dm-session
expect dm-end any
EOS
}
for n in 1 2 3; do
	session_card "$n" >"$T/card.scn"
	mv "$T/dmscgw.log" "$T/dmscgw-$n.log" 2>/dev/null
	# each round on a fresh pcscd: the kills are the daemon's, not its
	stop_pcscd
	start_pcscd
	start_daemon
	start_vuicc --scws-tls "$DP" --psk-identity dmsc --psk "$PSK" -s "$T/card.scn"
	wait_count 30 "$T/dmscgw.log" "session .*: server message $n," 1 ||
		bail "the session did not get to message $n"
	kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
	stop_vuicc
	mv "$T/dmscgw.log" "$T/dmscgw-$n-killed.log"
	start_daemon
	wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1
	check "killed at message $n: the restarted daemon answers" "$CTL" status
	check "... its tree loaded, not corrupt" \
		bash -c "grep -q 'management tree loaded from' '$T/dmscgw.log' && ! grep -q corrupt '$T/dmscgw.log'"
	a=$("$CTL" tree get "./K$n/A" 2>&1)
	check "... the tree is as one of the messages left it (./K$n/A: $a)" \
		bash -c "[[ '$a' == a || '$a' == a2 || '$a' == *'not found'* || '$a' == *NotFound* ]]"
	stop_daemon
done
# and the next session works
session_card 9 >"$T/card.scn"
stop_pcscd
start_pcscd
start_daemon
start_vuicc --scws-tls "$DP" --psk-identity dmsc --psk "$PSK" -s "$T/card.scn"
wait_for 30 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "after the kills the next session finishes" \
	grep -qE "session .* with DMSC01 finished" "$T/dmscgw.log"
check "... and its three packages are in the tree" \
	test "$("$CTL" tree get ./K9/C 2>&1)" = c
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
