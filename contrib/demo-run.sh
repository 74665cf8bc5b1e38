#!/bin/bash
# Run the demo with already-built binaries in $1 (see contrib/demo.sh).
#
# The whole OMA DM Smart Card flow, end to end, on real processes: a private
# pcscd with the vpcd reader driver, a private D-Bus system bus, the daemon,
# and the virtual UICC dmsc-vuicc playing the card's DM_SC server (scenario
# contrib/demo.scn).  At power-on the card sends a DM Notification over BIP;
# the daemon's DM client opens the DM session over HTTP in TLS-PSK to the
# card's web server through its BIP proxy, and the card provisions, through
# the Inbox, the DM account of a remote DM server (./DMAcc/Remote, server
# REMOTE at https://localhost:8443/dm) and a connectivity object, reads
# DevInfo, has an Atomic fail and roll back, and deletes a node.  The tree
# is then read back with dmscgwctl.
#
# The second act is the hand-over (OMA-TS-DM_SC 4.1): REMOTE, the
# independent DM server of the tests (tests/peer/dmserver.py, scenario
# "demo"), serves HTTPS with a certificate for localhost by a CA made here
# with openssl, which the daemon trusts through [dm] ca_file.  A shell
# script serves ./Vendor/dmscgw/Reboot through dmscgwctl exec-agent;
# dmscgwctl session start REMOTE; REMOTE reads DevId and sends an Exec on
# that node; the script accepts it (202) and leaves a job that reports the
# result with dmscgwctl exec-result; the daemon delivers it in a Generic
# Alert 1226 session, whose Correlator, Source, Type, Format, Mark and Data
# REMOTE checks, with every other part of the client's messages.
#
# A timeline is built from the daemon's, the card's, REMOTE's and the
# agent's logs.  Exit 0 only if all of it happened.  KEEP=1 keeps the
# temporary directory.
set -u
B=${1:?build directory}
top=$(cd "$(dirname "$0")/.." && pwd)
SCN=$top/contrib/demo.scn
T=$(mktemp -d /tmp/dmscgw-demo.XXXXXX)
PSK=00112233445566778899aabbccddeeff
LIMIT=15		# seconds for each act's sessions to happen
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

RP=8443			# the remote DM server of the second act
if listening $RP; then
	random_port; RP=$got
fi
REMOTE=https://localhost:$RP/dm

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

# the remote server's certificate: a CA made here, for the daemon to trust
# ([dm] ca_file), and the server's certificate for localhost by it
mkpki() {
	set -e
	mkdir -p "$T/pki" && cd "$T/pki"
	key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1" 2>/dev/null; }
	key ca.key
	openssl req -x509 -new -key ca.key -subj "/CN=dmscgw demo CA" -days 1 \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign -out ca.crt 2>/dev/null
	key server.key
	openssl req -new -key server.key -subj /CN=localhost -out server.csr 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-days 1 -extfile server.ext -out server.crt 2>/dev/null
}
if ! (mkpki); then
	echo "${RED}cannot make the demo's certificates with openssl${OFF}"
	exit 1
fi
# the card's scenario, with the remote server's address
sed "s|@REMOTE_ADDR@|$REMOTE|" "$SCN" >"$T/demo.scn"

cat >"$T/dmscgw.conf" <<EOC
[card]
reader = Virtual PCD 00 00

[terminal]
imei = 490154203237518

[dm]
state_dir = $T/state
ca_file = $T/pki/ca.crt

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
	--psk "$PSK" --scws "$HTTP" -v -s "$T/demo.scn" >>"$T/vuicc.log" 2>&1 &
cpid=$!
pids+=($cpid)

