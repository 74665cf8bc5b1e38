#!/usr/bin/python3
"""A fake 3GPP AT modem for ModemManager's test profile (tests/integration/mm_real.sh).

ModemManager started with --test-enable exposes org.freedesktop.ModemManager1.Test
SetProfile(s id, s plugin, as ports).  The ports of such a "virtual" device are
not ttys: ModemManager (1.20) opens each one as a UNIX stream socket, a
filesystem path, or an abstract name when it starts with "abstract:".  So this
modem listens on a UNIX socket (--socket PATH) and speaks AT over it; a pty
would not be opened at all.

It answers the commands of the generic plugin's initialization, enabling and
messaging setup well enough for the modem to register with a Messaging
interface, logs every command line it gets to --log ("> ..." in, "< ..." out),
and answers ERROR to any command it does not know (ModemManager tolerates
most of those; the log shows them).

SMS delivery is driven through a control FIFO (--control PATH), one command a
line:
    sms OA HEX      store, as index 1, 2, ..., an SMS-DELIVER from OA (digits,
                    "+" for an international number) carrying a WAP push
                    whose body is HEX (e.g. a DM Notification, Package#0),
                    and send +CMTI: "SM",<index> to ModemManager
    quit            exit
The PDU it builds is written to the log as "pdu <index> <hex>".
"""

import argparse
import os
import select
import socket
import sys
import time

# ---------------------------------------------------------------------------
# SMS-DELIVER PDU (3GPP TS 23.040 clause 9.2.2.1), as +CMGR/+CMGL give it in
# PDU mode (TS 27.005 clause 3.1: the SMSC address of TS 24.011 first, then
# the TPDU; the <length> of +CMGR counts the TPDU octets only).

SMSC = "+15550000000"


def semi_octets(digits):
    """BCD digits, low nibble first, F-padded (TS 23.040 clause 9.1.2.3)."""
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def type_of_address(number):
    """Type-of-address octet (TS 23.040 clause 9.1.2.5): bit 7 is 1,
    type of number 001 international (with "+") or 000 unknown,
    numbering plan 0001 ISDN/E.164: 0x91 or 0x81."""
    return 0x91 if number.startswith("+") else 0x81


def smsc_address(number):
    """TS 24.011 clause 8.2.5.2 RP address: length in OCTETS of what follows
    (type-of-address + BCD digits), then those octets."""
    digits = number.lstrip("+")
    body = bytes([type_of_address(number)]) + semi_octets(digits)
    return bytes([len(body)]) + body


def tp_address(number):
    """TS 23.040 clause 9.1.2.5 TP address (here TP-OA): length in DIGITS
    (semi-octets, padding excluded), type-of-address, BCD digits."""
    digits = number.lstrip("+")
    return bytes([len(digits), type_of_address(number)]) + semi_octets(digits)


def wap_push(body):
    """The WSP push PDU (WAP-230-WSP clause 8.2.4.1), connectionless:
       01        TID (connectionless WSP carries a transaction id first)
       06        PDU type: Push
       03        HeadersLen: content type and headers, 3 octets
       C4        content type, short-integer 0x44|0x80:
                 application/vnd.syncml.notification
       AF        header field name, short-integer 0x2F|0x80:
                 X-Wap-Application-Id
       87        its value, short-integer 0x07|0x80:
                 x-wap-application:syncml.dm
       body      the DM Notification (Package#0)"""
    return bytes([0x01, 0x06, 0x03, 0xC4, 0xAF, 0x87]) + body


