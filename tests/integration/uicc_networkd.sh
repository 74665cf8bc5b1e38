#!/bin/bash
# The card's address from systemd-networkd (OMA-TS-DM_SC 5.1, 8.1 table 2):
# the real networkd serves the card's link with the shipped
# 60-dmscgw-uicc.network (its [Match] turned to the veth driver), the
# card's stack takes its address from networkd's DHCP server
# (tests/dhcp_client.py), and dmscgw reads that lease from networkd on
# D-Bus (DHCPServer.Leases) instead of [link] card_address: the session
# goes to https://localuicc:443/OMA/DM, localuicc being the leased address.
#
# The daemon's end of the veth pair and networkd live in a network
# namespace of their own (networkd manages every link it sees), the card's
# end in another; both are made here.  dmscgw runs in the first; pcscd, the
# bus and the virtual card where the test runs (their sockets are files or
# loopback here), the card's TCP/IP side in the second (--netns).
#   - the lease: UiccLink says networkd, the session goes over TCP/IP;
#   - networkd stops: the lease it gave still counts (the card keeps its
#     address), the next session goes over TCP/IP too;
#   - networkd starts again, without the lease (it keeps none across
#     restarts): the card's address is unknown until the card asks again,
#     then the new lease makes the link ready.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
CTL=$top_builddir/dmscgwctl
PSK=5a5b5c5d5e5f60616263646566676869
ND=
for d in /lib/systemd /usr/lib/systemd; do
	[ -x "$d/systemd-networkd" ] && ND=$d/systemd-networkd && break
done
NDPOLICY=/usr/share/dbus-1/system.d/org.freedesktop.network1.conf
[ "$(id -u)" -eq 0 ] || skip_all "needs root to create network namespaces"
command -v ip >/dev/null || skip_all "needs ip (iproute2)"
[ -n "$ND" ] || skip_all "systemd-networkd is not installed"
[ -f "$NDPOLICY" ] || skip_all "no D-Bus policy for systemd-networkd ($NDPOLICY)"
id systemd-network >/dev/null 2>&1 || skip_all "no user systemd-network"

pick_port
SP=$(another_port)
NSD=dmsc-nd-$PORT	# the daemon and networkd
NSC=dmsc-nc-$PORT	# the card's TCP/IP side
CARD=192.168.225.2	# the one address of the shipped pool

net_down() {
	ip netns del "$NSD" 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
}
trap 'rc=$?; net_down; (exit $rc); cleanup' EXIT

if ! ip netns add "$NSD" 2>"$T/netns.err"; then
	skip_all "network namespaces cannot be created here: $(head -c 200 "$T/netns.err")"
fi
ip netns add "$NSC" || bail "cannot create a second network namespace"
ip link add uicc0 netns "$NSD" type veth peer name card0 netns "$NSC" ||
	bail "cannot create the veth pair"
ip -n "$NSD" link set lo up
ip -n "$NSC" link set lo up
ip -n "$NSC" link set card0 up

BUS_EXTRA="<include>$NDPOLICY</include>" start_bus

# networkd in the daemon's namespace, with its own /run/systemd (the
# shipped .network only) and a read-only /sys: there is no udevd here, and
# networkd then takes links as the kernel gives them
sed 's/^Driver=cdc_eem$/Driver=veth/' \
	"$top_srcdir/contrib/systemd/60-dmscgw-uicc.network" >"$T/60-dmscgw-uicc.network"
check "the shipped .network matches by driver (turned to veth here)" \
	test "$(grep -c '^Driver=veth$' "$T/60-dmscgw-uicc.network")" -eq 1
cat >"$T/networkd.sh" <<EOS
set -e
mount -o remount,ro /sys
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir /run/systemd/network /run/systemd/netif
cp "$T/60-dmscgw-uicc.network" /run/systemd/network/
chown systemd-network:systemd-network /run/systemd/netif
exec "$ND"
EOS
ND_RUNS=0
start_networkd() {
	ND_RUNS=$((ND_RUNS + 1))
	ip netns exec "$NSD" bash "$T/networkd.sh" >>"$T/networkd-$ND_RUNS.log" 2>&1 &
	ND_PID=$!
	PIDS+=("$ND_PID")
	wait_for 15 busctl --system status org.freedesktop.network1 >/dev/null 2>&1 ||
		bail "systemd-networkd did not take its name"
}
nd_gone() { ! busctl --system status org.freedesktop.network1 >/dev/null 2>&1; }
start_networkd
wait_for 15 bash -c "ip -n '$NSD' -4 addr show uicc0 | grep -q 'inet 192.168.225.1/30'"
check "networkd gave the daemon's end 192.168.225.1/30" \
	bash -c "ip -n '$NSD' -4 addr show uicc0 | grep -q 'inet 192.168.225.1/30'"

