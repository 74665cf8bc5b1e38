#!/bin/bash
# A first run without surprises (issue 16): every key has a default, so a
# missing default config file means the defaults (one line says so) while a
# missing -c FILE is an error; --dump-config shows the -d in effect; [dm]
# state_dir is made with its parents, mode 0700, and is not needed at all
# with [dm] enable = no, which also keeps the DM client out of the Terminal
# Applications envelope; what the daemon drops it says once: the modem
# support without D-Bus, a card that does not offer the one protocol
# [card] protocol allows (naming the key).
. "${top_srcdir:-.}/tests/lib.sh"

# --- the configuration file ----------------------------------------------
def=$("$DMSCGW" --help | sed -n 's/.*configuration file (default \(.*\))$/\1/p')
if [ -e "$def" ]; then
	ok "# SKIP $def exists on this machine: its absence cannot be tried"
else
	"$DMSCGW" -t >"$T/t.out" 2>"$T/t.err"; rc=$?
	diag "$T/t.out" "$T/t.err"
	check "no $def: dmscgw -t exits 0" test $rc -eq 0
	check "... and says OK, with the defaults" \
		test "$(cat "$T/t.out")" = "$def: configuration OK (not found: the defaults)"
	check "... after one line that says so" \
		test "$(cat "$T/t.err")" = "dmscgw: conf: $def not found: every key at its default"
	"$DMSCGW" --dump-config >"$T/dump" 2>/dev/null
	: >"$T/empty.conf"
	"$DMSCGW" --dump-config -c "$T/empty.conf" >"$T/dump0" 2>&1
	check "... and runs on the defaults (--dump-config as for an empty file)" \
		cmp "$T/dump" "$T/dump0"
fi
out=$("$DMSCGW" -t -c "$T/nothere.conf" 2>&1); rc=$?
check "a missing -c FILE: exit 1 ($out)" test $rc -eq 1
check "... saying so" test "$out" = "dmscgw: $T/nothere.conf: cannot open: No such file or directory"

printf '[daemon]\ndebug = dm\n' >"$T/debug.conf"
check "--dump-config: debug as the file says" \
	bash -c "'$DMSCGW' --dump-config -c '$T/debug.conf' | grep -qx 'debug = dm'"
check "--dump-config --debug=card,bip: the modules -d gave" \
	bash -c "'$DMSCGW' --dump-config --debug=card,bip -c '$T/debug.conf' | grep -qx 'debug = card,bip'"
check "--dump-config -d: all" \
	bash -c "'$DMSCGW' --dump-config -d -c '$T/debug.conf' | grep -qx 'debug = all'"

# --- the state directory, and no D-Bus -------------------------------------
# no pcscd for these, and no reader of the machine's
export PCSCLITE_CSOCK_NAME=$T/no-pcscd.sock
# run_daemon CONF: the daemon without D-Bus (--bus=none), until it started
run_daemon() {
	: >"$T/dmscgw.log"
	"$DMSCGW" -f --bus=none -c "$1" >>"$T/dmscgw.log" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	wait_for 10 grep -q "dmscgw .* started" "$T/dmscgw.log"
}
state=$T/deep/er/state
cat >"$T/state.conf" <<EOC
[card]
reader = none such

[dm]
state_dir = $state
EOC
run_daemon "$T/state.conf" || bail "the daemon did not start"
check "state_dir three levels deep: made" test -d "$state"
check "... mode 0700" test "$(stat -c %a "$state")" = 700
check "... its parents too, 0700" test "$(stat -c %a "$T/deep")" = 700
check "... and the tree saved in it" test -f "$state/tree"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "configuration reloaded" "$T/dmscgw.log"
check "without D-Bus the modem support is off, said once (reload included)" \
	test "$(grep -c 'no D-Bus connection: the modem support is off' "$T/dmscgw.log")" -eq 1
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0

