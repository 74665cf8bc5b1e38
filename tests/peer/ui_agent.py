#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A UI agent for the tests (org.dmscgw1(5), org.dmscgw1.Agent): registers
with dmscgw on the system bus and answers ConfirmSession, the question a
DM Notification of UI mode user interaction asks (DM_Notification 1.2
6.2.7), as told: accept, reject, or "old", an agent that only knows the
alerts (ConfirmSession is then an unknown method).  Each question is
logged; "registered" on stdout says it is ready.

  ui_agent.py accept|reject|old LOGFILE
"""

import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

IFACE = "org.dmscgw1.Agent"


def main(mode, logfile):
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    log = open(logfile, "a", buffering=1)
    bus = dbus.SystemBus()

    class Old(dbus.service.Object):
        @dbus.service.method(IFACE, in_signature="usqsass",
                             out_signature="bs")
        def Alert(self, session, server, code, text, choices, options):
            log.write("alert %u %s %u\n" % (session, server, code))
            return True, ""

    class Agent(Old):
        @dbus.service.method(IFACE, in_signature="us", out_signature="b")
        def ConfirmSession(self, session, server):
            log.write("confirm %u %s %s\n" % (session, server, mode))
            return mode == "accept"

    (Old if mode == "old" else Agent)(bus, "/test/ui")
    bus.get_object("org.dmscgw1", "/org/dmscgw1").RegisterAgent(
        dbus.ObjectPath("/test/ui"), dbus_interface="org.dmscgw1.Manager")
    print("registered", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("accept", "reject", "old"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
