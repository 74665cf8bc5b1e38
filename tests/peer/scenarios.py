# SPDX-License-Identifier: MIT
"""The scenarios dmserver.py plays against dmscgw's DM client.

A scenario is one daemon configuration (encoding, authentication) and a
list of sessions; a session is a list of Steps.  A Step says what the
client's next message must be (besides what every message is checked for:
MsgID, SessionID, the Status for our SyncHdr and for each of our commands,
Results, credentials) and what the server answers (Reply)."""

import base64
import copy
import os

from syncml import Cmd, Item

# the DM account both sides know (the daemon's [dm_sc], [terminal])
SERVER_ID = "DMSRV"
SERVER_PW = "srvpwd"
CLIENT_NAME = "dmclient"
CLIENT_PW = "clipwd"
DEVID = "IMEI:490154203237518"
DEVINFO = ("./DevInfo/DevId", "./DevInfo/Man", "./DevInfo/Mod",
           "./DevInfo/DmV", "./DevInfo/Lang")

# a remote server's account, which the DM_SC server provisions through the
# Inbox (DM_StdObj 5.3.4) and the remote scenarios play over HTTPS
REMOTE_ID = "REMOTE"
REMOTE_PW = "remote-srvpwd"
REMOTE_CLIENT = "remote-client"
REMOTE_CLIENT_PW = "remote-clipwd"
REMOTE_ADDR = os.environ.get("DMSERVER_REMOTE_ADDR", "https://localhost:1/dm")
W7 = "org.openmobilealliance/1.0/w7"     # DM_StdObj 1.2 DMAcc


# -- the server's commands -------------------------------------------------

class SCmd:
    """A server command and the Status code the client must answer."""

    def __init__(self, name, uri, value=None, fmt="chr", code=200,
                 moredata=False, size=None, chunked=False, correlator=None,
                 status_data=None, children=(), mtype=None):
        self.name, self.uri, self.value, self.fmt = name, uri, value, fmt
        self.code, self.moredata, self.size = code, moredata, size
        self.chunked = chunked      # Get: Results expected in chunks
        self.correlator = correlator    # Exec (RepPro 1.2 6.6.6)
        self.status_data = status_data  # the Data its Status must carry
        self.children = list(children)  # Atomic, Sequence
        self.mtype = mtype          # Meta Type (an interior node's: its MO)
        self.item_codes = None      # several items: [(uri, code)], a Status each
        self.cmd_id = self.msg = None
        self.got = None
        self.chunks = 0

    def to_cmd(self, next_id):
        """The command, with CmdIDs from next_id(), and every command in
        it (itself first, then its children) bound to those CmdIDs."""
        cmd_id = next_id()
        if self.name == "Alert":
            return Cmd("Alert", cmd_id, code=self.value), [self.bind(cmd_id)]
        if self.children:
            kids = [k.to_cmd(next_id) for k in self.children]
            return (Cmd(self.name, cmd_id, children=[c for c, _ in kids]),
                    [self.bind(cmd_id)] + [b for _, bs in kids for b in bs])
        meta = {}
        if self.name in ("Add", "Replace") or (self.name == "Exec" and
                                               self.value is not None):
            meta["Format"] = self.fmt
            if self.mtype:
                meta["Type"] = self.mtype
            if self.size is not None:
                meta["Size"] = str(self.size)   # DM_Protocol 7: first chunk
        data = None if self.name in ("Get", "Delete") or self.fmt == "node" \
            else self.value
        it = Item(target=self.uri, data=data, meta=meta, moredata=self.moredata)
        return (Cmd(self.name, cmd_id, items=[it], correlator=self.correlator),
                [self.bind(cmd_id)])

    def bind(self, cmd_id, msg=None):
        c = copy.copy(self)
        c.cmd_id, c.msg, c.got, c.chunks = cmd_id, msg, None, 0
        return c

    def __repr__(self):
        return "%s %s" % (self.name, self.uri)


class AddObject(SCmd):
    """One Add carrying a whole object: its root, an interior node whose
    Meta Type is the management object identifier, then its nodes
    (relative name, value or None for an interior node), an item each.
    The client answers every item with a Status of its own: code for the
    root, node_code for the others."""

    def __init__(self, root, mtype, nodes, code=200, node_code=None):
        SCmd.__init__(self, "Add", root, code=code, mtype=mtype)
        self.nodes = nodes
        nc = code if node_code is None else node_code
        self.item_codes = [(root, code)] + [("%s/%s" % (root, rel), nc)
                                            for rel, _ in nodes]

    def to_cmd(self, next_id):
        cmd_id = next_id()
        meta = {"Format": "node"}
        if self.mtype:
            meta["Type"] = self.mtype
        items = [Item(target=self.uri, meta=meta)]
        for rel, v in self.nodes:
            items.append(Item(target="%s/%s" % (self.uri, rel), data=v,
                              meta={"Format": "node" if v is None else "chr"}))
        return Cmd("Add", cmd_id, items=items), [self.bind(cmd_id)]


