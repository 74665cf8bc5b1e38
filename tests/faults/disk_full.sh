#!/bin/bash
# A full file system under [dm] state_dir (issue: a failed save was a
# silent success).  What the server is told must be durable: the Status of
# a command goes out only once the tree holding its effect is on disk.
# When the save fails the session aborts (Alert 1223, with the Status for
# the server's SyncHdr only), ends as save-failed, and the daemon saves
# again with back-off until there is room; then the tree on disk is the
# one in memory.
. "${top_srcdir:-.}/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root to mount a small tmpfs"
CTL=$top_builddir/dmscgwctl
pick_port
SP=$(another_port)
mkdir -p "$T/state"
mount -t tmpfs -o size=256k tmpfs "$T/state" || skip_all "cannot mount a tmpfs"
trap 'umount "$T/state" 2>/dev/null; cleanup' EXIT
start_pcscd
start_bus
write_conf "
$(dm_sc_http_conf "$SP")"
head -c 120000 /dev/zero | tr '\0' 'x' >"$T/big.txt"

cat >"$T/card.scn" <<EOS
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 30
expect profile *
expect envelope DC*
dm-add ./Small chr fits expect 200
dm-package
dm-add-file ./Big chr $T/big.txt
dm-notify
expect dm-session alert 1200
expect dm-end client-abort
EOS
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"
wait_for 10 test -f "$T/state/tree" || bail "no tree file"
# leave room for the small tree, not for the big one
avail=$(df --output=avail -B1 "$T/state" | tail -1)
head -c $((avail - 40000)) /dev/zero >"$T/state/filler" 2>/dev/null
start_vuicc --scws "$SP" -v -s "$T/card.scn"

wait_for 30 grep -qE "session .* with DMSC01 (finished|failed)" "$T/dmscgw.log"
check "the session failed: save-failed" \
	grep -qE "session .* with DMSC01 failed \(save-failed\): the tree could not be saved" "$T/dmscgw.log"
out=$("$CTL" --json sessions)
check "dmscgwctl sessions says save-failed ($out)" \
	/usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1])["Sessions"][0]; assert s["result"] == "save-failed" and "could not be saved" in s["error"], s' "$out"
check "the failure is logged at error level with the reason" \
	grep -q "cannot save the management tree to $T/state/tree: No space left on device" "$T/dmscgw.log"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed (the first package acknowledged, then a client abort)" \
	grep -q "all .* steps passed" "$T/vuicc.log"
last=$(grep "dm: <- msg" "$T/vuicc.log" | tail -1)
check "the last client message: Alert 1223 and no Status for the Add ($last)" \
	bash -c '[[ $1 == *"Alert(1223)"* && $1 != *"Status(Add"* ]]' _ "$last"
check "nothing was written in place of the old tree" \
	bash -c "! grep -q Big '$T/state/tree'"
check "the save is tried again with back-off" \
	wait_for 10 grep -q "saving the management tree again in [0-9]* s" "$T/dmscgw.log"
check "the daemon still answers" "$CTL" status
rm -f "$T/state/filler"
check "once there is room the tree is saved" \
	wait_for 80 grep -q "management tree saved after an earlier failure" "$T/dmscgw.log"
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
check "the tree on disk is the one in memory (./Big, 120000 bytes)" \
	bash -c "grep -q './Big' '$T/state/tree'"
done_testing
