#!/bin/bash
# The README's demo on the built binaries (contrib/demo-run.sh, the second
# half of `sh contrib/demo.sh`): its exit status, which is 0 only if both
# acts happened, and the timeline lines that show each step of the
# hand-over: the account placed by the Inbox, the HTTPS session with the
# server's certificate verified, the Exec handed to the shell agent and
# accepted (202), the result reported, the Generic Alert with its fields
# at the server, delivered, and the server's checks all passed.  TAP.
. "${top_srcdir:-.}/tests/lib.sh"

peer_requires openssl

# demo.log: shown by cleanup when something fails
bash "$top_srcdir/contrib/demo-run.sh" "$top_builddir" >"$T/demo.log" 2>&1
rc=$?
check "contrib/demo-run.sh exits 0 (got $rc)" test $rc -eq 0

# shows LABEL REGEX: the demo printed a line matching REGEX
shows() { check "the demo shows $1" grep -qE "$2" "$T/demo.log"; }
shows "the card's scenario passed" "card: scenario contrib/demo.scn: all [0-9]+ steps passed"
shows "the Inbox placing REMOTE's account" \
	"Inbox +\./Inbox/Remote \(org\.openmobilealliance/1\.0/w7\) placed at \./DMAcc/Remote$"
shows "the account's address and secrets (masked)" "^  AppAddr: https://localhost:[0-9]+/dm$"
shows "the trust configured" "REMOTE's certificate is checked against pki/ca\.crt \(\[dm\] ca_file\)"
shows "the HTTPS handshake with the certificate verified" \
	"HTTPS: TLSv1\.[23] handshake done \(.*\): dmscgw verified the server's certificate for localhost$"
shows "the Exec sent by REMOTE" \
	"REMOTE -> DM client: message 1 .*Exec \./Vendor/dmscgw/Reboot \(Correlator demo-reboot-1\)"
shows "the Exec handed to the agent" "Exec \./Vendor/dmscgw/Reboot handed to its agent"
shows "the script's 202" "agent: the script exits 202: the Exec's Status is 202 \(accepted\)"
shows "the Status 202 of the Exec" "^ +Exec +\./Vendor/dmscgw/Reboot +202$"
shows "the result reported" "dmscgwctl exec-result demo-reboot-1 200 "
shows "the Generic Alert sent" "DM client -> REMOTE: message 1 .*Alert 1226 \(Generic Alert, Correlator demo-reboot-1, 2 items\)"
shows "its first item" \
	"item 1: Source \./Vendor/dmscgw/Reboot, Type org\.dmscgw\.exec\.result, Format int, Mark informational, Data '200'$"
shows "its second item" \
	"item 2: Source \./Vendor/dmscgw/Reboot, Type org\.dmscgw\.exec\.result, Format chr, Mark informational, Data 'rebooted'$"
shows "the result delivered" "the result of the Exec is delivered: REMOTE acknowledged the Generic Alert$"
shows "REMOTE's checks, none failed" "REMOTE's checks of the client's messages .*: [1-9][0-9]* passed, 0 failed$"
shows "the three sessions ok" "^  3	REMOTE	exec	.*	ok	"
shows "the end" "^== demo OK: "
done_testing