def dmacc(server_id, server_pw, client_name, client_pw, addr):
    """The nodes of a DMAcc object (DM_StdObj 1.2 5.3.1, w7), digest both
    ways, relative to its root."""
    return [("AppID", "w7"), ("ServerID", server_id), ("Name", server_id),
            ("AppAddr", None), ("AppAddr/1", None),
            ("AppAddr/1/Addr", addr), ("AppAddr/1/AddrType", "URI"),
            ("AAuthPref", "DIGEST"), ("AppAuth", None),
            ("AppAuth/1", None), ("AppAuth/1/AAuthLevel", "CLCRED"),
            ("AppAuth/1/AAuthType", "DIGEST"),
            ("AppAuth/1/AAuthName", client_name),
            ("AppAuth/1/AAuthSecret", client_pw),
            ("AppAuth/2", None), ("AppAuth/2/AAuthLevel", "SRVCRED"),
            ("AppAuth/2/AAuthType", "DIGEST"),
            ("AppAuth/2/AAuthName", server_id),
            ("AppAuth/2/AAuthSecret", server_pw)]


def Get(uri, value=None, code=200, chunked=False):
    return SCmd("Get", uri, value, code=code, chunked=chunked)


def Add(uri, value=None, fmt="chr", **kw):
    return SCmd("Add", uri, value, "node" if value is None else fmt, **kw)


def Replace(uri, value, fmt="chr", **kw):
    return SCmd("Replace", uri, value, fmt, **kw)


def Delete(uri, code=200):
    return SCmd("Delete", uri, code=code)


def Alert1222():
    return SCmd("Alert", None, 1222)


def Exec(uri, data=None, code=200, correlator=None, status_data=None,
         fmt="chr"):
    return SCmd("Exec", uri, data, fmt, code=code, correlator=correlator,
                status_data=status_data)


def Atomic(*cmds, code=200):
    return SCmd("Atomic", None, code=code, children=cmds)


def Sequence(*cmds, code=200):
    return SCmd("Sequence", None, code=code, children=cmds)


class Reply:
    """What the server sends.  code: its Status for the client's SyncHdr
    (None: 212 when the client sent Cred, else 200; HMAC: 200 with a new
    NextNonce); chal: a Chal with a NextNonce; cred: "auto" (Cred in the
    first message of a session), "none", "zero" (on 0x00000000), "bad";
    hmac: "good", "zero", "bad", "missing"."""

    def __init__(self, cmds=(), code=None, chal=False, final=True,
                 cred="auto", hmac="good", vanish=None):
        self.cmds, self.code, self.chal, self.final = list(cmds), code, chal, final
        self.cred, self.hmac = cred, hmac
        # no answer at all: "drop" closes the connection and the next
        # session starts by itself (the client tries again); "exit" ends
        # the server process: it is gone
        self.vanish = vanish


def End():
    """Only the Status for the SyncHdr, and Final: the session ends
    (DM_Protocol 8) and the client must not answer."""
    return Reply()


class Step:
    """One client message (several with more=True: the client's package
    may take several messages, each answered with Next Message).
    pkg1: Package#1 (Alert, DevInfo); final/alert1222: must (True) or must
    not (False) carry it, None either; cred: None by the authentication
    state, True/False forced; cred_nonce: the nonce its credentials must
    use; hdr_code: the allowed codes of its Status for our SyncHdr; chal:
    that Status must (True) / must not (False) carry a Chal; resend: it
    repeats the Statuses and Results of the message we rejected; abort:
    the client terminates (no success Status, Alert 1223); unauth: our
    credentials were refused, so our commands got no success Status;
    optional: it may not come at all; generic: the Generic Alerts 1226 it
    carries, each {"correlator": C, "items": [{"Source", "Type",
    "Format", "Mark", "Data"}, ...]}."""

    def __init__(self, reply, pkg1=False, final=True, alert1222=None,
                 cred=None, cred_nonce=None, hdr_code=None, chal=None,
                 resend=False, abort=False, optional=False, more=False,
                 min_msgs=1, unauth=False, note="", generic=None):
        self.reply, self.pkg1, self.final, self.alert1222 = reply, pkg1, final, alert1222
        self.generic = generic  # the Generic Alerts it must carry
        self.cred, self.cred_nonce, self.hdr_code, self.chal = cred, cred_nonce, hdr_code, chal
        self.resend, self.abort, self.optional = resend, abort, optional
        self.unauth = unauth    # our credentials failed: nothing executed
        self.more, self.min_msgs, self.note = more, min_msgs, note
        if more:
            self.final = None

    def next_message(self):
        # DM_Protocol 6.2: Next Message = SyncHdr Status + Alert 1222
        return Reply([Alert1222()], final=False)

    def what(self):
        return self.note or ("Package#1" if self.pkg1 else "a client message")


