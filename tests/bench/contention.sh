#!/bin/bash
# Benchmark (not a test): what strangers and durability cost a DM session
# (session.sh, 100 nodes, XML and WBXML, medians of BENCH_REPEAT runs).
#  - alone: nothing else on the card's TLS port;
#  - idle: the card's only channel on that port held by an idle local
#    client when the notification comes (the DM client takes it);
#  - download: a 1 MiB download over TLS-PSK on the card's other channel
#    of that port all along;
#  - tmpfs: alone, the tree on a tmpfs, where fsync is free: the
#    difference to "alone" is what writing the tree before the Statuses
#    go out costs, per server message that changed it.
# Prints each case's medians and the ratios to the session alone.
top=${top_srcdir:-.}
out=$(mktemp)
for mode in alone idle download; do
	BENCH_MODE=$mode bash "$top/tests/bench/session.sh" 2>/dev/null |
		grep "^session .* median" | tee -a "$out"
done
BENCH_STATE=tmpfs bash "$top/tests/bench/session.sh" 2>/dev/null |
	grep "^session .* median" | sed 's/(alone)/(tmpfs)/' | tee -a "$out"
awk '
/median/ {
	f = $2; m = $3; gsub(/[(),]/, "", m)
	for (i = 1; i <= NF; i++) if ($i == "s,") { t[f, m] = $(i - 1); break }
}
END {
	for (fi = 1; fi <= 2; fi++) {
		f = fi == 1 ? "xml" : "wbxml"
		a = t[f, "alone"]
		if (!a) continue
		printf "contention %s: alone %.3f s; idle client on the port %.3f s (ratio %.2f, +%.3f s); 1 MiB download alongside %.3f s (ratio %.2f); tree on tmpfs %.3f s (writing the tree costs %.3f s in all)\n", \
			f, a, t[f, "idle"], t[f, "idle"] / a, t[f, "idle"] - a, \
			t[f, "download"], t[f, "download"] / a, t[f, "tmpfs"], a - t[f, "tmpfs"]
	}
}' "$out"
rm -f "$out"
