#!/bin/bash
# The virtual card's DM_SC server, without the daemon's DM client: the card
# notifies a registered type-07 application (Package#0 over BIP, terminal
# server mode) and answers hand-written SyncML posted to its SCWS at
# /OMA/DM: a bad credential gets 401 with a Chal, Package#1 gets 212 and
# the first package in XML, the packages follow and the session completes;
# a WBXML Package#1 gets a WBXML answer.
. "${top_srcdir:-.}/tests/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || PY=python3
TOOL=$top_builddir/tests/unit/syncml_tool
[ -x "$TOOL" ] || skip_all "$TOOL not built"
pick_port
SP=$(another_port)
AP=$(another_port)
start_pcscd

# the "DM client" application: records what the card sends it
start_recorder "$AP" "$T/app.out"

cat >"$T/card.scn" <<EOS
expect profile *
expect envelope DC*
timeout 60
dm-server DMServer srvpwd
dm-client dmclient clipwd
dm-nonce server MTIzNDU2Nzg=
dm-notify ui background session 1A2B port $AP
expect tr 8103..4001 82028281 830100 *
expect tr 8103..4301 82028281 830100 *
expect tr 8103..4100 82028281 830100
dm-add ./Vendor/Test chr hello expect 200
dm-get ./DevInfo/Mod expect 200 value Model X
dm-package
dm-replace ./Vendor/Test chr world expect 200
expect dm-session alert 1200 format xml
expect dm-end completed
dm-get ./DevInfo/Man expect 200
expect dm-session alert 1201 format wbxml
expect dm-end completed
EOS
write_conf "
[bip]
applications = $AP:07:DM Client"
start_daemon
start_vuicc -v -s "$T/card.scn" --scws "$SP"
wait_listening "$SP"

wait_for 15 test -s "$T/app.out"
check "the card read the daemon's Terminal Applications envelope (a type 07 entry)" \
	grep -q "dm: the DM client listens on port" "$T/vuicc.log"
check "the DM client application received Package#0: version 12, background, server, session 1A2B, digest" \
	$PY - "$T/app.out" <<'EOP'
import base64, hashlib, sys
p = open(sys.argv[1], "rb").read()
trig = p[16:]
H = lambda b: hashlib.md5(b).digest()
B = lambda b: base64.b64encode(b)
want = bytes([12 >> 2, (12 & 3) << 6 | 1 << 4 | 1 << 3, 0, 0, 0, 0x1A, 0x2B, 8]) + b"DMServer"
assert trig == want, trig.hex()
dig = H(B(H(b"DMServer:srvpwd")) + b":12345678:" + B(H(trig)))
assert p[:16] == dig, p[:16].hex()
EOP
check "OPEN CHANNEL went to the registered port, terminal server mode" \
	grep -qE "^< D0..810301400182028182390205783C0305$(printf '%04X' "$AP")" "$T/card.log"

# The dialogue, in Python: each check printed as "ok DESC" or "not ok DESC".
$PY - "$SP" "$TOOL" "$T" <<'EOP' >"$T/dialogue.txt" 2>"$T/dialogue.err"
import base64, hashlib, http.client, re, subprocess, sys
port, tool, tdir = sys.argv[1], sys.argv[2], sys.argv[3]
# one keep-alive connection for the whole dialogue
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
XML, WBXML = "application/vnd.syncml.dm+xml", "application/vnd.syncml.dm+wbxml"
H = lambda b: hashlib.md5(b).digest()
B = lambda b: base64.b64encode(b).decode()
def cred(nonce):
    return B(H(B(H(b"dmclient:clipwd")).encode() + b":" + nonce))
def check(desc, cond):
    print(("ok " if cond else "not ok ") + desc, flush=True)
    return cond
def post(body, ctype=XML):
    conn.request("POST", "/OMA/DM", body=body.encode() if isinstance(body, str) else body,
                 headers={"Content-Type": ctype})
    r = conn.getresponse()
    return r.status, r.getheader("Content-Type"), r.read()