class Session:
    """trigger: notify (a Package#0 of ui_mode), start (a client-initiated
    session asked for), wait (one the client starts by itself).  actions:
    done before the trigger (dmserver.py's instructions, ("agent", PREFIX,
    SCRIPT) for an Exec agent running a shell script); checks: after it."""

    def __init__(self, trigger, steps, result="ok", tree=None,
                 session_id=0x1A2B, pkg0_zero=False, ui_mode=0, actions=(),
                 checks=()):
        self.trigger, self.steps, self.result = trigger, steps, result
        self.tree = tree or {}
        self.session_id, self.pkg0_zero = session_id, pkg0_zero
        self.ui_mode, self.actions, self.checks = ui_mode, actions, checks


class Scenario:
    """remote: a server the DM_SC server provisioned (REMOTE), played over
    HTTPS by tests/integration/dm_remote.sh; --list leaves it out."""

    def __init__(self, name, enc, auth, sessions, server_nonce=b"",
                 client_nonce=b"", nonce_conf=False, server_max_msg=None,
                 group=None, dm=(), remote=False):
        self.name, self.enc, self.auth, self.sessions = name, enc, auth, sessions
        self.server_nonce, self.client_nonce = server_nonce, client_nonce
        self.nonce_conf = nonce_conf
        self.server_max_msg = server_max_msg
        self.group = group      # None: dm_peer.sh's; "exec", "ui"
        self.dm = list(dm)      # more [dm] lines
        self.remote = remote
        self.server_id, self.server_pw = SERVER_ID, SERVER_PW
        self.client_name, self.client_pw = CLIENT_NAME, CLIENT_PW
        if remote:
            self.server_id, self.server_pw = REMOTE_ID, REMOTE_PW
            self.client_name, self.client_pw = REMOTE_CLIENT, REMOTE_CLIENT_PW

    def conf(self, port):
        """The daemon's [dm] and [dm_sc] lines."""
        lines = ["encoding = %s" % self.enc, "auth_retries = 2"] + self.dm + [
                 "",
                 "[terminal]", "imei = %s" % DEVID[5:], "",
                 "[dm_sc]", "server_id = %s" % SERVER_ID,
                 "server_password = %s" % SERVER_PW,
                 "client_name = %s" % CLIENT_NAME,
                 "client_password = %s" % CLIENT_PW,
                 "addr = http://127.0.0.1:%d/dm" % port,
                 "auth = %s" % self.auth]
        if self.nonce_conf:
            lines += ["server_nonce = %s" % base64.b64encode(self.server_nonce).decode(),
                      "client_nonce = %s" % base64.b64encode(self.client_nonce).decode()]
        return "\n".join(lines) + "\n"


ZERO = b"\0\0\0\0"
KINDS = [(e, a) for e in ("xml", "wbxml") for a in ("basic", "digest", "hmac")]
ALL = []


def scenario(*a, **kw):
    ALL.append(Scenario(*a, **kw))


def by_name(name):
    for s in ALL:
        if s.name == name:
            return s
    raise SystemExit("no scenario %s" % name)


# -- a normal session each way, per encoding and authentication -------------

for enc, auth in KINDS:
    scenario("%s-%s" % (enc, auth), enc, auth, [
        Session("notify", [
            Step(pkg1=True, reply=Reply([
                Get("./DevInfo/Man", "dmscgw"),
                Get("./DevInfo/DevId", DEVID),
                Add("./Peer"),
                Add("./Peer/A", "alpha"),
                Add("./Peer/B", "beta"),
                Replace("./Peer/A", "alpha2")])),
            Step(reply=Reply([
                Get("./Peer/A", "alpha2"),
                Delete("./Peer/B"),
                Get("./Peer/B", code=404),
                Replace("./Peer/A", "alpha3")])),
            Step(reply=End()),
        ], tree={"./Peer/A": "alpha3", "./Peer/B": None}),
        Session("start", [
            Step(pkg1=True, reply=Reply([
                Get("./DevInfo/Mod", "dmscgw"),
                Get("./DevInfo/DmV", "1.2"),
                Add("./Peer/C", "gamma")])),
            Step(reply=Reply([Get("./Peer/C", "gamma"), Delete("./Peer/A")])),
            Step(reply=End()),
        ], tree={"./Peer/C": "gamma", "./Peer/A": None}),
    ])

