#!/bin/bash
# Benchmark (not a test): what strangers and durability cost a DM session
# (session.sh, 100 nodes, XML and WBXML).
#  - alone: nothing else on the card's TLS port;
#  - idle: the card's only channel on that port held by an idle local
#    client when the notification comes (the DM client takes it);
#  - download: a 1 MiB download over TLS-PSK on the card's other channel
#    of that port all along;
#  - greedy: the same download with a card that ignores the room the
#    daemon reports (dmsc-vuicc --ignore-room): what priority by Tx room
#    is worth, and what a card that does not heed it gets;
#  - tmpfs: alone, the tree on a tmpfs, where fsync is free: the
#    difference to "alone" is what writing the tree before the Statuses
#    go out costs, per server message that changed it.
# The machine's speed drifts, so the cases take turns: each round runs
# every case once (one XML and one WBXML session each), in an order that
# reverses from round to round, and each case is compared with "alone" of
# its own round.  Prints each case's median time and the median of its
# per-round ratios to "alone" (BENCH_ROUNDS rounds, 7), and what writing
# the tree costs: the median of the per-round differences alone - tmpfs.
top=${top_srcdir:-.}
ROUNDS=${BENCH_ROUNDS:-7}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cases="alone idle download greedy tmpfs"
rev="tmpfs greedy download idle alone"
for r in $(seq "$ROUNDS"); do
	order=$cases
	[ $((r % 2)) -eq 0 ] && order=$rev
	for c in $order; do
		mode=$c state=disk card=
		[ "$c" = tmpfs ] && mode=alone state=tmpfs
		[ "$c" = greedy ] && mode=download card=ignore-room
		BENCH_REPEAT=1 BENCH_MODE=$mode BENCH_STATE=$state BENCH_CARD=$card \
			bash "$top/tests/bench/session.sh" 2>&1 >/dev/null |
			sed -n "s/^session: \([a-z]*\) run 1: \([0-9.]*\) s, \([0-9]*\) APDUs.*/$r $c \1 \2 \3/p" |
			tee -a "$out"
	done
done
awk '
function median(a, k,   i, j, t) {
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
		if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ t[$1, $2, $3] = $4; n[$1, $2, $3] = $5; if ($1 > R) R = $1 }
END {
	split("xml wbxml", fs, " ")
	split("alone idle download greedy tmpfs", cs, " ")
	for (fi = 1; fi <= 2; fi++) {
		f = fs[fi]
		line = "contention " f ":"
		for (ci = 1; ci <= 5; ci++) {
			c = cs[ci]; k = 0; q = 0; each = ""
			for (r = 1; r <= R; r++) {
				if (!((r, c, f) in t)) continue
				w[++k] = t[r, c, f]; a[k] = n[r, c, f]
				if (t[r, "alone", f] > 0) {
					rt[++q] = t[r, c, f] / t[r, "alone", f]
					each = each sprintf(" %.2f", rt[q])
					df[q] = t[r, "alone", f] - t[r, c, f]
				}
			}
			if (!k) { line = line " " c " no run;"; continue }
			m = median(w, k); ma = median(a, k)
			if (c == "alone") {
				line = line sprintf(" alone %.3f s (%d APDUs);", m, ma)
				continue
			}
			line = line sprintf(" %s %.3f s (%d APDUs, ratio %.2f, rounds:%s)", c, m, ma, median(rt, q), each)
			if (c == "tmpfs")
				line = line sprintf(", writing the tree costs %.3f s in all", median(df, q))
			line = line ";"
		}
		print line
	}
	print "(idle: an idle client on the port; download: a 1 MiB download alongside; greedy: the same with a card that ignores the Tx room offered; tmpfs: the tree on a tmpfs, alone minus tmpfs is what writing the tree before the Statuses costs)"
}' "$out"
