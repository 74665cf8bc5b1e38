#!/bin/bash
# --help, the man pages and conf/dmscgw.conf agree: every option and every
# configuration key is documented, and the sample config shows the defaults.
# The pages are the ones make built for installation: they name the
# configuration file the binary reads (configure's sysconfdir), and every
# page they refer to that the project provides is there (dmsc-vuicc(1)).
. "${top_srcdir:-.}/tests/lib.sh"

man8=$top_builddir/man/dmscgw.8
man5=$top_builddir/man/dmscgw.conf.5
sample=$top_srcdir/conf/dmscgw.conf

# options_agree PROGRAM PAGE NAME: the page documents exactly the long and
# the short options PROGRAM --help lists (man source writes \-\-name)
options_agree() {
	local help man
	help=$("$1" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
	man=$(sed 's/\\-/-/g' "$2" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
	check "$3 documents exactly the options of --help" test "$help" = "$man"
	[ "$help" = "$man" ] || diff <(echo "$help") <(echo "$man") | diag
	help=$("$1" --help | grep -oE -- '^ +-[a-zA-Z],' | tr -d ' ,' | sort -u)
	man=$(sed 's/\\-/-/g' "$2" | grep -oE -- '^\.BR? -[a-zA-Z]\b' | grep -oE -- '-[a-zA-Z]$' | sort -u)
	check "$3 documents exactly the short options of --help" test "$help" = "$man"
}
options_agree "$DMSCGW" "$man8" "dmscgw(8)"

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
# the paths the pages name are the configured ones
conf_path=$("$DMSCGW" --help | sed -n 's/.*configuration file (default \(.*\))$/\1/p')
check "--help names the default configuration file ($conf_path)" test -n "$conf_path"
check "dmscgw(8) names it under FILES" grep -qx "\.I $conf_path" "$man8"
check "dmscgw(8) names it under -c" grep -qx "\.IR $conf_path \." "$man8"
check "dmscgw.conf(5) names it in its synopsis" \
	bash -c "sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' '$man5' | grep -qx '\.I $conf_path'"
for m in "$top_builddir"/man/*.[158]; do
	check "$(basename "$m"): every @placeholder@ substituted" \
		bash -c "! grep -n '@[A-Za-z_]*@' '$m'"
	if command -v groff >/dev/null; then
		check "$(basename "$m"): groff has no warning" \
			bash -c "test -z \"\$(groff -man -ww -z '$m' 2>&1)\""
	fi
done
# every page of this project that a page refers to exists
for m in "$top_builddir"/man/*.[158]; do
	for ref in $(sed 's/\\-/-/g' "$m" | grep -oE '^\.BR (dmsc[a-z.-]*|org\.dmscgw1) \([158]\)' |
		     sed -E 's/^\.BR ([^ ]+) \(([158])\)/\1.\2/' | sort -u); do
		check "$(basename "$m") refers to $ref, which is there" test -f "$top_builddir/man/$ref"
	done
done

options_agree "$VUICC" "$top_builddir/man/dmsc-vuicc.1" "dmsc-vuicc(1)"
done_testing