# -- challenges (DM_Protocol 9, 9.1) -----------------------------------------

for enc in ("xml", "wbxml"):
    # a 401 on Package#1: Package#1 again, with a Status for our SyncHdr
    scenario("%s-chal-first" % enc, enc, "digest", [
        Session("notify", [
            Step(pkg1=True, reply=Reply(code=401, chal=True)),
            Step(pkg1=True, note="Package#1 again", reply=Reply([
                Get("./DevInfo/DevId", DEVID), Add("./Chal1", "c")])),
            Step(reply=End()),
        ], tree={"./Chal1": "c"}),
    ])
    # 200 (not 212), commands, then a 401 on the answer: the same answer
    # again with fresh Cred, not Package#1
    scenario("%s-chal-mid" % enc, enc, "digest", [
        Session("start", [
            Step(pkg1=True, reply=Reply([
                Add("./Mid", "m1"), Get("./DevInfo/Man", "dmscgw")], code=200)),
            Step(note="the answer to package 2", reply=Reply(code=401, chal=True)),
            Step(resend=True, note="the same answer, with Cred on the new nonce",
                 reply=Reply([Get("./Mid", "m1"), Replace("./Mid", "m2")])),
            Step(reply=End()),
        ], tree={"./Mid": "m2"}),
    ])
    # 212 with a NextNonce: no Cred for the rest of the session, the nonce
    # for the next session's Package#1 (DM_Protocol 9.1)
    scenario("%s-212-nonce" % enc, enc, "digest", [
        Session("notify", [
            Step(pkg1=True, reply=Reply([Add("./N212", "a")], code=212, chal=True)),
            Step(reply=Reply([Replace("./N212", "b"), Get("./N212", "b")])),
            Step(reply=End()),
        ], tree={"./N212": "b"}),
        Session("start", [
            Step(pkg1=True, note="Package#1 with Cred on the 212's NextNonce",
                 reply=Reply([Get("./N212", "b")])),
            Step(reply=End()),
        ]),
    ])
    # 200 with a NextNonce: Cred again in the next message, on that nonce
    scenario("%s-200-nonce" % enc, enc, "digest", [
        Session("notify", [
            Step(pkg1=True, reply=Reply([Add("./N200", "a")], code=200, chal=True)),
            Step(note="Cred on the new nonce", reply=Reply([Get("./N200", "a")])),
            Step(reply=End()),
        ], tree={"./N200": "a"}),
    ])

# -- nonce resynchronisation (DM_Notification 5.1) ---------------------------

for enc in ("xml", "wbxml"):
    for auth in ("digest", "hmac"):
        scenario("%s-%s-resync" % (enc, auth), enc, auth, [
            Session("notify", pkg0_zero=True, steps=[
                # 5.1 (2): Package#1 credentials on 0x00000000
                Step(pkg1=True, cred_nonce=ZERO, reply=Reply(
                    # 5.1 (3): our success Status carries a Chal (client nonce)
                    [Add("./Resync", "r")], code=212 if auth != "hmac" else 200,
                    chal=True, cred="zero", hmac="zero")),
                # 5.1 (4): our Cred on 0x00000000 accepted, and a Chal with
                # the new server nonce on the Status for our SyncHdr
                Step(chal=True, hdr_code=(200, 212), reply=End()),
            ], tree={"./Resync": "r"}),
            Session("start", [
                Step(pkg1=True, note="Package#1 on the nonce we gave",
                     reply=Reply([Get("./Resync", "r")])),
                Step(note="our credentials on the resynchronised nonce accepted",
                     hdr_code=(200, 212), reply=End()),
            ]),
        ], server_nonce=b"stored-srv-nonce", client_nonce=b"stored-cli-nonce",
            nonce_conf=True)

# -- the client challenges the server, then a resynchronisation without
# configured nonces: the client's Chal plants a server nonce, Package#0 is
# signed on 0x00000000 (DM_Security 5.3, DM_Notification 5.1)