# the card asks for its address
dhcp() { ip netns exec "$NSC" $PY "$top_srcdir/tests/dhcp_client.py" card0 >"$T/dhcp.out" 2>&1; }
dhcp
check "the card got $CARD/30 from networkd's DHCP server ($(cat "$T/dhcp.out"))" \
	grep -qx "bound $CARD/30" "$T/dhcp.out"
idx=$(ip -n "$NSD" -o link show uicc0 | cut -d: -f1)
# sd_bus_path_encode: a leading digit is escaped as _3N
path=/org/freedesktop/network1/link/_3${idx:0:1}${idx:1}
out=$(busctl --system get-property org.freedesktop.network1 "$path" \
	org.freedesktop.network1.DHCPServer Leases 2>&1)
echo "$out" | diag
check "networkd publishes the lease as a(uayayayayt) ($out)" \
	bash -c '[[ $1 == "a(uayayayayt) 1 2 7 1 "*" 4 192 168 225 2 4 0 0 0 0 16 "* ]]' _ "$out"

cat >"$T/card.scn" <<'EOS'
dm-server DMSC01 srvpwd
dm-client dmclient clipwd
timeout 60
expect profile *
expect envelope DC*
expect envelope D90101
dm-add ./Leased chr one expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
expect envelope D90102
dm-add ./NetworkdGone chr two expect 200
dm-notify
expect tr 8103..4301 82028281 830100 *
expect dm-session
expect dm-end completed
EOS
start_pcscd
write_conf "
encoding = xml

$(dm_sc_conf "$SP" "$PSK")

[link]
match = driver=veth"
ip netns exec "$NSD" "$DMSCGW" -f -c "$T/dmscgw.conf" >>"$T/dmscgw.log" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
wait_for 10 busctl --system status org.dmscgw1 >/dev/null 2>&1 ||
	bail "the daemon did not take its name"
start_vuicc --scws-tls "$SP" --psk-identity dmsc --psk "$PSK" \
	--tcp-tls "$CARD" --netns "/run/netns/$NSC" -v -s "$T/card.scn"
link_is() { "$CTL" card 1 2>/dev/null | grep -q "^UiccLink: $1"; }
finished() { [ "$(count_lines "$T/dmscgw.log" "session .* with DMSC01 (finished|failed)")" -ge "$1" ]; }
transport() {
	"$CTL" --json sessions 2>/dev/null | $PY -c '
import json, sys
s = sorted(json.load(sys.stdin)["Sessions"], key=lambda x: x["id"])
print(s[int(sys.argv[1])]["transport"], s[int(sys.argv[1])]["result"])' "$1"
}

wait_for 15 link_is ready
out=$("$CTL" card 1 2>&1)
check "UiccLink: ready, the card's address from networkd" \
	grep -qx "UiccLink: ready, interface uicc0, card $CARD (networkd), addresses 192.168.225.1/30.*" <<<"$out"
check "the log says where the address came from" \
	grep -q "UICC link .* -> ready: uicc0: the card is reachable, card $CARD from networkd" "$T/dmscgw.log"
"$CTL" envelope D90101 >/dev/null
wait_for 30 finished 1
check "the session went over TCP/IP to the leased address" test "$(transport 0)" = "tcpip ok"
check "... which the card's TCP/IP side served" \
	grep -q "tcp: connection from 192.168.225.1 (TLS-PSK)" "$T/vuicc.log"

# networkd stops: the card keeps its lease, and the daemon its address
kill "$ND_PID"
wait "$ND_PID" 2>/dev/null
wait_for 10 nd_gone
"$CTL" envelope D90102 >/dev/null
wait_for 30 finished 2
check "networkd gone: the lease still counts, the session went over TCP/IP" \
	test "$(transport 1)" = "tcpip ok"

# networkd again, without the lease: unknown until the card asks again
start_networkd
wait_for 15 link_is up
check "networkd back without leases: the card's address is not known" \
	link_is "up, interface uicc0, card unknown"
dhcp
check "the card asks again ($(cat "$T/dhcp.out"))" grep -qx "bound $CARD/30" "$T/dhcp.out"
wait_for 15 link_is ready
check "the new lease makes the link ready (PropertiesChanged on Leases)" \
	link_is "ready, interface uicc0, card $CARD (networkd)"
wait_for 10 grep -q "all .* steps passed" "$T/vuicc.log"
check "the card's scenario passed" grep -q "all .* steps passed" "$T/vuicc.log"
check "./Leased and ./NetworkdGone provisioned" \
	test "$("$CTL" tree get ./Leased 2>&1) $("$CTL" tree get ./NetworkdGone 2>&1)" = "one two"
stop_vuicc
stop_daemon
check "clean exit" test "$DAEMON_RC" -eq 0
done_testing
