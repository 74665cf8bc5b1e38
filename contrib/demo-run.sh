#!/bin/bash
# Run the demo with already-built binaries in $1 (see contrib/demo.sh).
#
# The whole OMA DM Smart Card flow, end to end, on real processes: a private
# pcscd with the vpcd reader driver, a private D-Bus system bus, the daemon,
# and the virtual UICC dmsc-vuicc playing the card's DM_SC server (scenario
# contrib/demo.scn).  At power-on the card sends a DM Notification over BIP;
# the daemon's DM client opens the DM session over HTTP in TLS-PSK to the
# card's web server through its BIP proxy, and the card provisions a DM
# account and a connectivity object, reads DevInfo, has an Atomic fail and
# roll back, and deletes a node.  A timeline is built from the daemon's and
# the card's logs; the tree is then read back with dmscgwctl.  Exit 0 only if
# all of it happened.  KEEP=1 keeps the temporary directory.
set -u
B=${1:?build directory}
top=$(cd "$(dirname "$0")/.." && pwd)
SCN=$top/contrib/demo.scn
T=$(mktemp -d /tmp/dmscgw-demo.XXXXXX)
PSK=00112233445566778899aabbccddeeff
LIMIT=15		# seconds for the whole session to happen
pids=()
ports=()
finish() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for p in "${ports[@]}"; do rmdir "/tmp/dmscgw-ports/$p" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "(kept $T)"; else rm -rf "$T"; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then BOLD=$'\033[1m' RED=$'\033[31m' GREEN=$'\033[32m' OFF=$'\033[0m'
else BOLD= RED= GREEN= OFF=; fi
step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$OFF"; }

# Ports.  A port is taken when something listens on it.  The random ones
# are also reserved in /tmp/dmscgw-ports as the tests do, so that a test
# running at the same time does not pick them.
listening() { [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ]; }
reserve() {	# reserve PORT...: 0 if all are free and now ours
	local p
	for p in "$@"; do listening "$p" && return 1; done
	mkdir -p /tmp/dmscgw-ports
	for p in "$@"; do
		if ! mkdir "/tmp/dmscgw-ports/$p" 2>/dev/null; then
			return 1
		fi
		ports+=("$p")
	done
	return 0
}
got=
random_port() {	# random_port [2]: a free port (and the next one) in $got
	got=
	for _ in $(seq 1 200); do
		p=$((30000 + RANDOM % 20000))
		if [ "${1:-1}" = 2 ]; then reserve "$p" $((p + 1)); else reserve "$p"; fi &&
			{ got=$p; return 0; }
	done
	echo "no free port" >&2
	exit 1
}
random_port 2
VPCD=$got
note=
TLS=4116
if listening $TLS; then
	random_port; TLS=$got
	note="$note; port 4116 is taken here: TLS-PSK on $TLS instead"
fi
HTTP=3516
if listening $HTTP; then
	random_port; HTTP=$got
	note="$note; port 3516 is taken here: plain HTTP on $HTTP instead"
fi

t0=$(date +%s%N)
stamp() {
	local ms=$((($(date +%s%N) - t0) / 1000000))
	printf '[%d.%d s]' $((ms / 1000)) $((ms % 1000 / 100))
}

step "setting up: private pcscd (vpcd on $VPCD), private D-Bus bus, dmscgw, the virtual card"
mkdir -p "$T/readers"
printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:%s\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID %s\n' \
	"$VPCD" "$VPCD" >"$T/readers/vpcd"
systemd-socket-activate -l "$T/pcscd.sock" pcscd -f -c "$T/readers" >"$T/pcscd.log" 2>&1 &
pids+=($!)
export PCSCLITE_CSOCK_NAME=$T/pcscd.sock

# the bus as tests/lib.sh start_bus makes it: Debian's system-bus policy
# plus the project's own, on a socket in $T (made 755 as there);
# dmscgw and dmscgwctl find it through DBUS_SYSTEM_BUS_ADDRESS
chmod 755 "$T"
sed -e "s|@ADDRESS@|unix:path=$T/bus|" \
    -e "s|@POLICY@|$top/contrib/dbus/org.dmscgw1.conf|" \
    -e "s|@EXTRA@||" \
    "$top/tests/dbus/bus.conf.in" >"$T/bus.conf"
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile >"$T/dbus.log" 2>&1 &
pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
for _ in $(seq 1 50); do
	[ -S "$T/pcscd.sock" ] && [ -S "$T/bus" ] && break
	sleep 0.1
done