for enc in ("xml", "wbxml"):
    scenario("%s-srv-chal" % enc, enc, "digest", [
        Session("start", [
            Step(pkg1=True, reply=Reply([Add("./SrvChal", "v")], cred="bad")),
            Step(unauth=True, hdr_code=(401,), chal=True,
                 note="401 and a Chal for our bad Cred",
                 reply=Reply([Add("./SrvChal", "v")], cred="good")),
            Step(reply=End()),
        ], tree={"./SrvChal": "v"}),
        Session("notify", pkg0_zero=True, session_id=0x2B3C, steps=[
            Step(pkg1=True, cred_nonce=ZERO, reply=Reply(
                [Replace("./SrvChal", "w")], code=212, chal=True, cred="zero")),
            Step(chal=True, reply=End()),
        ], tree={"./SrvChal": "w"}),
        Session("start", [
            Step(pkg1=True, reply=Reply([Get("./SrvChal", "w")])),
            Step(reply=End()),
        ]),
    ])

# -- HMAC on every message (DM_Security 5.4) ----------------------------------

for enc in ("xml", "wbxml"):
    scenario("%s-hmac-bad" % enc, enc, "hmac", [
        Session("notify", [
            Step(pkg1=True, reply=Reply([Add("./HOk", "one")])),
            Step(reply=Reply([Add("./HBad", "x"), Replace("./HOk", "two")],
                             hmac="bad")),
            Step(abort=True, optional=True, hdr_code=(401,), note="the abort",
                 reply=End()),
        ], result="auth-failed", tree={"./HOk": "one", "./HBad": None}),
        Session("start", [
            Step(pkg1=True, reply=Reply([Add("./HOk2", "one")])),
            Step(reply=Reply([Add("./HMiss", "x"), Replace("./HOk2", "two")],
                             hmac="missing")),
            Step(abort=True, optional=True, hdr_code=(401,), note="the abort",
                 reply=End()),
        ], result="auth-failed", tree={"./HOk2": "one", "./HMiss": None}),
        # a bad MAC on the server's first message: nothing executed, the
        # session fails; a Chal, if any, is syncml:auth-MAC
        Session("start", [
            Step(pkg1=True, reply=Reply([Add("./HFirst", "x")], hmac="bad")),
            Step(abort=True, optional=True, hdr_code=(401,), note="the abort",
                 reply=End()),
        ], result="auth-failed", tree={"./HFirst": None}),
    ])

# -- a server package over two messages (DM_Protocol 6.2) ---------------------

for enc in ("xml", "wbxml"):
    scenario("%s-split" % enc, enc, "digest", [
        Session("notify", [
            Step(pkg1=True, reply=Reply([Add("./Split"), Add("./Split/A", "a")],
                                        final=False)),
            Step(final=False, alert1222=True, note="the answer to message 1 of 2",
                 reply=Reply([Get("./Split/A", "a"), Add("./Split/B", "b")])),
            Step(final=True, alert1222=False, reply=End()),
        ], tree={"./Split/A": "a", "./Split/B": "b"}),
    ])

# -- large objects around MaxMsgSize (DM_Protocol 7) --------------------------

# sizes per encoding: two small Results fill most of a 2048-byte message,
# the third value only fits in a message of its own
LO_SIZES = {"xml": (150, 900), "wbxml": (600, 1500)}
for enc in ("xml", "wbxml"):
    small, fits = LO_SIZES[enc]
    S1, S2, A = "1" * small, "2" * small, "a" * fits
    L, R, M = "l" * 5000, "r" * 3000, "m" * 2000
    scenario("%s-large" % enc, enc, "digest", server_max_msg=2048, sessions=[
        Session("notify", [
            Step(pkg1=True, reply=Reply([
                Add("./LO"), Add("./LO/S1", S1), Add("./LO/S2", S2),
                Add("./LO/A", A), Add("./LO/L", L), Add("./LO/R", "short")])),
            Step(reply=Reply([Get("./LO/S1", S1), Get("./LO/S2", S2),
                              Get("./LO/A", A)])),
            # (a) A does not fit after S1 and S2: whole, in the next message
            Step(more=True, min_msgs=2, note="S1, S2, then A whole",
                 reply=Reply([Get("./LO/L", L, chunked=True)])),
            # (b) L is larger than a message: chunks, 213 and 1222 each
            Step(more=True, min_msgs=3, note="L in chunks",
                 reply=Reply([Replace("./LO/R", R[:1000], size=3000,
                                      moredata=True, code=213)], final=False)),
            # the server's object in chunks: 213 per chunk, 200 at the end
            Step(final=False, alert1222=True, note="213 for chunk 1 of R",
                 reply=Reply([Replace("./LO/R", R[1000:2000], moredata=True,
                                      code=213)], final=False)),
            Step(final=False, alert1222=True, note="213 for chunk 2 of R",
                 reply=Reply([Replace("./LO/R", R[2000:], code=200)])),
            # a size mismatch: 424, nothing committed
            Step(note="200 for the last chunk of R",
                 reply=Reply([Add("./LO/M", M[:1000], size=3000, moredata=True,
                                  code=213)], final=False)),
            Step(final=False, alert1222=True, note="213 for chunk 1 of M",
                 reply=Reply([Add("./LO/M", M[1000:], code=424)])),
            Step(note="424 for M", reply=End()),
        ], tree={"./LO/R": R, "./LO/M": None}),
    ])

