#!/usr/bin/python3
# A UI agent for the tests (org.dmscgw1.Agent, man/org.dmscgw1.5): it logs
# every alert to LOG ("session server code text") and answers by the text:
#   "hold"  never answered, as if the user walked away (with --hold-once,
#           only the first such question: later ones are accepted);
#   "fails" a D-Bus error;
#   "refuse" no;
#   else    yes, with "Alice" for a text input (1102), "2" for a choice (1103).
# Prints "registered" once the daemon took it.
import sys
import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
log = open(sys.argv[1], "a", buffering=1)
hold_once = "--hold-once" in sys.argv[2:]
bus = dbus.SystemBus()
held = []


class Agent(dbus.service.Object):
    @dbus.service.method("org.dmscgw1.Agent", in_signature="usqsass",
                         out_signature="bs", async_callbacks=("ok", "fail"))
    def Alert(self, session, server, code, text, choices, options, ok, fail):
        log.write("%u %s %u %s\n" % (session, server, code, text))
        if "hold" in text and not (hold_once and held):
            held.append(ok)
        elif "fails" in text:
            fail(dbus.exceptions.DBusException("test.Failed", "the agent failed"))
        elif "refuse" in text:
            ok(False, "")
        else:
            ok(True, {1102: "Alice", 1103: "2"}.get(int(code), ""))


Agent(bus, "/test/agent")
bus.get_object("org.dmscgw1", "/org/dmscgw1").RegisterAgent(
    dbus.ObjectPath("/test/agent"), dbus_interface="org.dmscgw1.Manager")
print("registered", flush=True)
GLib.MainLoop().run()
