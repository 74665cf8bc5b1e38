#!/bin/bash
# 93 00 (toolkit busy): the envelope is sent again after a back-off, the
# ones queued behind it wait, and nothing is lost or reordered.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
cat >"$T/card.scn" <<'EOS'
expect profile *
proactive timer-start 1 00:00:01
expect tr 8103..2700 82028281 830100 A40101
proactive timer-start 2 00:00:01
expect tr 8103..2700 82028281 830100 A40102
proactive timer-start 3 00:00:01
expect tr 8103..2700 82028281 830100 A40103
# (the Terminal Applications envelope DC went at once, before the FETCH)
busy 3
expect envelope D70C82028281A40101A503000010
expect envelope D70C82028281A40102A503000010
expect envelope D70C82028281A40103A503000010
EOS
write_conf
start_daemon
start_vuicc -s "$T/card.scn" --scenario-exit
wait "$VUICC_PID"; rc=$?
check "card scenario passed: expirations 1, 2, 3 in order" test $rc -eq 0
check "the card answered 93 00 three times" test "$(count_lines "$T/card.log" "^< 9300\$")" -eq 3
# (the Terminal Applications envelope DC came before, after the profile)
check "each D7 accepted once ($(count_lines "$T/card.log" "^> 80C20000..D7"))" \
	test "$(count_lines "$T/card.log" "^> 80C20000..D7")" -eq 6
check "the back-off doubles (100, 200, 400 ms)" \
	bash -c "grep -o 'again in [0-9]* ms' '$T/dmscgw.log' | tr '\n' ' ' | grep -q 'again in 100 ms again in 200 ms again in 400 ms'"
check "the first in line was retried, not overtaken" \
	test "$(grep '^> 80C20000..D7' "$T/card.log" | head -4 | grep -c A40101)" -eq 4
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
