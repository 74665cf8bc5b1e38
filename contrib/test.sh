#!/bin/sh
# The test command: install what is needed, build with warnings as errors
# and with ASan/UBSan, and run `make check` (unit, fuzz-corpus replay and
# integration tests against a private pcscd with the vpcd driver).
# Usage: contrib/test.sh [--no-sanitizers] [--distcheck]
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
san=--enable-sanitizers
distcheck=
for a in "$@"; do
	case $a in
	--no-sanitizers) san= ;;
	--distcheck) distcheck=1 ;;
	*) echo "usage: $0 [--no-sanitizers] [--distcheck]" >&2; exit 2 ;;
	esac
done
sh contrib/deps.sh
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build-test
cd build-test
../configure --enable-werror $san >configure.out 2>&1 || { cat configure.out; exit 1; }
make -j"$(nproc)" >/dev/null
# ASan's leak check needs ptrace-free LSan; keep reports readable.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# failures LOG: what failed in a test-suite.log, the failing tests' own
# lines first (the whole log can be long), then the summary.
failures() {
	grep -E '^(FAIL|ERROR|XPASS):' "$1" | head -50
	awk '/^(FAIL|ERROR): [^ ]+$/ { on = 1 }
	     on && !/^(PASS:|ok) / { print }' "$1" | head -300
}
rc=0
make -j"$(nproc)" check || rc=$?
if [ -f test-suite.log ]; then
	pass=$(grep -hE '^# (PASS|XFAIL|SKIP):' test-suite.log | awk '{s+=$3} END {print s+0}')
	fail=$(grep -hE '^# (FAIL|XPASS|ERROR):' test-suite.log | awk '{s+=$3} END {print s+0}')
	[ $rc -ne 0 ] && failures test-suite.log
	echo "$pass passed, $fail failed"
fi
[ $rc -eq 0 ] || exit $rc
if [ -n "$distcheck" ]; then
	if ! make distcheck >distcheck.out 2>&1; then
		tail -60 distcheck.out
		for l in dmscgw-*/_build/sub/test-suite.log; do
			[ -f "$l" ] && { echo "== $l"; failures "$l"; }
		done
		exit 1
	fi
	echo "distcheck passed"
fi
