#!/bin/sh
# Install the Debian 12 packages dmscgw needs to build, test and run its demo.
# Run as root.  Installs only what is missing, so a second run is quick.
set -e
PKGS="build-essential autoconf automake libtool pkg-config clang
libevent-dev libssl-dev libexpat1-dev libpcsclite-dev libsystemd-dev libcmocka-dev
pcscd vsmartcard-vpcd systemd dbus python3 iproute2 procps strace tshark
libwbxml2-utils"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
