#!/bin/bash
# The card over TCP/IP (OMA-TS-DM_SC 5.1 and 8.1 table 2): a USB UICC's EEM
# link is a network interface, and while it is up with the card's address
# known, sessions with the DM_SC server go to https://localuicc:443/OMA/DM
# over TLS-PSK instead of through BIP.
#
# The card's link is a veth pair made here: the daemon's end stays in this
# namespace, the card's end goes into a network namespace of its own, where
# dmsc-vuicc serves its SCWS (--tcp-tls --netns) besides its BIP channel.
# The rule matches the veth driver and this test's interface name; the
# card's address comes from [link] card_address (networkd is not running).
# Once over IPv4, once over IPv6:
#   link up      the off-line trigger's session runs over TCP/IP, and no
#                connection reaches the card's SCWS channel over BIP;
#   link down    the next session goes through BIP;
#   link back    TCP/IP is preferred again;
#   lost midway  a session held by a UI agent over TCP/IP fails at once,
#                with the reason, when the card's end loses its carrier;
#                the next session runs over BIP.
# Then once with the card's IPv6 link-local address, which means nothing
# without its link: localuicc resolves to it with the interface as scope.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
CTL=$top_builddir/dmscgwctl
PSK=0f1e2d3c4b5a69788796a5b4c3d2e1f0
[ "$(id -u)" -eq 0 ] || skip_all "needs root to create a network namespace"
command -v ip >/dev/null || skip_all "needs ip (iproute2) to create a network namespace"

pick_port
SP=$(another_port)

# A subnet of 198.18.0.0/15 (RFC 2544) and of fd00:d5c::/48 for this run,
# locked against other runs; the names fit IFNAMSIZ.
mkdir -p /tmp/dmscgw-nets
for _ in $(seq 1 100); do
	N=$((RANDOM % 512))
	mkdir "/tmp/dmscgw-nets/$N" 2>/dev/null && break
	N=
done
[ -n "$N" ] || bail "no free test subnet"
NET4="198.$((18 + N / 256)).$((N % 256))"
NET6="fd00:d5c:0:$(printf %x "$N")"
NS="dmsc-link-$N"
DEV="dmsc${N}a"		# the daemon's end
PEER="dmsc${N}b"	# the card's end, in $NS

net_down() {
	ip link del "$DEV" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rmdir "/tmp/dmscgw-nets/$N" 2>/dev/null
}
trap 'rc=$?; net_down; (exit $rc); cleanup' EXIT

if ! ip netns add "$NS" 2>"$T/netns.err"; then
	skip_all "network namespaces cannot be created here: $(head -c 200 "$T/netns.err")"
fi
ip link add "$DEV" type veth peer name "$PEER" netns "$NS" ||
	bail "cannot create the veth pair"
ip -n "$NS" link set lo up
# addresses, again after a link went down (IPv6 ones go with it)
addresses() {
	ip addr replace "$NET4.1/24" dev "$DEV"
	ip addr replace "$NET6::1/64" dev "$DEV" nodad
	ip -n "$NS" addr replace "$NET4.2/24" dev "$PEER"
	ip -n "$NS" addr replace "$NET6::2/64" dev "$PEER" nodad
}

start_bus

# the card's scenario, the same for both families; the test says go with
# envelope D9 01 0n before each notification, once the link is as it wants
cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 60
expect profile *
expect envelope DC*
# 1. the link is up: TCP/IP
expect envelope D90101
dm-add ./Tcp1 chr one expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# 2. the link is down: BIP
expect envelope D90102
dm-add ./Bip chr two expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# 3. the link is back: TCP/IP again
expect envelope D90103
dm-add ./Tcp2 chr three expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
# 4. the agent holds the question while the link goes; the session the
# test starts next (Alert 1201, over BIP) leaves the held one and runs
# this script to its end
expect envelope D90104
dm-alert 1101 hold this one expect 200
dm-add ./Mid chr four expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
EOS

