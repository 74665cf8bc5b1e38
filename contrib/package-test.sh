#!/bin/sh
# contrib/package-test.sh - build the Debian packages of this tree, install
# them, check the installed system integration, purge them.
#
# Usage (Debian 12, as root, from anywhere):
#   sh contrib/package-test.sh [--keep] [--boot]
#     --keep   keep the work directory (build logs, .debs) even on success
#     --boot   also run debian/tests/service (the installed unit under a
#              booted systemd, with its sandbox) in a systemd-nspawn
#              container over a throw-away overlay of /: for machines where
#              systemd is not PID 1 (containers).  Adds about a minute.
# Environment:
#   SECURITY_THRESHOLD  highest accepted `systemd-analyze security` exposure,
#                       in tenths (default 11, i.e. 1.1)
#
# Output is TAP on stdout; exit status 0 only if every check passed.
# The tree is copied (tracked and untracked, not ignored, files) to a
# temporary directory, so that the build leaves nothing in the tree nor
# .debs in its parent directory.  What is missing to build (debhelper,
# the -dev libraries of debian/control) and lintian are installed with apt.
set -u

keep=0
boot=0
for a in "$@"; do
	case $a in
	--keep) keep=1 ;;
	--boot) boot=1 ;;
	*) echo "usage: $0 [--keep] [--boot]" >&2; exit 2 ;;
	esac
done
THRESHOLD=${SECURITY_THRESHOLD:-11}
UNIT=/lib/systemd/system/dmscgw.service
POLICY=/usr/share/dbus-1/system.d/org.dmscgw1.conf
SYSUSERS=/usr/lib/sysusers.d/dmscgw.conf

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /' "$@"; }
bail() { echo "Bail out! $*"; echo "# work directory kept: $work"; exit 1; }
# check DESCRIPTION COMMAND...: one TAP line; the command's output as
# diagnostics when it fails
check() {
	d=$1
	shift
	if "$@" >"$work/check.out" 2>&1; then
		ok "$d"
	else
		not_ok "$d"
		tail -n 40 "$work/check.out" | diag
	fi
}
# step DESCRIPTION LOG COMMAND...: a long step, its log kept in $work
step() {
	d=$1 log=$work/$2
	shift 2
	start=$(date +%s)
	if "$@" >"$log" 2>&1; then
		ok "$d ($(($(date +%s) - start))s)"
	else
		not_ok "$d (see $log)"
		tail -n 40 "$log" | diag
		return 1
	fi
}

[ "$(id -u)" -eq 0 ] || { echo "Bail out! run as root (installs packages)"; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$top/debian/control" ] || { echo "Bail out! no debian/ in $top"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dmscgw-pkg.XXXXXX")
export DEBIAN_FRONTEND=noninteractive

# --- the source: a copy of the tree ---------------------------------------
command -v dpkg-parsechangelog >/dev/null ||
	apt-get install -y -q --no-install-recommends dpkg-dev >"$work/apt0.log" 2>&1 ||
	bail "cannot install dpkg-dev"
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
upstream=${version%-*}
src=$work/dmscgw-$upstream
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -co --exclude-standard |
		xargs -0 cp -P --parents -t "$src") || bail "cannot copy the tree"
else
	cp -a "$top/." "$src/" || bail "cannot copy the tree"
fi
echo "# version $version, work directory $work"

# --- build -----------------------------------------------------------------
step "build dependencies installed" apt.log sh -c "
	dpkg-checkbuilddeps -d 'dpkg-dev, lintian' '$src/debian/control' 2>/dev/null ||
		apt-get install -y -q --no-install-recommends dpkg-dev lintian &&
	{ dpkg-checkbuilddeps '$src/debian/control' 2>/dev/null ||
		apt-get build-dep -y -q '$src'; }" || bail "cannot install the build dependencies"
step "dpkg-buildpackage -us -uc -b" build.log \
	sh -c "cd '$src' && dpkg-buildpackage -us -uc -b -j2" || bail "the build failed"
changes=$work/dmscgw_${version}_$(dpkg --print-architecture).changes
for p in dmscgw dmscgw-tools; do
	check "$p .deb built" test -f "$work/${p}_${version}_$(dpkg --print-architecture).deb"
done

# lintian: errors fail; warnings are listed (the justified ones are
# overridden in debian/*.lintian-overrides, with the reason)
lintian --fail-on error --pedantic -I "$changes" >"$work/lintian.log" 2>&1
rc=$?
grep -v '^running with root privileges' "$work/lintian.log" | diag
check "lintian: no errors" test $rc -eq 0

# --- install ---------------------------------------------------------------
# a previous run's or a hand-installed package: start from nothing
if dpkg-query -W -f='${db:Status-Status}' dmscgw dmscgw-tools 2>/dev/null | grep -q installed; then
	apt-get purge -y -q dmscgw dmscgw-tools >"$work/prepurge.log" 2>&1
