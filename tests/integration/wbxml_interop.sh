#!/bin/bash
# tests/integration/wbxml_interop.sh - our SyncML WBXML against libwbxml2.
#
# For each sample in tests/data/syncml/*.xml:
#   - our encoder's WBXML, decoded by Debian's `wbxml2xml -l SYNCML12`, must
#     give the sample's canonical XML;
#   - libwbxml's `xml2wbxml` output -- default (string table, STR_T), -n
#     (no string table), -v 1.2 (WBXML 1.2) and -k (whitespace kept) --
#     decoded by us, must too.  Without -k libwbxml drops whitespace-only
#     text nodes, even between a CDATA section and a character reference
#     inside Data: the samples avoid that construct.
# Canonical XML is what tests/unit/syncml_tool canon prints for either side,
# so the comparison is about content, not bytes or layout.
#
# TAP on stdout; "1..0 # SKIP" when libwbxml2-utils is not installed.

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
TOOL=$top_builddir/tests/unit/syncml_tool
WBXML2XML=${WBXML2XML:-wbxml2xml}
XML2WBXML=${XML2WBXML:-xml2wbxml}

if ! command -v "$WBXML2XML" >/dev/null 2>&1 ||
   ! command -v "$XML2WBXML" >/dev/null 2>&1; then
	echo "1..0 # SKIP libwbxml2-utils (wbxml2xml, xml2wbxml) not installed"
	exit 0
fi
if [ ! -x "$TOOL" ]; then
	echo "Bail out! $TOOL not built"
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/wbxml-interop.XXXXXX")
trap 'rm -rf "$T"' EXIT

samples=("$top_srcdir"/tests/data/syncml/*.xml)
if [ ! -e "${samples[0]}" ]; then
	echo "Bail out! no samples in $top_srcdir/tests/data/syncml"
	exit 1
fi

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
	# diagnostics: the tool's stderr and a diff of canonical forms
	[ -s "$T/err" ] && sed 's/^/# /' "$T/err"
	if [ -s "$T/want" ] && [ -s "$T/got" ]; then
		diff <(tr '<' '\n' <"$T/want") <(tr '<' '\n' <"$T/got") |
			head -n 20 | sed 's/^/# /'
	fi
}

echo "1..$((${#samples[@]} * 5))"
for s in "${samples[@]}"; do
	b=$(basename "$s" .xml)
	: >"$T/err"
	rm -f "$T/want" "$T/got"
	if ! "$TOOL" canon "$s" >"$T/want" 2>"$T/err"; then
		for d in "ours -> wbxml2xml" "xml2wbxml -> ours" \
			 "xml2wbxml -n -> ours" "xml2wbxml -v 1.2 -> ours" \
			 "xml2wbxml -k -> ours"; do
			not_ok "$b: $d (sample does not parse)"
		done
		continue
	fi

	# Our encoder, libwbxml's decoder.
	rm -f "$T/got"
	if "$TOOL" xml2wbxml "$s" "$T/$b.wbxml" 2>"$T/err" &&
	   "$WBXML2XML" -l SYNCML12 -o "$T/$b.out.xml" "$T/$b.wbxml" \
		>/dev/null 2>>"$T/err" &&
	   "$TOOL" canon "$T/$b.out.xml" >"$T/got" 2>>"$T/err" &&
	   cmp -s "$T/want" "$T/got"; then
		ok "$b: ours -> wbxml2xml"
	else
		not_ok "$b: ours -> wbxml2xml"
	fi

	# libwbxml's encoder, our decoder: default (string table), without
	# a string table, and WBXML 1.2.
	for opt in "" "-n" "-v 1.2" "-k"; do
		rm -f "$T/got"
		: >"$T/err"
		# shellcheck disable=SC2086  # opt is a list of options
		if "$XML2WBXML" $opt -o "$T/$b.lib.wbxml" "$s" \
			>/dev/null 2>"$T/err" &&
		   "$TOOL" canon "$T/$b.lib.wbxml" >"$T/got" 2>>"$T/err" &&
		   cmp -s "$T/want" "$T/got"; then
			ok "$b: xml2wbxml${opt:+ $opt} -> ours"
		else
			not_ok "$b: xml2wbxml${opt:+ $opt} -> ours"
		fi
	done
done
[ "$failed" -eq 0 ]
