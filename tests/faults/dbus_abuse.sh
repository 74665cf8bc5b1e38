#!/bin/bash
# D-Bus abuse from an unprivileged user made for the test: thousands of
# privileged calls it may not make, and calls with wrong and huge
# arguments.  Each is refused; the log gets a bounded number of lines
# (refusals are rate limited: 10 a minute, then a count); the daemon keeps
# serving.
. "${top_srcdir:-.}/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root to create a user"
command -v useradd >/dev/null || skip_all "needs useradd"
/usr/bin/python3 -c 'import dbus' 2>/dev/null || skip_all "needs python3-dbus"
CTL=$top_builddir/dmscgwctl
USER_NAME=dmscab$$
useradd --system --no-create-home --shell /usr/sbin/nologin "$USER_NAME" ||
	skip_all "cannot create a user"
trap 'userdel "$USER_NAME" 2>/dev/null; cleanup' EXIT
pick_port
start_pcscd
# permissive: the bus lets anyone call the daemon, its own check must hold
start_bus permissive
start_daemon
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 || bail "no daemon on the bus"

setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --clear-groups \
	/usr/bin/python3 - >"$T/abuse.out" 2>&1 <<'EOP'
import dbus
bus = dbus.SystemBus()
mgr = dbus.Interface(bus.get_object("org.dmscgw1", "/org/dmscgw1"),
                     "org.dmscgw1.Manager")
denied = other = 0
for i in range(3000):
    try:
        if i % 3 == 0:
            mgr.Reload()
        elif i % 3 == 1:
            mgr.GetNode("./DevInfo/DevId")
        else:
            mgr.Notify("package0", dbus.ByteArray(b"\x00" * (i % 4096)))
    except dbus.exceptions.DBusException as e:
        if e.get_dbus_name() == "org.dmscgw1.Error.AccessDenied":
            denied += 1
        else:
            other += 1
print("denied", denied, "other", other)
EOP
cat "$T/abuse.out" | diag
check "3000 calls from $USER_NAME, every one refused AccessDenied" \
	grep -qx "denied 3000 other 0" "$T/abuse.out"
n=$(count_lines "$T/dmscgw.log" "refused to uid")
check "the log holds 10 refusal lines, not 3000 ($n)" test "$n" -eq 10
check "the daemon still answers" "$CTL" status
check "... and root may still do what that user may not" "$CTL" tree get ./DevInfo/DevId
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
