#!/bin/bash
# The configuration accepted nonsense (fault: dmscgw -t said
# "configuration OK" to URLs without a scheme, relative paths, duplicate
# ports, max_obj_size = 1, an IMEI of letters, trace udp = junk, an empty
# debug item, --bus=bogus; a BOM was refused confusingly; a FIFO as the
# config or the tree hung the daemon in open()).  Every value is checked at
# load with file:line and the key.
. "${top_srcdir:-.}/tests/lib.sh"


bad '[dm_sc]\naddr = 127.0.0.1:4116/OMA/DM\n' "2: dm_sc.addr: '127.0.0.1:4116/OMA/DM': not an http:// or https:// URL"
bad '[dm_sc]\naddr = ftp://127.0.0.1/OMA/DM\n' "2: dm_sc.addr: 'ftp://127.0.0.1/OMA/DM': not an http:// or https:// URL"
bad '[dm_sc]\naddr = https://127.0.0.1:70000/OMA/DM\n' "2: dm_sc.addr: 'https://127.0.0.1:70000/OMA/DM': bad port"
bad '[dm_sc]\naddr = https://[::1/OMA/DM\n' "2: dm_sc.addr: 'https://[::1/OMA/DM': bad IPv6 literal"
bad '[dm_sc]\naddr = https:///OMA/DM\n' "2: dm_sc.addr: 'https:///OMA/DM': no host"
bad '[dm]\nstate_dir = state\n'          "2: dm.state_dir: 'state' is not an absolute path"
bad '[trace]\nfile = t.pcap\n'           "2: trace.file: 't.pcap' is not an absolute path"
bad '[bip]\napplications = 5000:7:a,5000:5:b\n' "2: bip.applications: port 5000 listed twice"
bad '[bip]\napplications = 5000:5:a\n[dm]\nclient_port = 5000\n' "4: dm.client_port: port 5000 is also in bip.applications"
bad '[dm]\nmax_obj_size = 1\n'           "2: dm.max_obj_size: '1' is not a whole number from 512 to 1048576"
bad '[dm]\nmax_msg_size = 65536\nmax_obj_size = 4096\n' " dm.max_obj_size (4096) is smaller than dm.max_msg_size (65536)"
bad '[terminal]\nimei = abcdefghijklmno\n' "2: terminal.imei: 'abcdefghijklmno' is not 15 digits"
bad '[terminal]\nimei = 490154203237519\n' "2: terminal.imei: '490154203237519' has a wrong check digit (Luhn, TS 23.003 B.2: 8 expected)"
bad '[trace]\nudp = junk\n'              "2: trace.udp: UDP address \"junk\": \"junk\" is not a numeric IPv4 address"
bad '[daemon]\ndebug = card,,cat\n'      "2: daemon.debug: empty item in 'card,,cat'"
bad '\xef\xbb\xbf[nosuch]\n'             "1: unknown section [nosuch]"

# a byte-order mark is skipped
printf '\xef\xbb\xbf[card]\nreader = x\n' >"$T/bom.conf"
check "a UTF-8 byte-order mark at the start is skipped" "$DMSCGW" -t -c "$T/bom.conf"

# --bus: a usage error, before anything is read
out=$("$DMSCGW" -t --bus=bogus -c "$top_srcdir/conf/dmscgw.conf" 2>&1); rc=$?
check "--bus=bogus: usage error 2 naming the accepted forms" test $rc -eq 2 -a \
	"$out" = "dmscgw: --bus: 'bogus' is not system, session, none or a D-Bus address (unix:path=..., unix:abstract=..., tcp:host=...,port=...)"
for b in unix:path= tcp:host=localhost unix:tmpdir=/tmp 'tcp:port=1,host=' system2; do
	"$DMSCGW" -t --bus="$b" -c "$top_srcdir/conf/dmscgw.conf" >/dev/null 2>&1
	check "--bus=$b: usage error 2" test $? -eq 2
done
for b in system session none unix:path=/run/dbus/system_bus_socket \
	 unix:abstract=/tmp/dbus-x tcp:host=127.0.0.1,port=12345,family=ipv4; do
	check "--bus=$b is accepted" "$DMSCGW" -t --bus="$b" -c "$top_srcdir/conf/dmscgw.conf"
done

# --trace: an absolute path, as [trace] file
out=$("$DMSCGW" -t --trace=t.pcap -c "$top_srcdir/conf/dmscgw.conf" 2>&1); rc=$?
check "--trace=t.pcap: usage error 2" test $rc -eq 2 -a \
	"$out" = "dmscgw: --trace: 't.pcap' is not an absolute path"

# a FIFO as the configuration: refused at once, not an open() for ever
mkfifo "$T/fifo.conf"
out=$(timeout 10 "$DMSCGW" -t -c "$T/fifo.conf" 2>&1); rc=$?
check "a FIFO as the config file: exit 1 (not the timeout's 124)" test $rc -eq 1
check "a FIFO as the config file: 'not a regular file'" \
	test "$out" = "dmscgw: $T/fifo.conf: not a regular file"

# a FIFO as the management tree: the daemon stops with a clear error
mkdir -p "$T/fstate"
mkfifo "$T/fstate/tree"
printf '[card]\nreader = none\n[dm]\nstate_dir = %s/fstate\n' "$T" >"$T/fifotree.conf"
timeout -s KILL 10 "$DMSCGW" -f --bus=none -c "$T/fifotree.conf" >"$T/fifotree.out" 2>&1
rc=$?
check "a FIFO as the tree file: exit 1 (not killed after 10 s)" test $rc -eq 1
check "a FIFO as the tree file: 'not a regular file'" \
	grep -q "cannot load $T/fstate/tree: $T/fstate/tree: not a regular file" "$T/fifotree.out"

# a FIFO as the DM_SC nonce file, read when a tree with the account is
# loaded: ignored, said so, the daemon runs (it used to block in open())
mkdir -p "$T/nstate"
{ printf '[card]\nreader = none\n[dm]\nstate_dir = %s/nstate\n' "$T"
  dm_sc_conf 4116 00112233445566778899aabbccddeeff; } >"$T/dmscgw.conf"
start_daemon --bus=none
wait_for 10 grep -q "DM_SC account for DMSC01 added" "$T/dmscgw.log"
stop_daemon
rm -f "$T/nstate/dmsc-nonces"
mkfifo "$T/nstate/dmsc-nonces"
: >"$T/dmscgw.log"
start_daemon --bus=none
wait_for 10 grep -q "dmscgw .* started" "$T/dmscgw.log"
check "a FIFO as the nonce file: the daemon starts on the saved tree" \
	grep -q "dmscgw .* started" "$T/dmscgw.log"
# blocked in open() (as it was): SIGTERM would not stop it
grep -q "dmscgw .* started" "$T/dmscgw.log" || kill -KILL "$DAEMON_PID"
check "... and says the file is ignored" \
	grep -q "$T/nstate/dmsc-nonces: not a regular file: ignored" "$T/dmscgw.log"
stop_daemon
check "... clean exit" test "$DAEMON_RC" -eq 0

done_testing