# ---- the timeline, from the logs as their lines appear ----
# The daemon's log drives it.  The card's lines are read only up to the point
# the daemon's line being shown implies (the card wrote them before, e.g. it
# sent message N before the daemon received it), so the two logs come out in
# causal order however the polling falls.
step "timeline (dmscgw's log, and the card's with -v)"
say() { below_done; printf '%s %s\n' "$(stamp)" "$*"; }
# cmd NAME URI STATUS: one of the server's commands and its Status; the
# Adds below an object the Inbox placed are shown as one line
below=0 below_root= below_code=
cmd() {
	if [ "$1" = Add ] && [[ $2 =~ ^(\./Inbox/[^/]+)/ ]] &&
	   { [ "$below" = 0 ] || { [ "$3" = "$below_code" ] &&
				   [ "${BASH_REMATCH[1]}" = "$below_root" ]; }; }; then
		below=$((below + 1)) below_root=${BASH_REMATCH[1]} below_code=$3
		return
	fi
	below_done
	printf '           %-8s %-38s %s\n' "$@"
}
below_done() {
	[ "$below" -gt 0 ] || return 0
	printf '           %-8s %-38s %s\n' Add "$below_root/..." \
		"$below_code x$below (the nodes of the object)"
	below=0
}
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
remote_sids= tls_next= tls_ok= corr= handed= accepted= result= delivered=
rfinished=0 rfailed= generic_seen=
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
# follow FD HANDLER REGEX: show the complete new lines of the log open on
# FD through HANDLER, up to one matching REGEX (or to the end of what it
# wrote: a line being written is kept for the next call)
declare -A part=()
follow() {
	local line
	while true; do
		line=
		if IFS= read -r -u "$1" line; then
			line=${part[$1]:-}$line
			part[$1]=
			"$2" "$line"
			[ -n "$3" ] && [[ $line =~ $3 ]] && return 0
		else
			part[$1]=${part[$1]:-}$line
			return 1
		fi
	done
}
card_until() { follow 4 card_line "$1"; }
daemon_line() {
	local l=${1#dmscgw: } re m
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
	*"session "*": Inbox: "*" placed at "*)
		below_done
		printf '           %-8s %s\n' Inbox "${l#*Inbox: }" ;;
	*"client-initiated session with "*" by dbus")
		l=${l#*with }
		say "dmscgw: a client-initiated session with ${l% by dbus} asked for over D-Bus" ;;
	*"client-initiated session with "*": generic alert")
		re='with ([^ ]+) by'
		[[ $l =~ $re ]]
		say "dmscgw: a Generic Alert (1226) session with ${BASH_REMATCH[1]} to deliver it" ;;
	*"-initiated"*)
		re='session ([^ ]+) with ([^ ]+) \(([^)]+)\): ([a-z]+)-initiated'
		[[ $l =~ $re ]] || return 0
		if [ "${BASH_REMATCH[2]}" = DMSC01 ]; then
			say "dmscgw: session ${BASH_REMATCH[1]} with ${BASH_REMATCH[2]} over TLS-PSK ${BASH_REMATCH[3]} (${BASH_REMATCH[4]}-initiated)"
		else
			remote_sids="$remote_sids ${BASH_REMATCH[1]} "
			say "dmscgw: session ${BASH_REMATCH[1]} with ${BASH_REMATCH[2]} over HTTPS ${BASH_REMATCH[3]} (${BASH_REMATCH[4]}-initiated), the account the card provisioned"
		fi ;;
	*": server message "*)
		re='session ([^ ]+): server message ([0-9]+)'
		[[ $l =~ $re ]] || return 0
		if [[ $remote_sids == *" ${BASH_REMATCH[1]} "* ]]; then
			follow 5 server_line "^dmserver: -> msg ${BASH_REMATCH[2]} "
		else
			card_until "dm: -> msg ${BASH_REMATCH[2]} "
		fi ;;
	# ---- the second act ----
	*"Exec agent "*" registered for "*)
		say "dmscgw: Exec agent registered for ./${l##* } (RegisterExecAgent over D-Bus): the node is made executable" ;;
	*"session with "*" queued: one is running")
		say "dmscgw: queued: it follows the session running" ;;
	*"session with "*": certificates verified against "*)
		tls_next=1
		say "dmscgw: HTTPS: REMOTE's certificate is checked against ${l##*"$T/"} ([dm] ca_file) and the host name" ;;
	*"Exec "*" to agent "*"correlator "*)
		re='correlator ([^)]+)\)$'
		[[ $l =~ $re ]] && corr=${BASH_REMATCH[1]} ;;
	*"session "*": Exec "*" handed to its agent")
		re='Exec ([^ ]+) handed'
		[[ $l =~ $re ]]
		say "dmscgw: Exec ${BASH_REMATCH[1]} handed to its agent: org.dmscgw1.ExecAgent.Exec (correlator $corr): the session waits for it, the daemon's event loop does not"
		handed=1 ;;
	*"Exec "*" accepted by its agent: correlator "*)
		follow 6 agent_line 'exit status'
		accepted=1
		say "dmscgw: accepted (202), correlator ${l##* } kept on disk before the server hears it" ;;
	*"Exec result of "*"(correlator "*"): "[0-9][0-9][0-9]*)
		re='Exec result of ([^ ]+) \(correlator ([^)]+)\): ([0-9]+)'
		[[ $l =~ $re ]]
		result=1
		say "dmscgw: the result, from the agent's job (dmscgwctl exec-result ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ...): kept on disk until REMOTE has it" ;;
	*"Exec "*": the agent answered "*)
		follow 6 agent_line 'exit status|killed by signal'
		say "dmscgw: ${l#*dm: }" ;;
	*"; retry "*" of "*)
		say "dmscgw: ${l#*dm: }" ;;
	*"Exec result of "*" not delivered to "*)
		say "${RED}dmscgw: ${l#*dm: }${OFF}" ;;
	*"Exec result of "*" delivered to "*)
		delivered=1
		say "dmscgw: ${GREEN}the result of the Exec is delivered: ${l##*delivered to } acknowledged the Generic Alert${OFF}" ;;
	*"Atomic"*"rolled back"*)
		cmd Atomic "(the commands above)" "failed: rolled back" ;;
	*"session "*": "[A-Z][a-z]*" ./"*": "[0-9][0-9][0-9])
		re='session [^ ]+: ([A-Za-z]+) ([^ ]+): ([0-9]+)$'
		[[ $l =~ $re ]] && cmd "${BASH_REMATCH[@]:1}" ;;
	*" finished: "*" commands")
		re='session ([^ ]+) with ([^ ]+) finished: (.*)$'
		[[ $l =~ $re ]] || return 0
		m=("${BASH_REMATCH[@]}")
		if [ "${m[2]}" = DMSC01 ]; then
			card_until 'dm: session .* ended'
			finished=1
		else
			rfinished=$((rfinished + 1))
		fi
		say "dmscgw: ${GREEN}session ${m[1]} with ${m[2]} finished: ok, ${m[3]}${OFF}" ;;
	*"session "*" failed ("*)
		if [[ $l == *" with DMSC01 "* ]]; then
			card_until 'dm: session .* ended'
			failed=1
		else
			rfailed=1
		fi
		say "${RED}dmscgw: session ${l#*session }${OFF}" ;;
	esac
}
# the remote DM server's log (tests/peer/dmserver.py): a line per message
server_line() {
	local l=${1#dmserver: } re
	case $l in
	"<- msg "*)
		re='^<- msg ([0-9]+) \(([a-z]+), ([0-9]+) bytes(, (TLS[^ ]+) ([^)]*))?\): (.*)$'
		[[ $l =~ $re ]] || return 0
		if [ -n "$tls_next" ] && [ -n "${BASH_REMATCH[5]}" ]; then
			tls_next=
			tls_ok=1
			say "HTTPS: ${BASH_REMATCH[5]} handshake done (${BASH_REMATCH[6]}): dmscgw verified the server's certificate for localhost"
		fi
		say "DM client -> REMOTE: message ${BASH_REMATCH[1]} (${BASH_REMATCH[2]}, ${BASH_REMATCH[3]} bytes): ${BASH_REMATCH[7]}" ;;
	"-> msg "*)
		re='^-> msg ([0-9]+) \(([0-9]+) bytes\): (.*)$'
		[[ $l =~ $re ]] &&
			say "REMOTE -> DM client: message ${BASH_REMATCH[1]} (${BASH_REMATCH[2]} bytes): ${BASH_REMATCH[3]}" ;;
	"  item "*)
		generic_seen=1
		printf '           %s\n' "${l#  }" ;;
	esac
}
# the Exec agent's log (dmscgwctl exec-agent): a line per command run
agent_line() {
	local l=${1#dmscgwctl: exec-agent: } re
	case $l in
	"serving "*) ;;
	*" started")
		re='^([^ ]+) \(([0-9]+) bytes, correlator ([^)]+)\): (.*) started$'
		[[ $l =~ $re ]] &&
			say "agent: runs its script for the Exec of ${BASH_REMATCH[1]} (${BASH_REMATCH[2]} bytes of data, correlator ${BASH_REMATCH[3]})" ;;
	*": exit status 202: 202")
		say "agent: the script exits 202: the Exec's Status is 202 (accepted); its background job reboots and reports" ;;
	*": exit status "*)
		say "agent: the script exits ${l##*exit status }" ;;
	*) say "agent: $l" ;;
	esac
}
exec 3<"$T/dmscgw.log"
exec 4<"$T/vuicc.log"
end=$((SECONDS + LIMIT))
while [ $SECONDS -lt $end ]; do
	follow 3 daemon_line ''
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
exec 4<&-
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
leaf ./DMAcc/Remote/ServerID REMOTE
leaf ./DMAcc/Remote/AppAddr/1/Addr "$REMOTE"
leaf ./DMAcc/Remote/AppAuth/1/AAuthName remote-client
leaf ./DMAcc/Remote/AppAuth/1/AAuthSecret "********"
leaf ./DMAcc/Remote/PrefConRef ./Conn
gone ./Inbox/Remote "the Inbox placed it at ./DMAcc/Remote"
# the account as the DM client will use it
echo "\$ dmscgwctl accounts    # Remote"
acc=$("$CTL" accounts 2>&1 | sed -n '/^Account: Remote$/,/^$/p')
echo "$acc" | grep -E '^(Account|ServerID|ConfiguredBy|AppAddr|AAuthPref|ClientAuth|ServerAuth)' |
	sed 's/^/  /'