def sms_deliver(oa, body):
    """Returns (full PDU with SMSC, TPDU length) for an SMS-DELIVER carrying
    the WAP push of body to WDP port 2948."""
    # TP-User-Data-Header (TS 23.040 clause 9.2.3.24):
    #   06     UDHL: 6 octets of information elements follow
    #   05     IEI: application port addressing scheme, 16-bit address
    #          (clause 9.2.3.24.4)
    #   04     IEDL: 4 octets
    #   0B 84  destination port 2948: WAP push (WAP-259-WDP, wap-wsp-push)
    #   23 F0  originator port 9200: WAP connectionless session service
    udh = bytes([0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0])
    ud = udh + wap_push(body)
    if len(ud) > 140:
        raise ValueError("user data of %d octets does not fit one SMS (140)" % len(ud))
    tpdu = bytes([
        # First octet (clause 9.2.2.1):
        #   bit 7   TP-RP   0  no reply path
        #   bit 6   TP-UDHI 1  TP-UD starts with a header
        #   bit 5   TP-SRI  0  no status report
        #   bit 4,3         00 (unused in SMS-DELIVER)
        #   bit 2   TP-MMS  1  no more messages waiting
        #   bit 1,0 TP-MTI  00 SMS-DELIVER
        # = 0100 0100 = 0x44
        0x44,
    ])
    tpdu += tp_address(oa)                      # TP-OA (clause 9.2.3.7)
    tpdu += bytes([0x00])                       # TP-PID (9.2.3.9): plain SME-to-SME
    # TP-DCS (TS 23.038 clause 4): general data coding group 00xx, bits 3,2
    # = 01 8-bit data, no message class: 0x04
    tpdu += bytes([0x04])
    # TP-SCTS (clause 9.2.3.11): year, month, day, hour, minute, second,
    # time zone, each two semi-octets low digit first:
    # 2024-01-02 03:04:05, zone +0 quarters of an hour
    tpdu += semi_octets("24" "01" "02" "03" "04" "05" "00")
    # TP-UDL (clause 9.2.3.16): with 8-bit data, the number of octets of
    # TP-UD, the header included
    tpdu += bytes([len(ud)])
    tpdu += ud                                  # TP-UD
    return smsc_address(SMSC) + tpdu, len(tpdu)


# ---------------------------------------------------------------------------
# The AT side

IMEI = "490154203237518"
IMSI = "001010123456789"
# ICCID 8901 0101 2345 6789 0123 as EF_ICCID stores it: BCD, low digit first
ICCID_EF = "98101010325476981032"