# sessions_json EXPR: EXPR over the list of sessions s, oldest first
sessions_json() {
	"$CTL" --json sessions 2>/dev/null | $PY -c '
import json, sys
s = sorted(json.load(sys.stdin)["Sessions"], key=lambda x: x["id"])
print(eval(sys.argv[1]))' "$1"
}
finished() { [ "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 (finished|failed)")" -ge "$1" ]; }
link_is() { "$CTL" card 1 2>/dev/null | grep -q "^UiccLink: $1"; }
# established CHANNEL: how often the card's SCWS channel took a connection
established() { count_lines "$T/mon.txt" "^ChannelChanged /org/dmscgw1/card/1 channel=$1 established"; }

# start_stack CARD LISTEN SCENARIO [monitor]: pcscd, the daemon with the
# card's address CARD, a monitor, the card with its TCP/IP side on LISTEN;
# returns once the link is ready
start_stack() {
	rm -rf "$T/state" "$T/card.log" "$T/vuicc.log"
	: >"$T/dmscgw.log"
	start_pcscd
	write_conf "
encoding = xml

$(dm_sc_conf "$SP" "$PSK")

[link]
match = driver=veth name=$DEV
card_address = $1"
	start_daemon
	wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 ||
		bail "the daemon did not take its name"
	[ -n "${4:-}" ] && start_monitor mon.txt
	start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" \
		--tcp-tls "$2" --netns "/run/netns/$NS" -v -s "$3"
	wait_for 15 link_is ready
}

run() {	# run 4|6
	local fam=$1 card mine listen out scws n0 n1
	if [ "$fam" = 4 ]; then
		card=$NET4.2 mine=$NET4.1 listen=$NET4.2
	else
		card=$NET6::2 mine=$NET6::1 listen="[$NET6::2]"
	fi
	ip link set "$DEV" up
	ip -n "$NS" link set "$PEER" up
	addresses
	rm -f "$T/agent.log"
	start_stack "$card" "$listen" "$T/card.scn" monitor
	out=$("$CTL" card 1 2>&1)
	check "IPv$fam: card 1 shows the link ready, its interface, the card's address from the configuration" \
		grep -qx "UiccLink: ready, interface $DEV, card $card (config), addresses .*" <<<"$out"
	out=$("$CTL" --json card 1 2>&1)
	check "IPv$fam: ... and as JSON" $PY -c '
import json, sys
u = json.loads(sys.argv[1])["UiccLink"]
assert u["state"] == "ready" and u["interface"] == sys.argv[2], u
assert u["card_address"] == sys.argv[3] and u["source"] == "config", u
assert any(a.startswith(sys.argv[4]) for a in u["addresses"]), u' \
		"$out" "$DEV" "$card" "$mine/"
	check "IPv$fam: the DM_SC account has both addresses of table 2" \
		test "$("$CTL" tree get ./DMAcc/DMSC/AppAddr/2/Addr 2>&1)" = "https://localuicc:443/OMA/DM"
	wait_for 10 bash -c "'$CTL' channels 2>/dev/null | grep -qP '\ttcp-server\tlisten\t$SP\t'" ||
		bail "the card's SCWS channel is not listening"
	scws=$("$CTL" channels | awk -F'\t' -v p="$SP" '$2 == "tcp-server" && $4 == p { print $1 }')

	# 1. up: TCP/IP, and the SCWS channel over BIP stays unused
	"$CTL" envelope D90101 >/dev/null
	wait_for 30 finished 1
	check "IPv$fam up: the session went over TCP/IP" \
		test "$(sessions_json 's[0]["transport"] + " " + s[0]["result"]')" = "tcpip ok"
	check "IPv$fam up: the log names the transport" \
		grep -qE "session 1 with DMSC01 over TCP/IP" "$T/dmscgw.log"
	check "IPv$fam up: the card's TCP/IP side took the connection" \
		grep -q "tcp: connection from $mine (TLS-PSK)" "$T/vuicc.log"
	monitor_barrier "$T/mon.txt" || bail "the monitor fell behind"
	n0=$(established "$scws")
	check "IPv$fam up: no BIP connection to the card's SCWS (channel $scws: $n0 established)" test "$n0" -eq 0
	check "IPv$fam up: ./Tcp1 provisioned" test "$("$CTL" tree get ./Tcp1 2>&1)" = one

	# 2. down: BIP
	ip link set "$DEV" down
	wait_for 10 link_is down
	check "IPv$fam down: UiccLink says down" link_is "down, interface $DEV"
	monitor_barrier "$T/mon.txt" || bail "the monitor fell behind"
	check "IPv$fam down: PropertiesChanged UiccLink on the card" \
		grep -q "^PropertiesChanged /org/dmscgw1/card/1 org.dmscgw1.Card UiccLink=(\"down\",\"$DEV\"" "$T/mon.txt"
	"$CTL" envelope D90102 >/dev/null
	wait_for 30 finished 2
	check "IPv$fam down: the session went through BIP" \
		test "$(sessions_json 's[1]["transport"] + " " + s[1]["result"]')" = "bip ok"
	monitor_barrier "$T/mon.txt" || bail "the monitor fell behind"
	n1=$(established "$scws")
	check "IPv$fam down: ... through the card's SCWS channel ($n1 established)" test "$n1" -ge 1
	check "IPv$fam down: ./Bip provisioned" test "$("$CTL" tree get ./Bip 2>&1)" = two

	# 3. back: TCP/IP again
	ip link set "$DEV" up
	addresses
	wait_for 10 link_is ready
	check "IPv$fam back: UiccLink ready again" link_is ready
	"$CTL" envelope D90103 >/dev/null
	wait_for 30 finished 3
	check "IPv$fam back: the session went over TCP/IP" \
		test "$(sessions_json 's[2]["transport"] + " " + s[2]["result"]')" = "tcpip ok"
	monitor_barrier "$T/mon.txt" || bail "the monitor fell behind"
	check "IPv$fam back: no new BIP connection to the SCWS" test "$(established "$scws")" -eq "$n1"
	check "IPv$fam back: ./Tcp2 provisioned" test "$("$CTL" tree get ./Tcp2 2>&1)" = three

	# 4. lost midway: the agent holds the first question it gets
	start_agent "$T/agent.log" --hold-once || bail "the UI agent did not register"
	"$CTL" envelope D90104 >/dev/null
	wait_for 30 grep -q "hold this one" "$T/agent.log"
	check "IPv$fam midway: the session waits for the agent" \
		test "$(sessions_json 's[3]["state"] + " " + s[3]["transport"]')" = "awaiting-ui tcpip"
	ip -n "$NS" link set "$PEER" down
	wait_for 10 finished 4
	out=$(sessions_json 's[3]["transport"] + "|" + s[3]["result"] + "|" + s[3]["error"]')
	check "IPv$fam midway: it failed at once, with the reason ($out)" \
		bash -c '[[ $1 == "tcpip|transport-failed|the card'"'"'s IP link was lost: $2: it has no carrier" ]]' _ "$out" "$DEV"
	# retries ([dm] retries, 3 by default) are for remote servers only
	check "IPv$fam midway: it was not tried again" \
		bash -c "! grep -qE 'session 4 with DMSC01: .*; retry [0-9]+ of' '$T/dmscgw.log'"
	check "IPv$fam midway: UiccLink says down" link_is "down, interface $DEV"
	out=$("$CTL" session start DMSC01 2>&1)
	check "IPv$fam midway: the next session starts ($out)" grep -qxE '[0-9]+' <<<"$out"
	wait_for 30 finished 5
	check "IPv$fam midway: the next session went through BIP" \
		test "$(sessions_json 's[4]["transport"] + " " + s[4]["trigger"] + " " + s[4]["result"]')" = "bip dbus ok"
	check "IPv$fam midway: ./Mid provisioned by it" test "$("$CTL" tree get ./Mid 2>&1)" = four
	wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
	check "IPv$fam: the card's scenario passed (every Status as expected)" \
		grep -q "all .* steps passed" "$T/vuicc.log"
	out=$("$CTL" sessions 2>&1)
	check "IPv$fam: dmscgwctl sessions shows the transports" \
		test "$(awk -F'\t' 'NR > 1 { print $4 }' <<<"$out" | sort | uniq -c | tr -s ' ' | tr '\n' ';')" = " 2 bip; 3 tcpip;"
	# a reload that turns the link off: shown at once
	sed -i 's/^match = /enable = no\nmatch = /' "$T/dmscgw.conf"
	"$CTL" reload >/dev/null 2>&1
	check "IPv$fam: [link] enable = no applies at the reload" link_is off
	check "IPv$fam: no secret in the log" \
		bash -c "! grep -q -e srvpwd -e clipwd -e $PSK '$T/dmscgw.log'"
	kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
	kill "$MON_PID"; wait "$MON_PID" 2>/dev/null
	stop_vuicc
	stop_daemon
	check "IPv$fam: clean exit" test "$DAEMON_RC" -eq 0
	stop_pcscd
}

# ll_of DEV [NETNS]: DEV's link-local address, once DAD is done
ll_of() {
	ip ${2:+-n "$2"} -6 addr show dev "$1" scope link |
		awk '/inet6/ && !/tentative/ { sub("/.*", "", $2); print $2; exit }'
}

run_link_local() {
	local card mine out
	ip link set "$DEV" up
	ip -n "$NS" link set "$PEER" up
	wait_for 10 eval '[ -n "$(ll_of "$PEER" "$NS")" ] && [ -n "$(ll_of "$DEV")" ]'
	card=$(ll_of "$PEER" "$NS")
	mine=$(ll_of "$DEV")
	[ -n "$card" ] && [ -n "$mine" ] || bail "no link-local addresses on the veth pair"
	# the first session of the scenario, its end only
	sed '/^expect envelope D90102/,$d' "$T/card.scn" >"$T/ll.scn"
	start_stack "$card" "[::]" "$T/ll.scn"
	check "link-local: UiccLink ready with the card's $card" \
		link_is "ready, interface $DEV, card $card (config)"
	"$CTL" envelope D90101 >/dev/null
	wait_for 30 finished 1
	check "link-local: the session went over TCP/IP" \
		test "$(sessions_json 's[0]["transport"] + " " + s[0]["result"]')" = "tcpip ok"
	check "link-local: ... from the daemon's link-local address $mine" \
		grep -q "tcp: connection from $mine (TLS-PSK)" "$T/vuicc.log"
	stop_vuicc
	stop_daemon
	check "link-local: clean exit" test "$DAEMON_RC" -eq 0
	stop_pcscd
}

run 4
run 6
run_link_local
done_testing
