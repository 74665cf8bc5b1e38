#!/bin/bash
# The system bus restarts (fault: the daemon ran on deaf, never owning
# org.dmscgw1 again).  Chosen behaviour: it notices at once, saves the tree
# and exits with status 3, and the service manager (Restart=on-failure)
# starts it again on the new bus, where it serves as before.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
pick_port
start_pcscd
start_bus
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"
check "dmscgwctl status before: exit 0" "$CTL" status
check "the tree is there before" "$CTL" tree get ./DevInfo/DevId

kill "$BUS_PID"; wait "$BUS_PID" 2>/dev/null
wait_for 10 bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
check "the daemon stopped on its own once the bus was gone" \
	bash -c "! kill -0 $DAEMON_PID 2>/dev/null"
wait "$DAEMON_PID"; rc=$?
check "... with exit status 3 ($rc)" test "$rc" -eq 3
check "... saying why" \
	grep -q "lost the D-Bus connection (.*): stopping with exit status 3" "$T/dmscgw.log"
check "... after a clean shutdown (the tree saved)" \
	test -s "$T/state/tree"

# what Restart=on-failure does: a new bus, a new daemon
rm -f "$T/bus"
start_bus
mv "$T/dmscgw.log" "$T/dmscgw-first.log"
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1
check "the restarted daemon owns org.dmscgw1 on the new bus" "$CTL" status
check "... with the tree it saved" grep -q "management tree loaded from" "$T/dmscgw.log"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