# -- Exec agents (DM_RepPro 1.2 6.6.6) and their asynchronous results in a
# Generic Alert (DM_Protocol 1.2 8.7); the agent is a shell script run by
# `dmscgwctl exec-agent` (tests/integration/dm_exec.sh) -------------------

# Exit 0 answers 200, 202 accepted, anything else 500; stdout is the data.
AGENT = r"""data=$(cat)
[ "$DMSCGW_DATA" = "$data" ] && [ "$DMSCGW_FORMAT" = chr ] || exit 9
case "$DMSCGW_URI" in
*/Sync) echo "did $data"; exit 0 ;;
*/Fail) echo "it broke"; exit 3 ;;
*/Async)
	"$DMSCGWCTL" exec-result "$DMSCGW_CORRELATOR" 200 "async done" \
		>/dev/null 2>&1 &
	exit 202 ;;
*/Update)
	"$DMSCGWCTL" exec-result "$DMSCGW_CORRELATOR" 410 "" >/dev/null 2>&1 &
	exit 202 ;;
*/Job) exit 202 ;;
*/Slow) sleep 4; echo late; exit 0 ;;
esac
exit 1
"""

EXEC_TYPE = "org.dmscgw.exec.result"


def generic(corr, uri, code, text="", typ=EXEC_TYPE):
    """The Generic Alert that reports an Exec's result: the result code
    (Format int), the agent's text in a second item (Format chr); Mark
    informational for a success, critical for a failure."""
    mark = "informational" if 200 <= code < 300 else "critical"
    items = [{"Source": uri, "Type": typ, "Format": "int", "Mark": mark,
              "Data": str(code)}]
    if text:
        items.append({"Source": uri, "Type": typ, "Format": "chr",
                      "Mark": mark, "Data": text})
    return {"correlator": corr, "items": items}


V = "./Vendor/dmscgw"
for enc in ("xml", "wbxml"):
    corr = "corr-%s" % enc
    scenario("%s-exec" % enc, enc, "digest", group="exec", sessions=[
        Session("notify", actions=[("agent", V + "/", AGENT)], steps=[
            Step(pkg1=True, reply=Reply([
                Add(V + "/Sync", "s"), Add(V + "/Fail", "f"),
                Add(V + "/Async", "a"),
                Exec(V + "/Sync", "hello", status_data="did hello"),
                Exec(V + "/Fail", "x", code=500, status_data="it broke"),
                Exec(V + "/Async", "later", correlator=corr, code=202,
                     status_data=""),
                Exec(V + "/None", code=404),
                # not an agent's: the node's ACL has no Exec
                Exec("./DevInfo/DevId", code=425),
                # in order: the Add waits for the agent
                Sequence(Exec(V + "/Sync", "seq", status_data="did seq"),
                         Add("./ExecSeq", "after")),
                # what an agent did cannot be rolled back
                Atomic(Add("./ExecAtomic", "x", code=216),
                       Exec(V + "/Sync", "no", code=406), code=507)])),
            Step(reply=End()),
        ], tree={"./ExecSeq": "after", "./ExecAtomic": None}),
        Session("wait", steps=[
            Step(pkg1=True, note="the result of Async in a Generic Alert",
                 generic=[generic(corr, V + "/Async", 200, "async done")],
                 reply=End()),
        ]),
        # the agent gone from the bus: the node is still executable,
        # nothing executes it
        Session("notify", actions=["stop-agent " + V + "/"], steps=[
            Step(pkg1=True, reply=Reply([Exec(V + "/Sync", "x", code=500,
                                              status_data="")])),
            Step(reply=End()),
        ]),
        # FUMO's node, FUMO's alert type (OMA-TS-DM-FUMO-V1_0); a failure
        Session("start", actions=[("agent", "./FUMO/", AGENT)], steps=[
            Step(pkg1=True, reply=Reply([
                Add("./FUMO/Pkg1"), Add("./FUMO/Pkg1/Update", "u"),
                Exec("./FUMO/Pkg1/Update", correlator="fumo-" + enc,
                     code=202)])),
            Step(reply=End()),
        ]),
        Session("wait", steps=[
            Step(pkg1=True, generic=[generic(
                "fumo-" + enc, "./FUMO/Pkg1/Update", 410,
                typ="org.openmobilealliance.dm.firmwareupdate.update")],
                reply=End()),
        ]),
    ])