class Modem:
    def __init__(self, log):
        self.log = log
        self.conn = None
        self.messages = {}          # index -> (pdu hex, tpdu length)
        self.next_index = 1
        self.n = {"CREG": 0, "CGREG": 0, "CEREG": 0}
        self.cfun = 1
        self.cmgf = 0
        self.cscs = "GSM"

    def note(self, line):
        self.log.write("%.3f %s\n" % (time.time(), line))
        self.log.flush()

    def send(self, text):
        if self.conn is None:
            return
        self.note("< " + text.strip().replace("\r\n", " | "))
        try:
            self.conn.sendall(text.encode())
        except OSError as e:
            self.note("send failed: %s" % e)

    def unsolicited(self, line):
        self.send("\r\n" + line + "\r\n")

    # one command line from ModemManager
    def command_line(self, line):
        self.note("> " + line)
        up = line.strip()
        if not up:
            return
        if up.upper().startswith("A/"):
            up = "AT"
        if not up.upper().startswith("AT"):
            self.send("\r\nERROR\r\n")
            return
        rest = up[2:]
        # AT+A;+B: extended commands concatenated with ';'
        out = []
        for c in split_commands(rest):
            r = self.one(c)
            if r is None:
                self.note("unknown command: " + c)
                self.send(info(out) + "\r\nERROR\r\n")
                return
            if isinstance(r, str):              # +CME ERROR / +CMS ERROR
                self.send(info(out) + "\r\n%s\r\n" % r)
                return
            out.extend(r)
        self.send(info(out) + "\r\nOK\r\n")

    def one(self, c):
        """Info lines for one command, or None for ERROR."""
        u = c.upper()
        # basic commands (E0, V1, Q0, X4, &C1, &D2, Z, &F ...), possibly several
        if u == "" or (u[0] != "+" and all(ch.isalnum() or ch in "&" for ch in u)):
            if u.startswith("I"):
                return ["FakeCorp", "FakeModem 1", "Revision: 1.0"]
            return []
        if u in ("+GCAP",):
            return ["+GCAP: +CGSM"]
        if u in ("+CGMI", "+GMI"):
            return ["FakeCorp"]
        if u in ("+CGMM", "+GMM"):
            return ["FakeModem 1"]
        if u in ("+CGMR", "+GMR"):
            return ["1.0"]
        if u in ("+CGSN", "+GSN", "+CGSN=1"):
            return [IMEI]
        if u == "+CIMI":
            return [IMSI]
        if u == "+CMEE=?":
            return ["+CMEE: (0-2)"]
        if u.startswith("+CMEE="):
            return []
        if u == "+CPIN?":
            return ["+CPIN: READY"]
        if u == "+CFUN?":
            return ["+CFUN: %d" % self.cfun]
        if u.startswith("+CFUN="):
            self.cfun = int(u[6:].split(",")[0] or "1")
            return []
        if u == "+CFUN=?":
            return ["+CFUN: (0,1,4),(0,1)"]
        if u == "+WS46=?":
            return ["+WS46: (12)"]
        if u == "+WS46?":
            return ["+WS46: 12"]
        if u.startswith("+CRSM="):
            args = u[6:].split(",")
            # READ BINARY (176) of EF_ICCID (0x2FE2 = 12258)
            if args[:2] == ["176", "12258"]:
                return ['+CRSM: 144,0,"%s"' % ICCID_EF]
            # EF_AD (0x6FAD = 28589): MNC length 2
            if args[:2] == ["176", "28589"]:
                return ['+CRSM: 144,0,"00000002"']
            return ["+CRSM: 106,130"]          # 6A82: file not found
        for reg in ("CREG", "CGREG", "CEREG"):
            if u == "+%s=?" % reg:
                return ["+%s: (0-2)" % reg]
            if u.startswith("+%s=" % reg):
                try:
                    self.n[reg] = int(u.split("=")[1] or "0")
                except ValueError:
                    return None
                return []
            if u == "+%s?" % reg:
                # stat 1: registered, home network
                if self.n[reg] >= 2:
                    act = ",7" if reg == "CEREG" else ",0"
                    return ['+%s: %d,1,"0001","00000001"%s' % (reg, self.n[reg], act)]
                return ["+%s: %d,1" % (reg, self.n[reg])]
        if u.startswith("+COPS=3,"):
            self.cops_format = int(u[8:] or "0")
            return []
        if u == "+COPS?":
            fmt = getattr(self, "cops_format", 0)
            oper = "00101" if fmt == 2 else "Test Network"
            return ['+COPS: 0,%d,"%s",0' % (fmt, oper)]
        if u.startswith("+COPS="):
            return [] if u != "+COPS=?" else None
        if u == "+CSQ":
            return ["+CSQ: 20,99"]
        if u == "+CIND=?":
            return ['+CIND: ("battchg",(0-5)),("signal",(0-5)),("service",(0,1)),'
                    '("roam",(0,1)),("message",(0,1))']
        if u == "+CIND?":
            return ["+CIND: 5,4,1,0,0"]
        if u.startswith("+CMER="):
            return []
        if u == "+CMGF=?":
            return ["+CMGF: (0,1)"]
        if u == "+CMGF?":
            return ["+CMGF: %d" % self.cmgf]
        if u.startswith("+CMGF="):
            self.cmgf = int(u[6:] or "0")
            return []
        if u == "+CSMS=?":
            return ["+CSMS: (0,1)"]
        if u.startswith("+CSMS"):
            return ["+CSMS: 1,1,1"] if u != "+CSMS?" else ["+CSMS: 0,1,1,1"]
        if u == "+CPMS=?":
            return ['+CPMS: ("SM"),("SM"),("SM")']
        used = len(self.messages)
        if u == "+CPMS?":
            return ['+CPMS: "SM",%d,20,"SM",%d,20,"SM",%d,20' % (used, used, used)]
        if u.startswith("+CPMS="):
            mems = [m.strip('"') for m in u[6:].split(",") if m]
            if any(m != "SM" for m in mems):
                return "+CME ERROR: 302"
            return ["+CPMS: " + ",".join("%d,20" % used for _ in range(3))]
        if u == "+CNMI=?":
            return ["+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"]
        if u.startswith("+CNMI"):
            return [] if u != "+CNMI?" else ["+CNMI: 2,1,0,0,0"]
        if u == "+CSCS=?":
            return ['+CSCS: ("IRA","GSM")']
        if u == "+CSCS?":
            return ['+CSCS: "%s"' % self.cscs]
        if u.startswith("+CSCS="):
            cs = c[6:].strip('"').upper()
            if cs not in ("IRA", "GSM"):
                return "+CME ERROR: 4"
            self.cscs = cs
            return []
        if u.startswith("+CMGL"):
            if self.cmgf != 0:
                return "+CME ERROR: 4"
            lines = []
            for i in sorted(self.messages):
                pdu, tl = self.messages[i]
                # stat 0: received unread; alpha empty; length of the TPDU
                lines += ["+CMGL: %d,0,,%d" % (i, tl), pdu]
            return lines
        if u.startswith("+CMGR="):
            try:
                i = int(u[6:])
            except ValueError:
                return None
            if i not in self.messages:
                return "+CMS ERROR: 321"    # invalid memory index
            pdu, tl = self.messages[i]
            return ["+CMGR: 0,,%d" % tl, pdu]
        if u.startswith("+CMGD="):
            try:
                self.messages.pop(int(u[6:].split(",")[0]), None)
            except ValueError:
                return None
            return []
        if u == "+CGDCONT=?":
            return ['+CGDCONT: (1-10),"IP",,,(0-2),(0-4)',
                    '+CGDCONT: (1-10),"IPV6",,,(0-2),(0-4)',
                    '+CGDCONT: (1-10),"IPV4V6",,,(0-2),(0-4)']
        if u in ("+CGDCONT?", "+CGACT?"):
            return []
        if u == "+CGATT?":
            return ["+CGATT: 1"]
        if u == "+CNUM":
            return ['+CNUM: "","+15559876543",145']
        return None

    def deliver(self, oa, body_hex):
        pdu, tl = sms_deliver(oa, bytes.fromhex(body_hex))
        i = self.next_index
        self.next_index += 1
        self.messages[i] = (pdu.hex().upper(), tl)
        self.note("pdu %d %s" % (i, pdu.hex().upper()))
        self.unsolicited('+CMTI: "SM",%d' % i)


