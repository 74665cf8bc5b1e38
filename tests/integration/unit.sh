#!/bin/bash
# The systemd unit passes systemd-analyze verify, with ExecStart pointing at
# the binary just built; the hardening it promises is really in it.
. "${top_srcdir:-.}/tests/lib.sh"

command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is not installed"
unit=$T/dmscgw.service
sed -e "s|@sbindir@|$top_builddir|g" -e "s|@sysconfdir@|$top_srcdir/conf|g" \
	"$top_srcdir/contrib/systemd/dmscgw.service.in" >"$unit"
# the man pages are checked elsewhere (they are not installed here)
out=$(systemd-analyze verify --man=no "$unit" 2>&1); rc=$?
# verify also lints units it pulls in (pcscd.socket...); only ours counts
ours=$(echo "$out" | grep -F "dmscgw.service" || true)
check "systemd-analyze verify accepts the unit" test $rc -eq 0 -a -z "$ours"
echo "$out" | diag
for k in Type=notify BusName=org.dmscgw1 User=dmscgw NoNewPrivileges=yes \
	ProtectSystem=strict CapabilityBoundingSet= \
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"; do
	check "unit sets $k" grep -qx "$k" "$unit"
done
out=$(systemd-analyze security --offline=true --no-pager --threshold=11 "$unit" 2>&1); rc=$?
check "systemd-analyze security: exposure 1.1 or lower ($(echo "$out" | grep -o 'Overall exposure level[^:]*: [0-9.]*' | grep -o '[0-9.]*$'))" \
	test $rc -eq 0
# secrets from credentials: shown commented out, and valid once uncommented
for k in LoadCredential LoadCredentialEncrypted; do
	check "the unit shows $k=, commented out" grep -q "^#$k=dmsc-" "$unit"
done
mkdir -p "$T/cred"
sed 's/^#\(LoadCredential\(Encrypted\)\{0,1\}=\)/\1/' "$unit" >"$T/cred/dmscgw.service"
out=$(systemd-analyze verify --man=no "$T/cred/dmscgw.service" 2>&1); rc=$?
ours=$(echo "$out" | grep -F "dmscgw.service" || true)
check "... and systemd-analyze verify accepts them uncommented" \
	test $rc -eq 0 -a -z "$ours" -a "$(grep -c '^LoadCredential' "$T/cred/dmscgw.service")" -eq 2
[ -z "$ours" ] || echo "$ours" | diag
check "the built unit names the installed daemon" \
	grep -q "^ExecStart=$top_builddir/dmscgw -f -c" "$unit"
check "the sysusers file creates the user dmscgw" \
	grep -qE '^u dmscgw ' "$top_srcdir/contrib/systemd/dmscgw.sysusers"
done_testing