# an agent slower than [dm] exec_timeout: the Exec is answered 500 when
# the time passes, with nothing of what the agent says later, and the
# session goes on with the next command
scenario("xml-exec-timeout", "xml", "digest", group="exec",
         dm=["exec_timeout = 1"], sessions=[
    Session("notify", actions=[("agent", "./Vendor/t/", AGENT)], steps=[
        Step(pkg1=True, reply=Reply([
            Add("./Vendor/t/Slow", "s"),
            Exec("./Vendor/t/Slow", "late", code=500, status_data=""),
            Add("./ExecAfterTimeout", "yes")])),
        Step(reply=End()),
    ], tree={"./ExecAfterTimeout": "yes"}),
])

# a result kept on disk while the server cannot be reached, delivered by
# the daemon started again
scenario("xml-exec-restart", "xml", "digest", group="exec", sessions=[
    Session("notify", actions=[("agent", "./Vendor/r/", AGENT)], steps=[
        Step(pkg1=True, reply=Reply([
            Add("./Vendor/r/Job", "j"),
            Exec("./Vendor/r/Job", correlator="corr-r", code=202)])),
        Step(reply=End()),
    ]),
    Session("wait", actions=["unreachable",
                             "exec-result corr-r 200 finished"],
            steps=[], result="transport-failed",
            checks=["file exec-results"]),
    Session("wait", actions=["restart"], steps=[
        Step(pkg1=True, generic=[generic("corr-r", "./Vendor/r/Job", 200,
                                         "finished")], reply=End()),
    ]),
])

# -- the UI mode of Package#0 (DM_Notification 1.2 6.2.7) --------------------

UI_SESSION = [Step(pkg1=True, reply=Reply([Get("./DevInfo/Man", "dmscgw")])),
              Step(reply=End())]
scenario("ui-modes", "xml", "digest", group="ui", sessions=[
    Session("notify", ui_mode=1, steps=UI_SESSION,
            checks=["nosignal SessionNotice"]),
    Session("notify", ui_mode=2, steps=UI_SESSION,
            checks=["signal SessionNotice"]),
    # no UI agent: [dm] alerts = accept
    Session("notify", ui_mode=3, steps=UI_SESSION,
            checks=["nosignal SessionNotice"]),
    Session("notify", ui_mode=3, actions=["ui-agent reject"], steps=[],
            result="cancelled",
            checks=["error UI mode user interaction: refused by the UI agent"]),
    Session("notify", ui_mode=3, actions=["ui-agent accept"],
            steps=UI_SESSION),
])
scenario("ui-policy", "xml", "digest", group="ui", dm=["alerts = reject"],
         sessions=[
    Session("notify", ui_mode=3, steps=[], result="cancelled",
            checks=["error UI mode user interaction: refused by policy"]),
    Session("notify", ui_mode=0, steps=UI_SESSION),
    # an agent that does not know ConfirmSession: the policy decides
    Session("notify", ui_mode=3, actions=["ui-agent old"], steps=[],
            result="cancelled",
            checks=["error UI mode user interaction: refused by policy"]),
])

# -- the Inbox (DM_StdObj 1.2 5.3.4; DM_SC-C-003) ------------------------------