for want in "ServerID: REMOTE" "ConfiguredBy: server" "AppAddr: $REMOTE" \
	    "ClientAuthType: DIGEST" "ClientAuthName: remote-client" \
	    "ClientAuthSecret: (set)" "ServerAuthName: REMOTE" "ServerAuthSecret: (set)"; do
	grep -qxF "$want" <<<"$acc" || fail "dmscgwctl accounts: no '$want' for Remote"
done
ls_ ./Conn
echo "\$ dmscgwctl tree get ..."
leaf ./Conn/APN internet
leaf ./Conn/Proxy proxy.example.com:8080
gone ./Conn/Backup "added in the Atomic, rolled back"
gone ./Conn/Legacy "deleted"
leaf ./DevInfo/DevId IMEI:490154203237518

# ==== the second act: the hand-over (OMA-TS-DM_SC 4.1) ====
# The account the card provisioned is used: the daemon calls REMOTE over
# HTTPS, checking its certificate against the demo CA.  REMOTE is the
# independent DM server of the tests (tests/peer/dmserver.py, scenario
# "demo" in tests/peer/scenarios.py), which checks every client message:
# it reads DevId and runs an Exec on ./Vendor/dmscgw/Reboot, a node a shell
# script serves through dmscgwctl exec-agent.  The script accepts (202) and
# leaves a job that reports the result with dmscgwctl exec-result; the
# daemon then brings it to REMOTE in a Generic Alert 1226 session.
NODE=./Vendor/dmscgw/Reboot
AGENT='data=$(cat)
# the reboot, in the background; its result is reported when done
( dmscgwctl exec-result "$DMSCGW_CORRELATOR" 200 rebooted ) >/dev/null 2>&1 &
exit 202	# accepted'
PY=/usr/bin/python3
export PATH=$B:$PATH	# the agent's dmscgwctl
# upto SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds
upto() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
ctl_next() { curl -s --noproxy "*" --max-time 10 --cacert "$T/pki/ca.crt" "https://localhost:$RP/ctl/next"; }