cat >"$T/dmscgw.conf" <<EOC
[card]
reader = Virtual PCD 00 00

[dm]
state_dir = $T/state

[dm_sc]
server_id = DMSC01
server_password = srvpwd
client_name = dmclient
client_password = clipwd
addr = https://127.0.0.1:$TLS/OMA/DM
psk_identity = dmsc
psk_key = $PSK
EOC
echo "dmscgw -f -c dmscgw.conf --debug=dm     # [dm_sc] server DMSC01 at https://127.0.0.1:$TLS/OMA/DM"
echo "dmsc-vuicc --scws-tls $TLS --psk-identity dmsc --psk ... --scws $HTTP -v -s contrib/demo.scn"
[ -z "$note" ] || echo "(${note#; })"
: >"$T/dmscgw.log"
: >"$T/vuicc.log"
"$B/dmscgw" -f -c "$T/dmscgw.conf" --debug=dm >>"$T/dmscgw.log" 2>&1 &
dpid=$!
pids+=($dpid)
# the card only once the daemon is on the bus, so the timeline starts with it
for _ in $(seq 1 50); do
	"$B/dmscgwctl" status >/dev/null 2>&1 && break
	sleep 0.1
done
t0=$(date +%s%N)
"$B/dmsc-vuicc" -p "$VPCD" -l "$T/card.log" --scws-tls "$TLS" --psk-identity dmsc \
	--psk "$PSK" --scws "$HTTP" -v -s "$SCN" >>"$T/vuicc.log" 2>&1 &
cpid=$!
pids+=($cpid)