def msg(sid, msgid, body, c=None, final=True):
    cr = ""
    if c is not None:
        cr = ('<Cred><Meta><Format xmlns="syncml:metinf">b64</Format>'
              '<Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta>'
              '<Data>%s</Data></Cred>' % c)
    return ('<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>'
            '<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>%s</SessionID>'
            '<MsgID>%d</MsgID><Target><LocURI>DMServer</LocURI></Target>'
            '<Source><LocURI>IMEI:004999010640000</LocURI><LocName>dmclient</LocName></Source>%s'
            '<Meta><MaxMsgSize xmlns="syncml:metinf">20000</MaxMsgSize></Meta></SyncHdr>'
            '<SyncBody>%s%s</SyncBody></SyncML>' % (sid, msgid, cr, body, "<Final/>" if final else ""))
P1 = ('<Alert><CmdID>1</CmdID><Data>1200</Data></Alert><Replace><CmdID>2</CmdID>'
      '<Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>IMEI:004999010640000</Data></Item>'
      '<Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>dmscgw</Data></Item>'
      '<Item><Source><LocURI>./DevInfo/Mod</LocURI></Source><Data>Model X</Data></Item>'
      '<Item><Source><LocURI>./DevInfo/DmV</LocURI></Source><Data>1.2</Data></Item>'
      '<Item><Source><LocURI>./DevInfo/Lang</LocURI></Source><Data>en</Data></Item></Replace>')
def hdr_status(x):
    m = re.search(r"<Status><CmdID>\d+</CmdID><MsgRef>\d+</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>.*?<Data>(\d+)</Data></Status>", x, re.S)
    return int(m.group(1)) if m else None
def nonce(x):
    m = re.search(r"<NextNonce[^>]*>([^<]+)</NextNonce>", x)
    return base64.b64decode(m.group(1)) if m else None
def cmd_id(x, cmd, uri):
    m = re.search(r"<%s><CmdID>(\d+)</CmdID>(?:(?!</%s>).)*<LocURI>%s</LocURI>" % (cmd, cmd, re.escape(uri)), x, re.S)
    return m.group(1) if m else None
def status(ref_msg, ref, cmd, code, cid):
    return ('<Status><CmdID>%d</CmdID><MsgRef>%s</MsgRef><CmdRef>%s</CmdRef><Cmd>%s</Cmd>'
            '<Data>%d</Data></Status>' % (cid, ref_msg, ref, cmd, code))
def srv_msgid(x):
    return re.search(r"<MsgID>(\d+)</MsgID>", x).group(1)

# 1. a wrong credential
st, ct, body = post(msg("1A2B", 1, P1, c=cred(b"wrong")))
x = body.decode()
check("HTTP 200 with the SyncML XML content type", st == 200 and ct == XML)
check("a wrong client credential gets Status 401 for SyncHdr", hdr_status(x) == 401)
check("with a Chal: auth-md5, b64, a NextNonce", "<Chal>" in x and "syncml:auth-md5" in x and nonce(x))
check("the server's own Cred is auth-md5 (" + B(H(B(H(b"DMServer:srvpwd")).encode() + b":12345678")) + ")",
      B(H(B(H(b"DMServer:srvpwd")).encode() + b":12345678")) in x)
check("no commands with the 401", "<Add>" not in x and "<Get>" not in x)
n1 = nonce(x)

# 2. Package#1 with the right credential, after the challenge
st, ct, body = post(msg("1A2B", 2, P1, c=cred(n1)))
x = body.decode()
open(tdir + "/p2.xml", "w").write(x)
check("Package#1 gets Status 212 for SyncHdr", hdr_status(x) == 212)
check("212 carries a fresh NextNonce", nonce(x) and nonce(x) != n1)
check("Statuses 200 for the client's Alert and Replace",
      re.search(r"<CmdRef>1</CmdRef><Cmd>Alert</Cmd>.*?<Data>200</Data>", x, re.S) and
      re.search(r"<CmdRef>2</CmdRef><Cmd>Replace</Cmd>.*?<Data>200</Data>", x, re.S))
add, get = cmd_id(x, "Add", "./Vendor/Test"), cmd_id(x, "Get", "./DevInfo/Mod")
check("the first package: Add ./Vendor/Test (chr, hello) and Get ./DevInfo/Mod",
      add and get and "<Data>hello</Data>" in x and ">chr</Format>" in x)
check("SyncHdr: VerProto DM/1.2, SessionID 1A2B, Target = the client, Source = ServerID, MaxMsgSize",
      "<VerProto>DM/1.2</VerProto>" in x and "<SessionID>1A2B</SessionID>" in x and
      "<Target><LocURI>IMEI:004999010640000</LocURI></Target>" in x and
      "<Source><LocURI>DMServer</LocURI></Source>" in x and ">65536</MaxMsgSize>" in x)