# a state_dir that cannot be made (a file in the way): exit 1, saying why
: >"$T/afile"
sed "s|^state_dir = .*|state_dir = $T/afile/state|" "$T/state.conf" >"$T/bad.conf"
out=$(timeout 20 "$DMSCGW" -f --bus=none -c "$T/bad.conf" 2>&1); rc=$?
check "a state_dir that cannot be made: exit 1 ($rc)" test $rc -eq 1
check "... naming it" contains "$out" "cannot create [dm] state_dir $T/afile/state: Not a directory"

# the DM client off: the state_dir is not needed, not even made
cat >"$T/off.conf" <<EOC
[card]
reader = none such

[dm]
enable = no
state_dir = $T/afile/state
EOC
run_daemon "$T/off.conf"
check "[dm] enable = no: the daemon starts with a state_dir that cannot be made" \
	grep -q "the DM client is off (\[dm\] enable = no)" "$T/dmscgw.log"
check "... and does not touch it" test ! -e "$T/afile/state"
# turned on by a reload: the tree is made then
sed -i "s|^enable = no|enable = yes|; s|^state_dir = .*|state_dir = $T/later/state|" "$T/off.conf"
kill -HUP "$DAEMON_PID"
wait_for 10 grep -q "configuration reloaded" "$T/dmscgw.log"
check "turned on by a reload: state_dir made then, with the tree" test -f "$T/later/state/tree"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0

# --- the Terminal Applications envelope -------------------------------------
pick_port
AP=$(another_port)
# the DM client's entry: port 4117 (10 15), coding 04, type 07
DM_ENTRY='71..10150407'
# card_run ENABLE: the card's DC envelope with [dm] enable = ENABLE, in
# $T/env-ENABLE.  Each card gets a fresh pcscd (a card swapped faster than
# pcscd polls vpcd can be missed by pcscd itself).
card_run() {
	rm -f "$T/card.log"
	start_pcscd
	write_conf "enable = $1

[bip]
applications = $AP:05:Test App"
	start_daemon --bus=none
	start_vuicc
	wait_for 10 grep -q "^> 80C20000..DC" "$T/card.log" || bail "no Terminal Applications envelope"
	stop_vuicc
	stop_daemon
	stop_pcscd
	grep "^> 80C20000..DC" "$T/card.log" | head -1 >"$T/env-$1"
}
TESTAPP="71..$(printf '%04X' "$AP")0405$(printf 'Test App' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
card_run yes
env_on=$(cat "$T/env-yes")
diag <<<"enable = yes: $env_on"
check "[dm] enable = yes: the envelope lists the DM client (type 07, port 4117)" \
	grep -qE "$DM_ENTRY" <<<"$env_on"
check "... and the configured application" grep -qE "$TESTAPP" <<<"$env_on"
card_run no
env_off=$(cat "$T/env-no")
diag <<<"enable = no: $env_off"
check "[dm] enable = no: the envelope does not list the DM client" \
	bash -c "! grep -qE '$DM_ENTRY' <<<'$env_off'"
check "... but still the configured application" grep -qE "$TESTAPP" <<<"$env_off"

# --- a card that does not offer the protocol [card] protocol allows --------
start_pcscd
write_conf
sed -i 's/^\[card\]$/[card]\nprotocol = t0/' "$T/dmscgw.conf"
: >"$T/dmscgw.log"
start_daemon --bus=none
# T=1 only: TD1 = 01 and no T=0 (TS 7816-3), TCK 81
start_vuicc --atr 3B800181
wait_for 20 grep -q "\[card\] protocol" "$T/dmscgw.log"
check "protocol = t0 on a T=1-only card: the log names the key to change" \
	grep -q "the card does not offer T=0, the only protocol \[card\] protocol = t0 allows: set \[card\] protocol = any (or t1)" "$T/dmscgw.log"
sed -i 's/^protocol = t0$/protocol = any/' "$T/dmscgw.conf"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q "card present, T=1" "$T/dmscgw.log"
check "... said once" test "$(grep -c '\[card\] protocol = t0 allows' "$T/dmscgw.log")" -eq 1
check "... and protocol = any on reload takes the card" grep -q "card present, T=1" "$T/dmscgw.log"
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
