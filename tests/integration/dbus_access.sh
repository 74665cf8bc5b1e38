#!/bin/bash
# D-Bus access control: reads are open; privileged methods are refused to
# an unprivileged user, allowed to the group dmscgw and root; the daemon
# checks credentials itself, so a permissive bus policy opens nothing.
. "${top_srcdir:-.}/tests/lib.sh"

getent group dmscgw >/dev/null || skip_all "no group dmscgw (contrib/deps.sh creates it)"
command -v setpriv >/dev/null || skip_all "setpriv is not installed"

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_member() { setpriv --reuid=nobody --regid=nogroup --groups=dmscgw "$@"; }
mgr="org.dmscgw1 /org/dmscgw1 org.dmscgw1.Manager"

run_case() {
	local policy=$1
	pick_port
	start_pcscd
	start_bus $policy
	write_conf
	start_daemon
	start_vuicc
	wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no profile"
	wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1

	out=$(as_nobody busctl --system get-property $mgr Version 2>&1)
	check "[$policy] nobody reads properties" test "$out" = 's "0.1.0"'
	out=$(as_nobody busctl --system introspect org.dmscgw1 /org/dmscgw1/card/1 2>&1)
	check "[$policy] nobody introspects a card" contains "$out" ".TerminalProfile"
	out=$(as_nobody busctl --system call $mgr SetLocation sssuus limited "" "" 0 0 eutran 2>&1)
	if [ "$policy" = permissive ]; then
		check "[$policy] the daemon itself refuses nobody" \
			contains "$out" "SetLocation needs root or the group dmscgw"
		check "[$policy] and logs it" grep -q "SetLocation refused to uid 65534" "$T/dmscgw.log"
	else
		check "[$policy] the bus policy refuses nobody" contains "$out" "Access denied"
	fi
	out=$(as_nobody busctl --system call $mgr Reload 2>&1)
	if [ "$policy" = permissive ]; then
		check "[$policy] nobody cannot reload" contains "$out" "Reload needs root or the group dmscgw"
	else
		check "[$policy] nobody cannot reload" contains "$out" "Access denied"
	fi
	out=$(as_member busctl --system call $mgr SetLocation sssuus limited "" "" 0 0 eutran 2>&1)
	check "[$policy] a member of group dmscgw may ($out)" test -z "$out"
	out=$(busctl --system call $mgr SetLocation sssuus no-service "" "" 0 0 eutran 2>&1)
	check "[$policy] root may ($out)" test -z "$out"
	check "[$policy] the daemon still serves" kill -0 "$DAEMON_PID"
	stop_daemon
	check "[$policy] clean exit" test "$DAEMON_RC" -eq 0
	stop_vuicc
	stop_pcscd
	kill "$BUS_PID"; wait "$BUS_PID" 2>/dev/null
	rmdir "/tmp/dmscgw-ports/$PORT" 2>/dev/null
	rm -f "$T/card.log" "$T/dmscgw.log" "$T/bus"
}

run_case strict
run_case permissive
done_testing