check("Final", "<Final/>" in x)
n2 = nonce(x)
m = srv_msgid(x)

# 3. statuses and results: the second package comes
body3 = (status(m, 0, "SyncHdr", 200, 1) + status(m, add, "Add", 200, 2) + status(m, get, "Get", 200, 3) +
         '<Results><CmdID>4</CmdID><MsgRef>%s</MsgRef><CmdRef>%s</CmdRef><Item><Source><LocURI>./DevInfo/Mod'
         '</LocURI></Source><Data>Model X</Data></Item></Results>' % (m, get))
st, ct, body = post(msg("1A2B", 3, body3))
x = body.decode()
rep = cmd_id(x, "Replace", "./Vendor/Test")
check("after the answers: Status 200 for SyncHdr and the second package (Replace)",
      hdr_status(x) == 200 and rep and "<Data>world</Data>" in x)
m = srv_msgid(x)

# 4. the last answer: the server ends with Status + Final
st, ct, body = post(msg("1A2B", 4, status(m, 0, "SyncHdr", 200, 1) + status(m, rep, "Replace", 200, 2)))
x = body.decode()
check("after the last package: only Status + Final",
      hdr_status(x) == 200 and "<Final/>" in x and not re.search(r"<(Add|Replace|Get|Alert|Exec|Delete)>", x))

# 5. WBXML: a new session (the script's second part), credential with n2
p1 = msg("3C", 1, P1.replace("1200", "1201"), c=cred(n2))
open(tdir + "/wp1.xml", "w").write(p1)
subprocess.run([tool, "xml2wbxml", tdir + "/wp1.xml", tdir + "/wp1.wbxml"], check=True)
st, ct, body = post(open(tdir + "/wp1.wbxml", "rb").read(), WBXML)
check("a WBXML request gets the WBXML content type", ct == WBXML)
check("and a WBXML body (public id 0x1201, UTF-8)", body[0] in (2, 3) and body[1:4] == b"\xa4\x01\x6a")
open(tdir + "/wr1.wbxml", "wb").write(body)
subprocess.run([tool, "wbxml2xml", tdir + "/wr1.wbxml", tdir + "/wr1.xml"], check=True)
x = open(tdir + "/wr1.xml").read()
wget = cmd_id(x, "Get", "./DevInfo/Man")
check("decoded: Status 212 and Get ./DevInfo/Man", hdr_status(x) == 212 and wget)
m = srv_msgid(x)
open(tdir + "/wp2.xml", "w").write(msg("3C", 2, status(m, 0, "SyncHdr", 200, 1) + status(m, wget, "Get", 200, 2) +
    '<Results><CmdID>3</CmdID><MsgRef>%s</MsgRef><CmdRef>%s</CmdRef><Item><Source><LocURI>./DevInfo/Man'
    '</LocURI></Source><Data>dmscgw</Data></Item></Results>' % (m, wget)))
subprocess.run([tool, "xml2wbxml", tdir + "/wp2.xml", tdir + "/wp2.wbxml"], check=True)
st, ct, body = post(open(tdir + "/wp2.wbxml", "rb").read(), WBXML)
open(tdir + "/wr2.wbxml", "wb").write(body)
subprocess.run([tool, "wbxml2xml", tdir + "/wr2.wbxml", tdir + "/wr2.xml"], check=True)
x = open(tdir + "/wr2.xml").read()
check("the WBXML session ends with Status + Final", ct == WBXML and hdr_status(x) == 200 and "<Final/>" in x)
EOP
rc=$?
while read -r line; do
	case $line in
	"ok "*) ok "${line#ok }" ;;
	"not ok "*) not_ok "${line#not ok }" ;;
	esac
done <"$T/dialogue.txt"
check "the dialogue ran to its end" test $rc -eq 0
diag "$T/dialogue.err"

wait_for 10 grep -q "scenario: all 19 steps passed" "$T/vuicc.log"
check "the card's scenario passed: both sessions accepted and completed, every expect met" \
	grep -q "scenario: all 19 steps passed" "$T/vuicc.log"
stop_vuicc
stop_daemon
done_testing
