#!/bin/bash
# The DM client against an independent OMA DM 1.2 server (tests/peer/):
# stdlib Python, WBXML through Debian's libwbxml2-utils, credentials
# recomputed from the OMA texts -- no code shared with src/dm, so a fault
# made the same way in the daemon's codecs and in the virtual card shows.
# The scenarios of the DM 1.2 rules; peer_scenario (tests/lib.sh) runs
# each with a fresh daemon.
. "${top_srcdir:-.}/tests/lib.sh"

peer_requires

# the server's own vectors first (PROTOCOL.md: Package#0, auth-md5)
$PY "$PEER_PY" --selftest >"$T/selftest.tap" 2>&1
while read -r line; do
	case $line in
	"ok "*) ok "dmserver --selftest: ${line#ok * - }" ;;
	"not ok "*) not_ok "dmserver --selftest: ${line#not ok * - }" ;;
	esac
done <"$T/selftest.tap"

pick_port
start_pcscd
start_bus

for s in ${DM_PEER_SCENARIOS:-$($PY "$PEER_PY" --list)}; do
	peer_scenario "$s"
done
done_testing
