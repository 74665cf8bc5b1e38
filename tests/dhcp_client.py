#!/usr/bin/python3
# The card's side of its link's addressing, for the tests: the DHCP client
# a USB UICC's TCP/IP stack runs (ETSI TS 102 483) against the device's
# DHCP server (systemd-networkd, contrib/systemd/60-dmscgw-uicc.network).
# RFC 2131: DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DHCPACK, with the
# broadcast flag set (the client has no address yet); then the address is
# put on the interface with ip(8) and "bound ADDRESS/PREFIX" printed.
#   dhcp_client.py INTERFACE
import random
import socket
import struct
import subprocess
import sys

SO_BINDTODEVICE = 25
dev = sys.argv[1]
with open("/sys/class/net/%s/address" % dev) as f:
    mac = bytes.fromhex(f.read().strip().replace(":", ""))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, dev.encode() + b"\0")
s.bind(("0.0.0.0", 68))
s.settimeout(1)
xid = random.getrandbits(32)


def message(kind, options=b""):
    """BOOTP header (op 1, Ethernet, broadcast flag), cookie, options."""
    head = struct.pack("!BBBBIHH16s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000,
                       b"", mac, b"", b"")
    return (head + b"\x63\x82\x53\x63" + bytes([53, 1, kind]) +
            bytes([61, 7, 1]) + mac + options + b"\xff")


def options(d):
    o, r = 240, {}
    while o + 1 < len(d) and d[o] != 255:
        if d[o] == 0:
            o += 1
            continue
        r[d[o]] = d[o + 2:o + 2 + d[o + 1]]
        o += 2 + d[o + 1]
    return r


def exchange(msg, want):
    for _ in range(20):
        s.sendto(msg, ("255.255.255.255", 67))
        try:
            while True:
                d, _ = s.recvfrom(2048)
                if len(d) < 240 or struct.unpack_from("!I", d, 4)[0] != xid:
                    continue
                o = options(d)
                if o.get(53) == bytes([want]):
                    return d, o
        except socket.timeout:
            continue
    sys.exit("no DHCP answer on %s" % dev)


offer, o = exchange(message(1), 2)                      # DISCOVER, OFFER
yiaddr = offer[16:20]
ack, o = exchange(message(3, bytes([50, 4]) + yiaddr +  # REQUEST, ACK
                          bytes([54, 4]) + o[54]), 5)
prefix = bin(int.from_bytes(o.get(1, b"\xff\xff\xff\x00"), "big")).count("1")
addr = socket.inet_ntoa(ack[16:20])
subprocess.check_call(["ip", "addr", "replace", "%s/%d" % (addr, prefix),
                       "dev", dev])
print("bound %s/%d" % (addr, prefix), flush=True)