fi
user_before=$(getent passwd dmscgw || true)
step "apt-get install ./dmscgw_*.deb ./dmscgw-tools_*.deb" install.log \
	sh -c "cd '$work' && apt-get install -y -q ./dmscgw_${version}_*.deb ./dmscgw-tools_${version}_*.deb" ||
	bail "the packages do not install"

out=$(dmscgw --version 2>&1)
check "dmscgw --version prints $upstream ($out)" test "$out" = "dmscgw $upstream"
check "dmscgwctl --help" dmscgwctl --help
check "dmsc-vuicc --version" dmsc-vuicc --version
check "the example config is a conffile" \
	sh -c "dpkg-query -W -f='\${Conffiles}' dmscgw | grep -q '^ /etc/dmscgw.conf '"
check "the shipped /etc/dmscgw.conf is valid (dmscgw --check-config)" \
	dmscgw --check-config -c /etc/dmscgw.conf

# the unit: verify lints what it pulls in too (pcscd.socket, dbus.service,
# ModemManager.service); only messages about ours count, the others are
# shown as diagnostics
out=$(systemd-analyze verify "$UNIT" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out" | diag
ours=$(echo "$out" | grep -F dmscgw || true)
check "systemd-analyze verify $UNIT: nothing about dmscgw" test -z "$ours"
[ $rc -eq 0 ] || [ -n "$ours" ] || echo "# (verify exit status $rc, from other units only)"
check "the unit runs the installed daemon" grep -qx 'ExecStart=/usr/sbin/dmscgw -f -c /etc/dmscgw.conf' "$UNIT"
check "the unit is enabled (dh_installsystemd)" \
	test -L /etc/systemd/system/multi-user.target.wants/dmscgw.service
systemd-analyze security --offline=true --no-pager "$UNIT" >"$work/security.log" 2>&1
grep -E '✗|Overall' "$work/security.log" | diag
check "systemd-analyze security exposure <= $THRESHOLD/10" \
	systemd-analyze security --offline=true --no-pager --threshold="$THRESHOLD" "$UNIT"

check "D-Bus policy in place: $POLICY" test -f "$POLICY"
check "... well-formed, owns org.dmscgw1 for user dmscgw" python3 -c '
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
assert any(a.get("own") == "org.dmscgw1" for p in r.iter("policy")
           if p.get("user") == "dmscgw" for a in p.iter("allow"))' "$POLICY"
check "polkit rule in place" test -f /usr/share/polkit-1/rules.d/dmscgw.rules
check "bash completion in place" test -f /usr/share/bash-completion/completions/dmscgwctl
check "man pages in place" sh -c 'for m in man8/dmscgw.8 man5/dmscgw.conf.5 man5/org.dmscgw1.5 man1/dmscgwctl.1 man1/dmsc-vuicc.1; do
	test -f /usr/share/man/$m.gz || { echo "no $m"; exit 1; }; done'
check "dmscgw(8) and dmscgw.conf(5) name /etc/dmscgw.conf, the package's path" sh -c '
	for m in man8/dmscgw.8 man5/dmscgw.conf.5; do
		zcat /usr/share/man/$m.gz | grep -qx "\.I /etc/dmscgw.conf" || { echo "$m: no /etc/dmscgw.conf"; exit 1; }
		! zcat /usr/share/man/$m.gz | grep -n "/usr/local\|@[a-z_]*@" || { echo "$m: a path not configured"; exit 1; }
	done'

# the system user: the postinst runs systemd-sysusers on the installed file
check "sysusers file in place: $SYSUSERS" test -f "$SYSUSERS"
check "postinst runs systemd-sysusers dmscgw.conf" \
	grep -q 'systemd-sysusers .*dmscgw.conf' /var/lib/dpkg/info/dmscgw.postinst
check "user dmscgw exists after install" getent passwd dmscgw
check "group dmscgw exists after install" getent group dmscgw
if [ -n "$user_before" ]; then
	# it was there already (contrib/deps.sh makes it for the tests):
	# show that the installed file alone makes it, in an empty root
	echo "# user dmscgw existed before the install: $user_before"
	mkdir -p "$work/root/etc"
	check "the installed sysusers file creates dmscgw in an empty root" sh -c "
		systemd-sysusers --root='$work/root' '$SYSUSERS' &&
		grep -q '^dmscgw:x:[0-9]*:[0-9]*:OMA DM Smart Card enabler:/var/lib/dmscgw:' '$work/root/etc/passwd' &&
		grep -q '^dmscgw:' '$work/root/etc/group'"
fi

# --- the unit under systemd (--boot) ----------------------------------------
# The installed system, seen through an overlay (a tmpfs takes every write),
# boots in systemd-nspawn with its own network; a oneshot unit runs
# debian/tests/service there and powers the container off.
nspawn_tmpfs=
boot_cleanup() {
	for m in "$work/boot/root" "$work/boot" $nspawn_tmpfs; do
		if mountpoint -q "$m"; then umount "$m"; fi
	done
}
if [ $boot -eq 1 ]; then
	command -v systemd-nspawn >/dev/null ||
		apt-get install -y -q --no-install-recommends systemd-container >"$work/apt-nspawn.log" 2>&1
	b=$work/boot
	t=$work/t
	mkdir -p "$b" "$t/src/debian"
	trap boot_cleanup EXIT
	# nspawn keeps state in /run/systemd/nspawn and refuses to clean it up
	# on a disk file system (/run is not a tmpfs in some containers)
	if [ "$(stat -fc %T /run)" != tmpfs ] && ! mountpoint -q /run/systemd/nspawn; then
		mkdir -p /run/systemd/nspawn &&
			mount -t tmpfs -o size=16M tmpfs /run/systemd/nspawn &&
			nspawn_tmpfs=/run/systemd/nspawn
	fi
	mount -t tmpfs -o size=2G tmpfs "$b" && mkdir "$b/upper" "$b/work" "$b/root" &&
		mount -t overlay overlay -o "lowerdir=/,upperdir=$b/upper,workdir=$b/work" "$b/root" ||
		bail "cannot make the overlay for the container"
	cp -a "$src/debian/tests" "$t/src/debian/"
	printf '%s\n' '#!/bin/sh' \
		'AUTOPKGTEST_TMP=$(mktemp -d) sh /srv/t/src/debian/tests/service >/srv/t/service.tap 2>&1' \
		'echo "exit=$?" >/srv/t/service.done' \
		'systemctl --no-block poweroff' >"$t/run.sh"
	printf '%s\n' '[Unit]' 'Description=dmscgw package test: debian/tests/service' \
		'After=multi-user.target' '[Service]' 'Type=oneshot' \
		'ExecStart=/bin/sh /srv/t/run.sh' \
		>"$b/root/etc/systemd/system/dmscgw-package-test.service"
	mkdir -p "$b/root/etc/systemd/system/multi-user.target.wants"
	ln -s ../dmscgw-package-test.service \
		"$b/root/etc/systemd/system/multi-user.target.wants/dmscgw-package-test.service"
	start=$(date +%s)
	SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 timeout 300 systemd-nspawn -q -D "$b/root" \
		--keep-unit --register=no --link-journal=no --private-network \
		--machine=dmscgw-package-test --bind="$t:/srv/t" --console=pipe -b \
		>"$work/nspawn.log" 2>&1 </dev/null
	echo "# systemd-nspawn: exit $?, $(($(date +%s) - start))s"
	[ -f "$t/service.tap" ] && diag "$t/service.tap"
	[ -f "$t/service.done" ] || tail -n 20 "$work/nspawn.log" | diag
	check "debian/tests/service passes under systemd (nspawn)" \
		grep -qx 'exit=0' "$t/service.done"
	boot_cleanup
	trap - EXIT
fi

# --- purge -----------------------------------------------------------------
# everything the packages own but directories (shared with other packages,
# or /lib, a link to usr/lib; the package's own ones are checked below), and
# what the maintainer scripts make
dpkg -L dmscgw dmscgw-tools 2>/dev/null | sort -u | while read -r f; do
	[ -d "$f" ] || echo "$f"
done >"$work/files"
echo "# the packages own $(wc -l <"$work/files") files"
mkdir -p /var/lib/dmscgw && echo x >/var/lib/dmscgw/tree.test	# as if the service had run
step "apt-get purge -y dmscgw dmscgw-tools" purge.log \
	apt-get purge -y -q dmscgw dmscgw-tools
check "neither package is known to dpkg any more" sh -c '
	! dpkg-query -W -f="\${db:Status-Status}\n" dmscgw dmscgw-tools 2>/dev/null | grep -qv "^not-installed$"'
left=$(while read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done <"$work/files")
check "no file of the packages is left" test -z "$left"
[ -z "$left" ] || echo "$left" | diag
for d in /usr/share/doc/dmscgw /usr/share/doc/dmscgw-tools /etc/dmscgw.conf \
	/etc/systemd/system/multi-user.target.wants/dmscgw.service \
	/var/lib/systemd/deb-systemd-helper-enabled/dmscgw.service.dsh-also \
	/var/lib/dmscgw; do
	check "purge removed $d" test ! -e "$d" -a ! -L "$d"
done
check "the user dmscgw stays (system users are never removed)" getent passwd dmscgw

echo "1..$n"
if [ $failed -ne 0 ]; then
	echo "# $failed of $n checks failed; work directory kept: $work"
	exit 1
fi
if [ $keep -eq 1 ]; then
	echo "# work directory kept: $work"
else
	rm -rf "$work"
fi
exit 0