step "act 2, the hand-over: the daemon uses the account the card provisioned"
echo "tests/peer/dmserver.py --scenario demo --tls server.crt server.key --port $RP   # REMOTE, at $REMOTE"
echo "dmscgwctl exec-agent $NODE -- sh -c \"\$AGENT\"   # the Exec agent, a shell script:"
sed 's/^/    /' <<<"$AGENT"
[ "$RP" = 8443 ] || echo "(port 8443 is taken here: REMOTE on $RP instead)"
: >"$T/server.log"
: >"$T/agent.log"
exec 5<"$T/server.log" 6<"$T/agent.log"
mkdir -p "$T/remote"
$PY "$top/tests/peer/dmserver.py" --scenario demo --dir "$T/remote" --port "$RP" \
	--tls "$T/pki/server.crt" "$T/pki/server.key" 2>>"$T/server.log" &
spid=$!
pids+=("$spid")
"$CTL" exec-agent "$NODE" -- sh -c "$AGENT" 2>>"$T/agent.log" &
apid=$!
pids+=("$apid")
step "timeline, continued (dmscgw's log, REMOTE's, the agent's)"
if ! upto 10 test -s "$T/remote/port"; then
	fail "REMOTE (tests/peer/dmserver.py) did not start"
elif ! upto 10 grep -qx "serving $NODE" "$T/agent.log"; then
	fail "dmscgwctl exec-agent did not register"