# ---- the timeline, from the logs as their lines appear ----
# The daemon's log drives it.  The card's lines are read only up to the point
# the daemon's line being shown implies (the card wrote them before, e.g. it
# sent message N before the daemon received it), so the two logs come out in
# causal order however the polling falls.
step "timeline (dmscgw's log, and the card's with -v)"
say() { printf '%s %s\n' "$(stamp)" "$*"; }
cmd() { printf '           %-8s %-38s %s\n' "$@"; }
summary() {	# summary TO-CARD|FROM-CARD ITEMS: a "dm: <- msg" line made short
	local w cmds= sts= prev= n=0
	# Status(Add 1/4)=200 -> Status:Add=200, Alert(1200) -> Alert=1200
	for w in $(sed -E -e 's/Status\(([A-Za-z]+) [0-9]+\/[0-9]+\)=([0-9]+)[^ ]*/Status:\1=\2/g' \
			-e 's/Alert\(([0-9]+)\)/Alert=\1/g' <<<"$2"); do
		case $w in
		Cred | Final | ./*) continue ;;
		esac
		if [ "$w" = "$prev" ]; then n=$((n + 1)); continue; fi
		summary_add
		prev=$w n=1
	done
	summary_add
	[ -n "$sts" ] && sts="Status ${sts#, }"
	if [ -n "$cmds" ] && [ -n "$sts" ]; then echo "${cmds#, }; $sts"
	elif [ -n "$cmds" ]; then echo "${cmds#, }"
	elif [ "$1" = from-card ]; then echo "$sts, and no more commands: the end"
	else echo "$sts"; fi
}
summary_add() {
	local x
	[ -n "$prev" ] || return 0
	x=${prev#Status:}
	x=${x/=/ }
	case $x in
	"SyncHdr 212") x="$x (authenticated)" ;;
	"Alert 1200") x="$x (server-initiated)" ;;
	*" 507") x="$x (Atomic failed)" ;;
	*" 216") x="$x (rolled back)" ;;
	*" 215") x="$x (not executed)" ;;
	*" 404") x="$x (not found)" ;;
	esac
	[ "$n" -gt 1 ] && x="$x x$n"
	case $prev in
	Status:*) sts="$sts, $x" ;;
	*) cmds="$cmds, $x" ;;
	esac
}
finished= failed= passed= scnfail= ended=
card_line() {
	local l=${1#dmsc-vuicc: } re
	case $l in
	"dm: the DM client listens on port "*)
		say "DM client registered with the card (Terminal Applications envelope, BIP port ${l##* })" ;;
	"channel "*": open, UICC server mode, port "*)
		re='port ([0-9]+),.*(TLS-PSK)?$'
		[[ $l =~ $re ]] &&
			say "card opens its web server on BIP port ${BASH_REMATCH[1]}$([[ $l == *TLS-PSK ]] && echo ' (HTTP over TLS-PSK)' || echo ' (plain HTTP)')" ;;
	"dm: Package#0, "*)
		re='session ([0-9A-F]+)'
		[[ $l =~ $re ]]
		say "wake-up at power-on: the card's DM_SC server sends a DM Notification (session ${BASH_REMATCH[1]:-?})" ;;
	"dm: Package#0 ("*" on channel "*)
		say "card -> DM client: Package#0 over BIP, Terminal Server Mode channel ${l##* }" ;;
	"TLS: "*"handshake done"*)
		say "TLS-PSK handshake done: ${l#*done, }" ;;
	"dm: <- msg "*)
		re='^dm: <- msg ([0-9]+) \(([a-z]+), ([0-9]+) bytes\) (.*)$'
		[[ $l =~ $re ]] &&
			say "DM client -> card: message ${BASH_REMATCH[1]} (${BASH_REMATCH[2]}, ${BASH_REMATCH[3]} bytes): $(summary to-card "${BASH_REMATCH[4]}")" ;;
	"dm: -> msg "*)
		re='^dm: -> msg ([0-9]+) \(([a-z]+), ([0-9]+) bytes\) (.*)$'
		[[ $l =~ $re ]] &&
			say "card -> DM client: message ${BASH_REMATCH[1]} (${BASH_REMATCH[2]}, ${BASH_REMATCH[3]} bytes): $(summary from-card "${BASH_REMATCH[4]}")" ;;
	"dm: session "*" ended: "*)
		ended=1
		say "card: DM session ${l#dm: session }" ;;
	"scenario: all "*" steps passed")
		passed=1
		say "card: scenario contrib/demo.scn: ${GREEN}${l#scenario: }${OFF}" ;;
	"scenario "*": step "*" failed"*)
		scnfail=1
		say "${RED}card: $l${OFF}" ;;
	esac
}
# card_until REGEX: show the card's complete new lines, up to one matching
# (or to the end of what it wrote)
cpart=
card_until() {
	local line
	while true; do
		line=
		if IFS= read -r -u 4 line; then
			line=$cpart$line
			cpart=
			card_line "$line"
			[ -n "$1" ] && [[ $line =~ $1 ]] && return 0
		else
			cpart=$cpart$line
			return 1
		fi
	done
}
daemon_line() {
	local l=${1#dmscgw: } re
	case $l in
	*"card present"*)
		say "card inserted: ${l#*card present, }" ;;
	*"terminal profile sent"*)
		say "TERMINAL PROFILE sent (${l#*sent (}" ;;
	*"card opened channel"*"DM client"*)
		card_until 'dm: Package#0, '
		say "dmscgw: the card opened BIP channel ${l#*channel } (Terminal Server Mode)" ;;
	*"notification from "*)
		card_until 'dm: Package#0 \('
		re='notification from ([^ ]+) by ([^:]+): session ([0-9A-F]+)'
		[[ $l =~ $re ]] &&
			say "dmscgw: DM Notification from ${BASH_REMATCH[1]} over ${BASH_REMATCH[2]^^} (session ${BASH_REMATCH[3]}), digest verified" ;;
	*"-initiated"*)
		re='session ([^ ]+) with ([^ ]+) \(([^)]+)\): ([a-z]+)-initiated'
		[[ $l =~ $re ]] &&
			say "dmscgw: session ${BASH_REMATCH[1]} with ${BASH_REMATCH[2]} over TLS-PSK ${BASH_REMATCH[3]} (${BASH_REMATCH[4]}-initiated)" ;;
	*": server message "*)
		re='server message ([0-9]+)'
		[[ $l =~ $re ]] && card_until "dm: -> msg ${BASH_REMATCH[1]} " ;;
	*"Atomic"*"rolled back"*)
		cmd Atomic "(the commands above)" "failed: rolled back" ;;
	*"session "*": "[A-Z][a-z]*" ./"*": "[0-9][0-9][0-9])
		re='session [^ ]+: ([A-Za-z]+) ([^ ]+): ([0-9]+)$'
		[[ $l =~ $re ]] && cmd "${BASH_REMATCH[@]:1}" ;;
	*" finished: "*" commands")
		card_until 'dm: session .* ended'
		finished=1
		say "dmscgw: ${GREEN}session finished: ok, ${l##*finished: }${OFF}" ;;
	*"session "*" failed ("*)
		card_until 'dm: session .* ended'
		failed=1
		say "${RED}dmscgw: session ${l#*session }${OFF}" ;;
	esac
}
exec 3<"$T/dmscgw.log"
exec 4<"$T/vuicc.log"
dpart=
end=$((SECONDS + LIMIT))
while [ $SECONDS -lt $end ]; do
	while true; do
		line=
		if IFS= read -r -u 3 line; then
			line=$dpart$line
			dpart=
			daemon_line "$line"
		else
			dpart=$dpart$line
			break
		fi
	done
	# the card's lines after the session, or all of them once it is gone
	if [ -n "$finished$failed" ] || ! kill -0 "$cpid" 2>/dev/null; then
		card_until ''
	fi
	[ -n "$passed$scnfail" ] && [ -n "$finished$failed" ] && break
	[ -n "$scnfail" ] && ! kill -0 "$cpid" 2>/dev/null && break
	kill -0 "$dpid" 2>/dev/null || break
	sleep 0.05
done
[ -n "$finished$failed" ] || say "${RED}no DM session finished${OFF}"
[ -n "$passed$scnfail" ] || say "${RED}the card's scenario did not end${OFF}"
exec 3<&- 4<&-
ok=1
fail() { ok=; echo "${RED}FAILED: $*${OFF}"; }
[ -n "$finished" ] && [ -z "$failed" ] || fail "the DM session did not finish ok"
[ -n "$passed" ] || fail "the card's scenario did not pass"

# ---- the tree, read back through D-Bus ----
CTL=$B/dmscgwctl
step "the provisioned tree, through D-Bus: dmscgwctl tree ls / tree get"
# leaf URI VALUE: show it, and check it holds VALUE
leaf() {
	local v
	v=$("$CTL" tree get "$1" 2>&1)
	printf '  %-36s %s\n' "$1" "$v"
	[ "$v" = "$2" ] || fail "$1 is '$v', not '$2'"
}
# gone URI WHY: show that it is absent, and check it is
gone() {
	if "$CTL" tree get "$1" >/dev/null 2>&1; then
		printf '  %-36s %s\n' "$1" "present!"
		fail "$1 is in the tree ($2)"
	else
		printf '  %-36s %s\n' "$1" "(absent: $2)"
	fi
}
ls_() {
	echo "\$ dmscgwctl tree ls $1"
	"$CTL" tree ls "$1" 2>&1 | sed 's/^/  /'
}
ls_ ./DMAcc
ls_ ./DMAcc/Remote
echo "\$ dmscgwctl tree get ..."
leaf ./DMAcc/Remote/AppID w7
leaf ./DMAcc/Remote/ServerID remote.example.com
leaf ./DMAcc/Remote/Name "Example remote server"
leaf ./DMAcc/Remote/AppAddr/1/Addr https://dm.example.com/oma
leaf ./DMAcc/Remote/AppAddr/1/AddrType URI
leaf ./DMAcc/Remote/PrefConRef ./Conn
ls_ ./Conn
echo "\$ dmscgwctl tree get ..."
leaf ./Conn/APN internet
leaf ./Conn/Proxy proxy.example.com:8080
gone ./Conn/Backup "added in the Atomic, rolled back"
gone ./Conn/Legacy "deleted"
leaf ./DevInfo/DevId IMEI:000000000000000

step "dmscgwctl sessions"
out=$("$CTL" sessions 2>&1)
echo "$out" | sed 's/^/  /'
echo "$out" | grep -q "DMSC01.*ok" || fail "dmscgwctl sessions shows no ok session with DMSC01"

step "stopping: SIGTERM to dmscgw"
kill -TERM "$dpid"
for _ in $(seq 1 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$dpid" 2>/dev/null; then
	kill -KILL "$dpid"
	wait "$dpid"
	fail "dmscgw did not stop within 5 s of SIGTERM"
else
	wait "$dpid"
	rc=$?
	if [ $rc -eq 0 ]; then echo "dmscgw stopped cleanly (exit 0)"
	else fail "dmscgw exited $rc on SIGTERM"; fi
fi
grep -q -e srvpwd -e clipwd -e "$PSK" "$T/dmscgw.log" && fail "a secret is in the daemon's log"

if [ -n "$ok" ]; then
	step "${GREEN}demo OK${OFF}${BOLD}: Notification over BIP, DM session over TLS-PSK, tree provisioned, Atomic rolled back, clean stop"
	exit 0
fi
step "${RED}demo FAILED${OFF}"
for f in dmscgw.log vuicc.log pcscd.log dbus.log; do
	[ -s "$T/$f" ] || continue
	echo "--- $f (last 25 lines, without APDUs)"
	grep -v -e '^dmsc-vuicc: [<>] ' -e 'ATR requested' "$T/$f" | tail -n 25
done
exit 1
