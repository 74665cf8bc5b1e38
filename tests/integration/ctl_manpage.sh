#!/bin/bash
# dmscgwctl --help, dmscgwctl(1), the bash completion and org.dmscgw1(5)
# agree with each other and with what the daemon really exports.
. "${top_srcdir:-.}/tests/lib.sh"

CTL=$top_builddir/dmscgwctl
man1=$top_builddir/man/dmscgwctl.1
man5=$top_builddir/man/org.dmscgw1.5
comp=$top_srcdir/contrib/bash-completion/dmscgwctl

help_opts=$("$CTL" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
man_opts=$(sed 's/\\-/-/g' "$man1" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
check "dmscgwctl(1) documents exactly the options of --help" test "$help_opts" = "$man_opts"
verbs=$("$CTL" --help | awk '/^Verbs:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' | sort -u)
check "--help lists verbs" test -n "$verbs"
for v in $verbs; do
	check "dmscgwctl(1) documents the verb $v" grep -qE "^\\.(B|BR|BI|TP|SS) .*\\b$v\\b" "$man1"
	check "the bash completion knows the verb $v" grep -qw "$v" "$comp"
done

# the D-Bus reference names every member the daemon exports
pick_port
start_pcscd
start_bus
write_conf
start_daemon
start_vuicc
wait_count 10 "$T/card.log" "^> $TP_APDU\$" 1 || bail "no profile"
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1
for obj in "/org/dmscgw1 org.dmscgw1.Manager" "/org/dmscgw1/card/1 org.dmscgw1.Card"; do
	set -- $obj
	members=$(busctl --system introspect org.dmscgw1 "$1" "$2" |
		awk 'NR > 1 && $1 ~ /^\./ { sub(/^\./, "", $1); print $1 }')
	for m in $members; do
		check "org.dmscgw1(5) documents $2.$m" grep -qE "^\\.B $m[ (]" "$man5"
	done
done
stop_daemon
done_testing
