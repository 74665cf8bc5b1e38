#!/bin/bash
# Exec agents against the independent DM 1.2 server (tests/peer/): the
# agent is a shell script served by `dmscgwctl exec-agent`; the server
# checks the Status of each Exec (200 and 500 from the script's exit
# status, with its output; 202 accepted; 404, 425; 500 with no agent;
# Exec in a Sequence, and in an Atomic), then the Generic Alert 1226 that
# brings an accepted Exec's result (Correlator, Source, Type, Format,
# Mark, Data), also after a restart of the daemon that kept it on disk
# while the server could not be reached (tests/peer/scenarios.py, group
# "exec").
. "${top_srcdir:-.}/tests/lib.sh"

peer_requires

pick_port
DEAD=$(another_port)	# reserved, nothing listens: the server unreachable
start_pcscd
start_bus

for s in ${DM_EXEC_SCENARIOS:-$($PY "$PEER_PY" --list exec)}; do
	peer_scenario "$s"
done
done_testing
