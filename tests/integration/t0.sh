#!/bin/bash
# T=0 card: the daemon answers 61xx with GET RESPONSE and carries on.
. "${top_srcdir:-.}/tests/lib.sh"

pick_port
start_pcscd
write_conf
start_daemon
start_vuicc --t0

wait_count 10 "$T/card.log" "^> 801000" 1
# SELECT MF (case 4) -> 61 XX -> GET RESPONSE 00 C0 00 00 XX -> FCP 90 00
select_line=$(grep -n '^> 00A40004023F00' "$T/card.log" | head -1 | cut -d: -f1)
sw=$(sed -n "$((select_line + 1))p" "$T/card.log")
check "card answers SELECT with 61xx ($sw)" bash -c "[[ '$sw' =~ ^\<\ 61[0-9A-F]{2}\$ ]]"
xx=${sw:4:2}
check "daemon sends GET RESPONSE with Le=$xx" \
	test "$(sed -n "$((select_line + 2))p" "$T/card.log")" = "> 00C00000$xx"
check "GET RESPONSE returns $((16#$xx)) bytes + 9000" \
	bash -c "[[ \$(sed -n '$((select_line + 3))p' '$T/card.log') =~ ^\<\ [0-9A-F]{$((2 * 16#$xx))}9000\$ ]]"
check "exact TERMINAL PROFILE after the chain" \
	grep -qx "> $TP_APDU" "$T/card.log"
wait_for 5 grep -q "terminal profile sent" "$T/dmscgw.log"
check "daemon reports T=0" grep -q "card present, T=0" "$T/dmscgw.log"
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