# A DMAcc object added whole under ./Inbox lands at ./DMAcc/<name>; an
# identifier the device does not place is 406 and nothing below it exists
# (404); a root without a Type is 400; a Get of the Inbox is 405; an object
# placed by one Add takes the later Adds of the session below its name.
FUMO = "org.openmobilealliance/1.0/FirmwareUpdateManagementObject"
for enc in ("xml", "wbxml"):
    scenario("%s-inbox" % enc, enc, "digest", [
        Session("notify", [
            Step(pkg1=True, reply=Reply([
                AddObject("./Inbox/Remote", W7, dmacc(
                    REMOTE_ID, REMOTE_PW, REMOTE_CLIENT, REMOTE_CLIENT_PW,
                    REMOTE_ADDR)),
                AddObject("./Inbox/Fw", FUMO, [("PkgName", "fw")],
                          code=406, node_code=404),
                Add("./Inbox/Bare", code=400),
                Get("./Inbox", code=405),
                Add("./Inbox/Second", mtype="urn:oma:mo:oma-dm-dmacc:1.0"),
                Add("./Inbox/Second/ServerID", "SECOND")])),
            Step(reply=Reply([Get("./Inbox/Remote", code=405),
                              Get("./DMAcc/Second/ServerID", "SECOND")])),
            Step(reply=End()),
        ], tree={"./DMAcc/Remote/ServerID": REMOTE_ID,
                 "./DMAcc/Remote/AppAddr/1/Addr": REMOTE_ADDR,
                 "./DMAcc/Remote/AppAuth/1/AAuthName": REMOTE_CLIENT,
                 "./DMAcc/Second/ServerID": "SECOND",
                 "./DMAcc/Fw": None, "./DMAcc/Bare": None,
                 "./Inbox/Remote": None, "./Inbox/Fw": None}),
    ])

# -- a remote server over HTTPS (tests/integration/dm_remote.sh) -------------

for enc in ("xml", "wbxml"):
    # a client-initiated session (dmscgwctl session start), then one the
    # server asks for with a DM Notification (dmscgwctl notify)
    scenario("%s-remote" % enc, enc, "digest", remote=True, sessions=[
        Session("start", [
            Step(pkg1=True, reply=Reply([
                Get("./DevInfo/DevId", DEVID), Add("./RemoteMO"),
                Add("./RemoteMO/A", "from-remote")])),
            Step(reply=Reply([Get("./RemoteMO/A", "from-remote")])),
            Step(reply=End()),
        ], tree={"./RemoteMO/A": "from-remote"}),
        Session("notify", session_id=0x3C4D, steps=[
            Step(pkg1=True, reply=Reply([Replace("./RemoteMO/A", "notified")])),
            Step(reply=End()),
        ], tree={"./RemoteMO/A": "notified"}),
    ])

# the handshake fails (the certificate is refused): no message arrives
scenario("xml-remote-refused", "xml", "digest", remote=True, sessions=[
    Session("start", [], result="transport-failed"),
])

# the server drops the connection mid-session without an answer: the
# client tries again, from Package#1, and the session ends well
scenario("xml-remote-vanish", "xml", "digest", remote=True, sessions=[
    Session("start", [
        Step(pkg1=True, reply=Reply([Add("./Vanish"), Add("./Vanish/A", "a")])),
        Step(note="the answer to package 2, never answered",
             reply=Reply(vanish="drop")),
    ], result="ok", tree={"./Vanish/A": "b"}),
    Session("start", [
        Step(pkg1=True, note="Package#1 again, on the client's own retry",
             reply=Reply([Get("./Vanish/A", "a"), Replace("./Vanish/A", "b")])),
        Step(reply=End()),
    ]),
])

# the server process dies mid-session and stays away: the retries are
# refused, and the session fails once they are used up
scenario("xml-remote-gone", "xml", "digest", remote=True, sessions=[
    Session("start", [
        Step(pkg1=True, reply=Reply([Add("./Gone", "g")])),
        Step(note="the answer to package 2, never answered",
             reply=Reply(vanish="exit")),
    ], result="transport-failed"),
])

# -- the demo's second act (contrib/demo-run.sh) ------------------------------

# The card provisioned REMOTE through the Inbox (contrib/demo.scn, with the
# REMOTE_* names and passwords above); the daemon opens a session
# with it over HTTPS (dmscgwctl session start REMOTE), and the server asks
# for a reboot: an Exec on a node the demo's shell agent serves, which
# accepts it (202) and reports later; the result comes
# back in a Generic Alert 1226 session the client starts by itself.
DEMO_NODE = "./Vendor/dmscgw/Reboot"
DEMO_CORR = "demo-reboot-1"
scenario("demo", "xml", "digest", remote=True, group="demo", sessions=[
    Session("start", [
        Step(pkg1=True, reply=Reply([
            Get("./DevInfo/DevId", DEVID),
            # accepted: no Data in the Status, the result comes later
            Exec(DEMO_NODE, "now", correlator=DEMO_CORR, code=202,
                 status_data="")])),
        Step(reply=End()),
    ]),
    Session("wait", steps=[
        Step(pkg1=True, note="the reboot's result in a Generic Alert",
             generic=[generic(DEMO_CORR, DEMO_NODE, 200, "rebooted")],
             reply=End()),
    ]),
])
