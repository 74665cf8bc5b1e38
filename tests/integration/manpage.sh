#!/bin/bash
# --help, the man pages and conf/dmscgw.conf agree: every option and every
# configuration key is documented, and the sample config shows the defaults.
. "${top_srcdir:-.}/tests/lib.sh"

man8=$top_srcdir/man/dmscgw.8
man5=$top_srcdir/man/dmscgw.conf.5
sample=$top_srcdir/conf/dmscgw.conf

help_opts=$("$DMSCGW" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u)
# man source writes options as \-\-name
man_opts=$(sed 's/\\-/-/g' "$man8" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
check "dmscgw(8) documents exactly the options of --help" \
	test "$help_opts" = "$man_opts"
[ "$help_opts" = "$man_opts" ] || diff <(echo "$help_opts") <(echo "$man_opts") | diag

short_help=$("$DMSCGW" --help | grep -oE -- '^ +-[a-zA-Z],' | tr -d ' ,' | sort -u)
short_man=$(sed 's/\\-/-/g' "$man8" | grep -oE -- '^\.BR? -[a-zA-Z]\b' | grep -oE -- '-[a-zA-Z]$' | sort -u)
check "dmscgw(8) documents exactly the short options of --help" \
	test "$short_help" = "$short_man"

: >"$T/empty.conf"
"$DMSCGW" --dump-config -c "$T/empty.conf" >"$T/defaults" || bail "dump-config failed"
section=
while IFS= read -r line; do
	case $line in
	"") continue ;;
	\[*\]) section=${line#[}; section=${section%]}; continue ;;
	esac
	key=${line%% =*}
	val=${line#*= }
	if grep -q "^\\.B $key\$\|^\\.BR $key " "$man5" &&
	   grep -q "^\\.SS \\\\\[$section\\\\\]\|^\\.SS \[$section\]" "$man5"; then
		ok "dmscgw.conf(5) documents $section.$key"
	else
		not_ok "dmscgw.conf(5) documents $section.$key"
	fi
	# the sample lists it, commented out at its default, in its section
	got=$(awk -v s="[$section]" -v k="$key" '
		/^\[/ { cur = $0; next }
		cur == s && $0 ~ "^#" k " =" { sub("^#" k " = ?", ""); print; exit }' "$sample")
	check "conf/dmscgw.conf shows $section.$key at its default '$val'" \
		test "$got" = "$val"
done <"$T/defaults"
check "the sample config parses" "$DMSCGW" -t -c "$sample"
check "--version prints the package version" \
	bash -c "'$DMSCGW' --version | grep -qE '^dmscgw [0-9]+\.[0-9]+\.[0-9]+\$'"
done_testing
