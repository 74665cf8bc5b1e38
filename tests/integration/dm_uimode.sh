#!/bin/bash
# The UI mode of a DM Notification (DM_Notification 1.2 6.2.7) against the
# independent DM 1.2 server (tests/peer/): background runs silently,
# informative emits SessionNotice, user interaction asks the UI agent
# (ConfirmSession) before the session starts, and without an agent (or
# with one that does not know ConfirmSession) [dm] alerts decides; a
# refused session never reaches the server and says why
# (tests/peer/scenarios.py, group "ui").
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
PY=/usr/bin/python3
[ -x $PY ] || skip_all "no /usr/bin/python3"
$PY -c 'import dbus, gi' 2>/dev/null || skip_all "no python3-dbus / python3-gi"
command -v curl >/dev/null || skip_all "no curl"

pick_port
start_pcscd
start_bus

for s in ${DM_UI_SCENARIOS:-$($PY "$PEER_PY" --list ui)}; do
	peer_scenario "$s"
done
done_testing
