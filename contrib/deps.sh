#!/bin/sh
# Install the Debian 12 packages dmscgw needs to build, test and run its demo.
# Run as root.  Installs only what is missing, so a second run is quick.
set -e
PKGS="build-essential autoconf automake libtool pkg-config clang
libevent-dev libssl-dev libexpat1-dev libpcsclite-dev libsystemd-dev libcmocka-dev
pcscd vsmartcard-vpcd systemd dbus python3 python3-dbus python3-gi iproute2 procps strace tshark curl
libwbxml2-utils python3-dbusmock modemmanager gnutls-bin openssl"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ] && [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The service user and group, as the package would create them: the tests
# check group access to the D-Bus methods.
if [ "$(id -u)" -eq 0 ] && ! getent group dmscgw >/dev/null; then
	systemd-sysusers "$(cd "$(dirname "$0")" && pwd)/systemd/dmscgw.sysusers"
fi
