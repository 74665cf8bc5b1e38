#!/bin/bash
# The management tree on disk: created with the DM_SC account of [dm_sc]
# at the first start (mode 0600, no password in the logs), loaded at the
# next, and a corrupt file kept aside and reported, never dropped silently.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
write_conf "
[dm_sc]
server_id = DMServer
server_password = srvpwd-S3CRET
client_name = dmclient
client_password = clipwd-S3CRET"
start_daemon --bus=none
wait_for 10 grep -q "DM_SC account for DMServer added" "$T/dmscgw.log"
stop_daemon
check "first start: clean exit" test "$DAEMON_RC" -eq 0
check "the account was bootstrapped" grep -qE "DM_SC account for DMServer added \\(https://127\\.0\\.0\\.1:4116/OMA/DM[,)]" "$T/dmscgw.log"
check "the tree file exists with mode 0600" test "$(stat -c %a "$T/state/tree" 2>/dev/null)" = 600
check "it holds ./DMAcc/DMSC with its ServerID" grep -q "DMAcc/DMSC/ServerID.*DMServer" "$T/state/tree"
check "no password in the log" bash -c "! grep -q S3CRET '$T/dmscgw.log'"
check "--dump-config hides the passwords" \
	bash -c "'$DMSCGW' --dump-config -c '$T/dmscgw.conf' | grep -qx 'server_password = \*\*\*\*\*\*\*\*'"
check "... and shows nothing of them" bash -c "! '$DMSCGW' --dump-config -c '$T/dmscgw.conf' | grep -q S3CRET"
cp "$T/state/tree" "$T/tree.first"

start_daemon --bus=none
wait_for 10 grep -q "management tree loaded" "$T/dmscgw.log"
stop_daemon
check "second start: the tree is loaded, not recreated" grep -q "management tree loaded from $T/state/tree" "$T/dmscgw.log"
check "the account is not added twice" test "$(count_lines "$T/dmscgw.log" "DM_SC account for DMServer added")" -eq 1

# flip one byte in the middle of the file
size=$(stat -c %s "$T/state/tree")
printf 'X' | dd of="$T/state/tree" bs=1 seek=$((size / 2)) conv=notrunc status=none
start_daemon --bus=none
wait_for 10 grep -q "is corrupt" "$T/dmscgw.log"
stop_daemon
check "a corrupt tree is reported" grep -q "management tree $T/state/tree is corrupt" "$T/dmscgw.log"
check "and kept aside, not discarded" bash -c "ls '$T'/state/tree.corrupt-* >/dev/null 2>&1"
check "the kept file is the damaged one" bash -c "cmp -s '$T/state/tree.corrupt-'* '$T/state/tree.corrupt-'* && ! cmp -s '$T/tree.first' '$T/state/'tree.corrupt-*"
check "a new tree was started, with the account again" grep -q "DMAcc/DMSC/ServerID" "$T/state/tree"
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
