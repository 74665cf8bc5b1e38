#!/bin/bash
# tests/integration/tshark_check.sh - does Wireshark decode an APDU trace?
#
#   tshark_check.sh FILE.pcap        (executed)
#   . tshark_check.sh; tshark_check FILE.pcap   (sourced: defines the function)
#
# Prints one summary line per packet (`tshark -r FILE`) on stdout, then
# dissects every packet in full (`tshark -r FILE -V`) and fails if the output
# has a malformed packet, an error expert info, an exception or a dissector
# bug, printing the offending lines with the number of the frame they are in.
#
# Status: 0 clean, 1 problems (or tshark could not read the file), 2 usage,
# 77 tshark not installed (the automake "skipped" status).  $TSHARK overrides
# the program.

tshark_check() {
	local file=${1-} tshark=${TSHARK:-tshark} out bad

	if [ $# -ne 1 ] || [ -z "$file" ]; then
		echo "usage: tshark_check.sh FILE.pcap" >&2
		return 2
	fi
	if ! command -v "$tshark" >/dev/null 2>&1; then
		echo "tshark not installed"
		return 77
	fi
	if [ ! -r "$file" ]; then
		echo "tshark_check: $file: cannot read" >&2
		return 1
	fi
	# -n: no name resolution.  The summary goes straight to stdout; stderr
	# is shown only on failure (tshark warns when run as root).
	if ! "$tshark" -n -r "$file" 2>/dev/null; then
		out=$("$tshark" -n -r "$file" 2>&1 >/dev/null)
		printf 'tshark_check: tshark -r %s failed:\n%s\n' \
			"$file" "$out" >&2
		return 1
	fi
	# stderr is scanned too: tshark reports some errors there.
	if ! out=$("$tshark" -n -r "$file" -V 2>&1); then
		printf 'tshark_check: tshark -r %s -V failed:\n%s\n' "$file" \
			"$(printf '%s\n' "$out" | tail -n 5)" >&2
		return 1
	fi
	bad=$(printf '%s\n' "$out" | awk '
		/^Frame [0-9]+:/ { frame = $2; sub(":", "", frame) }
		/Malformed|Expert Info \(Error|Exception|\[Dissector bug/ {
			print "frame " frame ": " $0
		}')
	if [ -n "$bad" ]; then
		printf 'tshark_check: %s does not decode cleanly:\n%s\n' \
			"$file" "$bad" >&2
		return 1
	fi
	return 0
}

# Executed rather than sourced: check the file named on the command line.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	tshark_check "$@"
	exit $?
fi
