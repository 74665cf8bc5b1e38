#!/bin/sh
# The demo: install what is needed, build, then run the real daemon against
# the virtual UICC through a private pcscd with the vpcd reader driver and a
# private D-Bus bus: the card's DM Notification over BIP, the DM session over
# TLS-PSK that provisions the device (contrib/demo.scn), the tree read back;
# then the hand-over: the daemon calls the remote DM server the card
# provisioned, over HTTPS, which runs an Exec that a shell script accepts
# and whose result comes back in a Generic Alert (see contrib/demo-run.sh).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/deps.sh
if [ ! -f build-demo/Makefile ]; then
	autoreconf -fi >/dev/null 2>&1
	mkdir -p build-demo
	(cd build-demo && ../configure >/dev/null)
fi
# incremental: a tree that changed since the last demo is rebuilt
make -C build-demo -j"$(nproc)" >/dev/null
exec bash contrib/demo-run.sh "$top/build-demo"