else
	say "REMOTE listens on $REMOTE: HTTPS, its certificate for localhost by the demo CA"
	follow 3 daemon_line ''
	instr=$(ctl_next)
	if [ "${instr%%$'\n'*}" != "start REMOTE" ]; then
		fail "REMOTE did not ask for a session start ('${instr%%$'\n'*}')"
	elif ! id=$("$CTL" session start REMOTE 2>&1); then
		fail "dmscgwctl session start REMOTE: $id"
	else
		say "\$ dmscgwctl session start REMOTE     # session $id"
		end=$((SECONDS + LIMIT))
		while [ $SECONDS -lt $end ]; do
			follow 3 daemon_line ''
			[ -n "$delivered$rfailed" ] && break
			# no 202, no result to wait for
			[ "$rfinished" -gt 0 ] && [ -z "$accepted" ] && break
			kill -0 "$dpid" 2>/dev/null || break
			sleep 0.05
		done
		follow 5 server_line ''
		follow 6 agent_line ''
		[ -n "$delivered" ] ||
			say "${RED}no Exec result delivered${OFF}"
	fi
	# the server's remaining sessions: the one the client started by
	# itself (the Generic Alert), then "end", which closes it
	for _ in 1 2 3; do
		[ "$(ctl_next)" = end ] && break
	done
fi
kill -TERM "$spid" "$apid" 2>/dev/null
wait "$spid" "$apid" 2>/dev/null
exec 5<&- 6<&-
[ -n "$tls_ok" ] || fail "no HTTPS session with REMOTE"
[ -n "$handed" ] || fail "the Exec was not handed to the agent"
[ -n "$accepted" ] || fail "the agent did not accept the Exec (202)"
[ -n "$result" ] || fail "the agent's result did not come"
[ -n "$generic_seen" ] || fail "REMOTE got no Generic Alert"
[ -n "$delivered" ] || fail "the result was not delivered"
[ "$rfinished" = 2 ] && [ -z "$rfailed" ] ||
	fail "not both sessions with REMOTE finished ok"

# REMOTE's verdict: its checks, TAP lines
tap=$T/remote/tap
npass=$(grep -c '^ok ' "$tap" 2>/dev/null)
nfail=$(grep -c '^not ok ' "$tap" 2>/dev/null)
step "REMOTE's checks of the client's messages (tests/peer/dmserver.py): ${npass:-0} passed, ${nfail:-0} failed"
grep -E '^(not )?ok .*(Status for Exec .*: 202$|Generic Alert|every expected)' "$tap" 2>/dev/null |
	sed -E 's/^(not )?ok [0-9]+ - /  \1/'
grep -E '^(not ok |# )' "$tap" 2>/dev/null | sed 's/^/  /'
[ "${npass:-0}" -gt 0 ] && [ "${nfail:-0}" = 0 ] || fail "REMOTE's checks did not all pass"
grep -q "^ok .*demo s2: every expected client message came" "$tap" 2>/dev/null ||
	fail "REMOTE did not see the Generic Alert session through"

step "dmscgwctl sessions"
out=$("$CTL" sessions 2>&1)
echo "$out" | sed 's/^/  /'
grep -qE "^1	DMSC01	bip	.*	ok	" <<<"$out" || fail "dmscgwctl sessions shows no ok session 1 with DMSC01"
grep -qE "^2	REMOTE	dbus	.*	ok	" <<<"$out" || fail "dmscgwctl sessions shows no ok session 2 with REMOTE"
grep -qE "^3	REMOTE	exec	.*	ok	" <<<"$out" || fail "dmscgwctl sessions shows no ok session 3 with REMOTE (the Generic Alert)"

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
	step "${GREEN}demo OK${OFF}${BOLD}: Notification over BIP, DM session over TLS-PSK, tree provisioned, Atomic rolled back; REMOTE provisioned through the Inbox, called over HTTPS, Exec accepted by its agent (202), result delivered in a Generic Alert; clean stop"
	exit 0
fi
step "${RED}demo FAILED${OFF}"
for f in dmscgw.log vuicc.log server.log agent.log remote/tap pcscd.log dbus.log; do
	[ -s "$T/$f" ] || continue
	echo "--- $f (last 25 lines, without APDUs)"
	grep -v -e '^dmsc-vuicc: [<>] ' -e 'ATR requested' "$T/$f" | tail -n 25
done
exit 1