def info(lines):
    """Information text in verbose mode (V.250 clause 5.7.1): <CR><LF>, the
    lines separated by <CR><LF> (so +CMGR's PDU is on the line after its
    header, as TS 27.005 clause 3.4.3 shows), <CR><LF>; the final result
    code follows with its own <CR><LF> before it."""
    return "\r\n" + "\r\n".join(lines) + "\r\n" if lines else ""


def split_commands(rest):
    """'+COPS=3,2;+COPS?' -> ['+COPS=3,2', '+COPS?'], not splitting inside quotes"""
    out, cur, q = [], "", False
    for ch in rest:
        if ch == '"':
            q = not q
        if ch == ";" and not q:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [c.strip() for c in out if c.strip() != "" or len(out) == 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", required=True, help="UNIX socket path to listen on")
    ap.add_argument("--control", required=True, help="control FIFO (created)")
    ap.add_argument("--log", required=True, help="command log")
    a = ap.parse_args()

    log = open(a.log, "a")
    m = Modem(log)

    try:
        os.unlink(a.socket)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.socket)
    srv.listen(4)
    if not os.path.exists(a.control):
        os.mkfifo(a.control)
    # read-write, so that writers coming and going never give us EOF
    ctl = os.open(a.control, os.O_RDWR | os.O_NONBLOCK)
    m.note("listening on %s" % a.socket)
    print("ready", flush=True)

    buf = b""
    ctlbuf = b""
    while True:
        rl = [srv, ctl] + ([m.conn] if m.conn else [])
        r, _, _ = select.select(rl, [], [])
        if srv in r:
            c, _ = srv.accept()
            if m.conn:
                m.note("new connection replaces the old one")
                m.conn.close()
            m.conn, buf = c, b""
            m.note("connected")
        if m.conn and m.conn in r:
            d = m.conn.recv(4096)
            if not d:
                m.note("disconnected")
                m.conn.close()
                m.conn = None
                continue
            buf += d
            while True:
                cut = [p for p in (buf.find(b"\r"), buf.find(b"\n")) if p >= 0]
                if not cut:
                    break
                p = min(cut)
                line, buf = buf[:p], buf[p + 1:]
                line = line.decode("latin-1").strip()
                if line:
                    m.command_line(line)
        if ctl in r:
            ctlbuf += os.read(ctl, 4096)
            while b"\n" in ctlbuf:
                line, ctlbuf = ctlbuf.split(b"\n", 1)
                w = line.decode().split()
                m.note("control: " + " ".join(w))
                if w and w[0] == "quit":
                    return 0
                if len(w) == 3 and w[0] == "sms":
                    try:
                        m.deliver(w[1], w[2])
                    except ValueError as e:
                        m.note("control error: %s" % e)
                elif w:
                    m.note("control error: unknown command")


if __name__ == "__main__":
    sys.exit(main())
