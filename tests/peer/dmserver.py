#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""An independent OMA DM 1.2 server for testing dmscgw's DM client.

Shares no code with src/dm: XML through xml.etree, WBXML through Debian's
wbxml2xml/xml2wbxml, credentials recomputed from the OMA texts.  It plays
one scenario (tests/peer/scenarios.py): a list of sessions, each a list of
steps "the client's message must be so / the server answers that" (the
scripted-peer style of oFono's unit tests).  Every check on a client
message is one TAP line in the output file.

  dmserver.py --selftest
  dmserver.py --scenario NAME --dir DIR [--port N]
              [--tls CERT KEY [--client-ca CA]]
      DIR/conf   the daemon's [dm]/[dm_sc] lines for this scenario
      DIR/port   the port it listens on (127.0.0.1), written last
      DIR/tap    the checks, TAP lines
      --port     listen there (0, the default: any free port)
      --tls      HTTPS with this certificate and key (Python's ssl module,
                 TLS 1.2 or later); --client-ca: a client certificate
                 signed by CA is required
      DMSERVER_REMOTE_ADDR  the AppAddr of the accounts the Inbox
                 scenarios provision (default https://localhost:1/dm)
  GET /ctl/next  ends the current session and returns the next one's
                 instructions, or "end": actions first (agent PREFIX
                 SCRIPT, stop-agent PREFIX, ui-agent accept|reject|none,
                 exec-result CORRELATOR CODE DATA, unreachable, restart),
                 then the trigger (notify FILE | start SERVERID | wait:
                 the client starts it), result R, and checks after it
                 (tree URI VALUE, absent URI, error TEXT, signal NAME,
                 nosignal NAME).  A session that follows a dropped
                 connection (Reply(vanish=...)) starts by itself: the
                 client comes back on its own.
  POST /dm       SyncML DM, XML or WBXML; answered in the same format.
"""

import base64
import copy
import http.server
import os
import signal
import socket
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dmauth  # noqa: E402
import syncml  # noqa: E402
from syncml import Cmd, Item, Msg  # noqa: E402

import scenarios  # noqa: E402
from scenarios import DEVID, DEVINFO  # noqa: E402


class Tap:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.n = 0

    def check(self, cond, desc, why=""):
        self.n += 1
        desc = desc.replace("\n", " ")
        if cond:
            self.f.write("ok %d - %s\n" % (self.n, desc))
        else:
            self.f.write("not ok %d - %s\n" % (self.n, desc))
            if why:
                for line in str(why).splitlines()[:8]:
                    self.f.write("# %s\n" % line[:400])
        return cond

    def diag(self, text):
        self.f.write("# %s\n" % text)


class SessionState:
    def __init__(self, spec, index):
        self.spec = spec
        self.index = index
        self.sid = None
        self.steps = list(spec.steps)
        self.client_msg = 0          # last client MsgID seen
        self.server_msg = 0          # last server MsgID sent
        self.client_212 = False      # 212 given: no more Cred (DM_Protocol 9.1)
        self.cmds = []               # server commands awaiting a Status
        self.cmds_msg = 0            # ... and the server MsgID they went in
        self.gets = {}               # CmdID -> Get awaiting Results
        self.rejected = None         # the statuses of a message we 401'd
        self.closed = False
        self.step_msgs = 0           # client messages taken by this step


class Peer:
    def __init__(self, scenario, tap, workdir):
        self.sc = scenario
        self.tap = tap
        self.dir = workdir
        self.client_nonce = scenario.client_nonce
        # DM_Security 5.3.4: a nonce from a message whose credentials
        # failed is used for the client's next Cred in that session, but
        # not stored: the next session starts from the last trusted one
        self.stored_client_nonce = scenario.client_nonce
        self.server_nonce = scenario.server_nonce
        self.specs = list(scenario.sessions)
        self.s = None
        self.started = None     # instructions of a session the client began
        self.tls = None         # the connection's TLS version and cipher
        self.nsessions = 0
        self.nonce_seq = 0

    # -- sessions ---------------------------------------------------------

    def next_session(self):
        """/ctl/next: close the running session, start the next (unless
        the client started it already: see handle())."""
        if self.started is not None:
            out, self.started = self.started, None
            return out
        if self.s:
            self.close_session()
        if not self.specs:
            return "end\n"
        spec = self.specs.pop(0)
        self.nsessions += 1
        self.client_nonce = self.stored_client_nonce
        self.s = SessionState(spec, self.nsessions)
        out = []
        for a in spec.actions:
            if isinstance(a, tuple):    # ("agent", PREFIX, script text)
                path = os.path.join(self.dir, "agent-%d.sh" % self.nsessions)
                with open(path, "w") as f:
                    f.write("#!/bin/sh\n" + a[2])
                os.chmod(path, 0o755)
                out.append("%s %s %s" % (a[0], a[1], path))
            else:
                out.append(a)
        if spec.trigger == "notify":
            # DM_Notification 5.1: the digest on the stored server nonce, or
            # on 0x00000000 to make the client resynchronise
            nonce = dmauth.ZERO_NONCE if spec.pkg0_zero else self.server_nonce
            p0 = dmauth.package0(self.sc.server_id, self.sc.server_pw, nonce,
                                 spec.session_id, ui_mode=spec.ui_mode)
            self.s.sid = "%X" % spec.session_id
            path = os.path.join(self.dir, "pkg0-%d.bin" % self.nsessions)
            with open(path, "wb") as f:
                f.write(p0)
            out.append("notify %s" % path)
        elif spec.trigger == "start":
            out.append("start %s" % self.sc.server_id)
        else:
            out.append("wait")      # the client starts it by itself
        out.append("result %s" % spec.result)
        out.extend(spec.checks)
        for uri, value in spec.tree.items():
            out.append("absent %s" % uri if value is None else
                       "tree %s %s" % (uri, value))
        return "\n".join(out) + "\n"

    def close_session(self):
        s = self.s
        left = [st for st in s.steps if not st.optional]
        self.tap.check(not left, "%s: every expected client message came"
                       % self.name(), "missing: %s" % ", ".join(
                           st.what() for st in left))
        s.closed = True

    def name(self, m=None):
        n = "%s s%d" % (self.sc.name, self.s.index if self.s else 0)
        return n if m is None else "%s m%s" % (n, m.msg_id)

    # -- one client message -------------------------------------------------

    def handle(self, ctype, body, headers):
        ct = (ctype or "").split(";")[0].strip().lower()
        try:
            m = syncml.decode(ct, body)
        except Exception as e:  # malformed: a failed check, then end it
            self.tap.check(False, "%s: the client's message parses" %
                           self.sc.name, e)
            return None
        if (self.s is None or self.s.closed) and self.started is None and \
                self.specs and self.specs[0].trigger == "wait":
            # the client starts this one by itself, maybe before the test
            # asks for it: it begins here, /ctl/next only reports it
            self.started = self.next_session()
        s = self.s
        what, more = describe(m)
        log("<- msg %s (%s, %d bytes%s): %s" % (
            m.msg_id, "wbxml" if ct == syncml.CT_WBXML else "xml", len(body),
            ", " + self.tls if self.tls else "", what))
        for line in more:
            log(line)
        self.nin = getattr(self, "nin", 0) + 1
        with open(os.path.join(self.dir, "in-%02d.xml" % self.nin), "wb") as f:
            f.write(syncml.build_xml(m))    # as we understood it, for the log
        if s is None or s.closed or (s.sid and m.session_id != s.sid and
                                     s.client_msg):
            self.tap.check(False, "%s: no client message expected now "
                           "(DM_Protocol 8: nothing after a Status-only "
                           "Final)" % self.name(m), "session %s msg %s: %r" %
                           (m.session_id, m.msg_id, m.cmds))
            return self.reply_end(ct, m)
        if not s.steps:
            self.tap.check(False, "%s: the client sends nothing after the "
                           "server's Status-only Final (DM_Protocol 8)"
                           % self.name(m), "got %r final=%s" % (m.cmds, m.final))
            s.closed = True
            return self.reply_end(ct, m)
        st = s.steps[0]
        s.step_msgs += 1
        snapshot = copy.deepcopy(s.gets)  # a rejected answer comes again
        self.check_message(st, m, body, headers)
        if st.more and not m.final:
            # the client's package goes on (DM_Protocol 6.2): Next Message
            return self.reply(ct, m, st, st.next_message())
        if st.more:
            self.tap.check(s.step_msgs >= st.min_msgs, "%s: the client's "
                           "package took %d messages (at least %d)" % (
                               self.name(m), s.step_msgs, st.min_msgs))
        s.steps.pop(0)
        s.step_msgs = 0
        if st.reply.vanish:
            # no answer: the connection goes (Handler), and the session
            # after this one starts when the client comes back by itself
            self.tap.diag("%s: no answer (%s)" % (self.name(m), st.reply.vanish))
            if st.reply.vanish == "drop":
                self.next_session()     # closes this one first
            else:
                self.close_session()
            return st.reply.vanish
        if st.reply.code in (401, 407):
            # the same answer must come again (DM_Protocol 9.1)
            s.gets = snapshot
            s.rejected = [(c.msg_ref, c.cmd_ref, c.cmd, c.code)
                          for c in m.cmds
                          if c.name == "Status" and c.cmd_ref != "0"]
            s.rejected_results = [(c.msg_ref, c.cmd_ref) for c in m.cmds
                                  if c.name == "Results"]
        return self.reply(ct, m, st, st.reply)

    def check_message(self, st, m, body, headers):
        s, t, nm = self.s, self.tap, self.name(m)
        # DM_Protocol 8.3: MsgID identifies the message; consecutive
        t.check(m.msg_id == str(s.client_msg + 1), "%s: MsgID %d" % (
            nm, s.client_msg + 1), "got %s" % m.msg_id)
        if m.msg_id and m.msg_id.isdigit():
            s.client_msg = int(m.msg_id)
        if s.sid is None:
            s.sid = m.session_id
        # DM_Protocol 9.1: a repeated request keeps the SessionID
        t.check(m.session_id == s.sid, "%s: SessionID %s" % (nm, s.sid),
                "got %s" % m.session_id)
        alerts = [c for c in m.cmds if c.name == "Alert"]
        codes = [c.code for c in alerts]
        # DM_Protocol 8.2.1: 1200 server-initiated, 1201 client-initiated
        want_alert = 1200 if s.spec.trigger == "notify" else 1201
        if st.pkg1:
            # DM_Protocol 8.3 (Package#1): Alert, DevInfo, credentials
            t.check(want_alert in codes, "%s: Package#1 Alert %d" % (
                nm, want_alert), "alerts %r" % codes)
            rep = [c for c in m.cmds if c.name == "Replace"]
            uris = [i.target or i.source for c in rep for i in c.items]
            t.check(all(u in uris for u in DEVINFO), "%s: Package#1 "
                    "Replace with DevInfo %s" % (nm, " ".join(
                        u.rsplit("/", 1)[1] for u in DEVINFO)), "got %r" % uris)
            devid = [i.data for c in rep for i in c.items
                     if (i.target or i.source) == DEVINFO[0]]
            t.check(devid == [DEVID], "%s: DevId %s" % (nm, DEVID),
                    "got %r" % devid)
            t.check(bool(m.hdr_meta.get("MaxMsgSize")), "%s: MaxMsgSize "
                    "in the SyncHdr Meta (DM_Protocol 7)" % nm)
        else:
            t.check(not any(c in (1200, 1201) for c in codes) and
                    not any(i.target in DEVINFO or i.source in DEVINFO
                            for c in m.cmds if c.name == "Replace"
                            for i in c.items),
                    "%s: not Package#1 again (no Alert 1200/1201, no DevInfo)"
                    % nm, "alerts %r" % codes)
        self.check_hdr_status(st, m, nm)
        self.check_statuses(st, m, nm)
        self.check_results(st, m, nm)
        if st.final is not None:
            # DM_Protocol 6.2: no Final before the server closed its package
            t.check(m.final == st.final, "%s: %s (DM_Protocol 6.2)" % (
                nm, "Final" if st.final else "no Final"),
                "Final is %s" % ("present" if m.final else "absent"))
        if st.alert1222 is not None:
            t.check((1222 in codes) == st.alert1222, "%s: %s Alert 1222 "
                    "(DM_Protocol 6.2)" % (nm, "an" if st.alert1222 else "no"),
                    "alerts %r" % codes)
        if st.generic is not None:
            self.check_generic(st, m, nm)
        if st.abort:
            # DM_Security 5.4: a failed MAC terminates the session
            t.check(1223 in codes, "%s: Alert 1223 (session abort)" % nm,
                    "alerts %r" % codes)
        self.check_cred(st, m, body, headers, nm)
        extra = [c for c in m.cmds if c.name not in ("Status", "Results")
                 for i in c.items if i.moredata]
        t.check(not extra, "%s: no MoreData outside chunked Results "
                "(DM_Protocol 7)" % nm, "on %r" % extra)

    def check_generic(self, st, m, nm):
        """DM_Protocol 1.2 8.7, DM_RepPro 1.2 6.6.6: each Generic Alert
        1226 answers an asynchronous Exec with its Correlator; its items
        carry Source, Meta Type, Format and Mark, and Data."""
        t = self.tap
        got = [c for c in m.cmds if c.name == "Alert" and c.code == 1226]
        t.check(len(got) == len(st.generic), "%s: %d Generic Alert 1226" % (
            nm, len(st.generic)), "got %r" % got)
        for want, c in zip(st.generic, got):
            w = "%s: Generic Alert for %s" % (nm, want["correlator"])
            t.check(c.correlator == want["correlator"], w + ": Correlator",
                    "got %r" % c.correlator)
            t.check(len(c.items) == len(want["items"]), w + ": %d items" %
                    len(want["items"]), "got %r" % c.items)
            for i, (wi, it) in enumerate(zip(want["items"], c.items), 1):
                for what, have in (("Source", it.source),
                                   ("Type", it.meta.get("Type")),
                                   ("Format", it.meta.get("Format")),
                                   ("Mark", it.meta.get("Mark")),
                                   ("Data", it.data)):
                    t.check(have == wi[what], "%s: item %d %s %s" % (
                        w, i, what, wi[what]), "got %r" % have)

    def check_hdr_status(self, st, m, nm):
        s, t = self.s, self.tap
        hs = [c for c in m.cmds if c.name == "Status" and c.cmd_ref == "0"]
        if s.server_msg == 0:
            t.check(not hs, "%s: no Status for a SyncHdr yet" % nm)
            return
        # DM_Protocol 9.1: a repeated request MUST contain a Status for the
        # SyncHdr; every answer has one (DM_Protocol 6.1)
        if not t.check(len(hs) == 1, "%s: one Status for the server's "
                       "SyncHdr" % nm, "got %r" % hs):
            return
        h = hs[0]
        t.check(h.msg_ref == str(s.server_msg) and h.cmd == "SyncHdr",
                "%s: SyncHdr Status MsgRef %d CmdRef 0 Cmd SyncHdr" % (
                    nm, s.server_msg), "got %r" % h)
        want = st.hdr_code or (200, 212)
        t.check(h.code in want, "%s: SyncHdr Status code %s" % (
            nm, "/".join(map(str, want))), "got %s" % h.code)
        if h.chal:
            # DM_Security 5.4: an HMAC account challenges with auth-MAC
            typ = self.chal_type()
            t.check(h.chal.get("Type") == typ, "%s: Chal Type %s" % (nm, typ),
                    "got %s" % h.chal.get("Type"))
            nn = h.chal.get("NextNonce")
            if typ != dmauth.AUTH_BASIC:
                t.check(bool(nn), "%s: Chal NextNonce" % nm)
            if nn:
                # DM_Notification 5.1 step 4 / DM_Security 5.3: the nonce
                # for our next credentials
                self.server_nonce = base64.b64decode(nn)
        if st.chal is not None:
            t.check(bool(h.chal) == st.chal, "%s: %s Chal on the SyncHdr "
                    "Status" % (nm, "a" if st.chal else "no"),
                    "chal %r" % h.chal)

    def check_statuses(self, st, m, nm):
        s, t = self.s, self.tap
        sts = [c for c in m.cmds if c.name == "Status" and c.cmd_ref != "0"]
        for c in s.cmds:
            got = [x for x in sts if x.cmd_ref == c.cmd_id and
                   x.msg_ref == str(s.cmds_msg)]
            what = "%s: Status for %s %s (MsgRef %d CmdRef %s)" % (
                nm, c.name, c.uri or "", s.cmds_msg, c.cmd_id)
            if st.abort or st.unauth:
                # DM_Security 5.4: the commands of a message that failed
                # authentication are not executed
                t.check(not any(200 <= (x.code or 0) < 300 for x in got),
                        what + " is not a success: not executed", "got %r" % got)
                continue
            if c.item_codes:
                self.check_item_statuses(c, got, what)
                continue
            if not t.check(len(got) == 1, what, "got %r of %r" % (got, sts)):
                continue
            x = got[0]
            t.check(x.cmd == c.name, what + ": Cmd " + c.name, "got %s" % x.cmd)
            if c.uri:
                t.check(x.target_refs == [c.uri] or not x.target_refs,
                        what + ": TargetRef", "got %r" % x.target_refs)
            t.check(x.code == c.code, what + ": %d" % c.code,
                    "got %s" % x.code)
            if c.status_data is not None:
                data = [i.data for i in x.items]
                t.check(data == ([c.status_data] if c.status_data else []),
                        what + ": Data %r" % c.status_data, "got %r" % data)
        if st.resend and s.rejected is not None:
            # DM_Protocol 9.1: the rejected message again, nothing lost
            now = [(c.msg_ref, c.cmd_ref, c.cmd, c.code) for c in sts]
            t.check(sorted(now) == sorted(s.rejected), "%s: the same Statuses "
                    "as the rejected message %r" % (nm, s.rejected),
                    "got %r" % now)
            res = [(c.msg_ref, c.cmd_ref) for c in m.cmds if c.name == "Results"]
            t.check(sorted(res) == sorted(s.rejected_results), "%s: the same "
                    "Results as the rejected message" % nm, "got %r" % res)
        if not st.resend:
            s.cmds = []

    def check_item_statuses(self, c, got, what):
        """A command with several items: a Status per item, by TargetRef
        (DM_RepPro 6.6 / 10: a status for each item of the command)."""
        t = self.tap
        t.check(len(got) == len(c.item_codes), what + ": a Status per "
                "item (%d)" % len(c.item_codes), "got %r" % got)
        for uri, code in c.item_codes:
            mine = [x for x in got if x.target_refs == [uri]]
            if t.check(len(mine) == 1, what + ": one Status with TargetRef "
                       + uri, "got %r" % [x.target_refs for x in got]):
                t.check(mine[0].code == code and mine[0].cmd == c.name,
                        what + ": %s %d" % (uri, code), "got %s %s" % (
                            mine[0].cmd, mine[0].code))

    def check_results(self, st, m, nm):
        s, t = self.s, self.tap
        for r in [c for c in m.cmds if c.name == "Results"]:
            g = s.gets.get(r.cmd_ref)
            if not t.check(g is not None and r.msg_ref == str(g.msg),
                           "%s: Results CmdRef %s answers a Get" % (nm, r.cmd_ref),
                           "MsgRef %s; pending %r" % (r.msg_ref, list(s.gets))):
                continue
            for it in r.items:
                t.check(it.source == g.uri, "%s: Results Source %s" % (nm, g.uri),
                        "got %s" % it.source)
                first = g.got is None
                g.got = (g.got or "") + (it.data or "")
                if g.chunked:
                    # DM_Protocol 7: Meta Size in the first chunk only
                    size = it.meta.get("Size") or r.meta.get("Size")
                    if first:
                        t.check(size == str(len(g.value)), "%s: first chunk "
                                "of %s has Meta Size %d" % (nm, g.uri,
                                                            len(g.value)),
                                "got %s" % size)
                    else:
                        t.check(size is None, "%s: later chunk of %s has no "
                                "Meta Size" % (nm, g.uri), "got %s" % size)
                else:
                    # DM_Protocol 7: what fits MUST NOT carry MoreData
                    t.check(not it.moredata, "%s: Results %s whole, no "
                            "MoreData (DM_Protocol 7)" % (nm, g.uri))
                if not it.moredata:
                    if g.value is not None:
                        t.check(g.got == g.value, "%s: Results %s = %s" % (
                            nm, g.uri, short(g.value)), "got %s" % short(g.got))
                    del s.gets[r.cmd_ref]
                else:
                    g.chunks += 1
        if m.final and not (st.abort or st.unauth):
            t.check(not s.gets, "%s: every Get answered by the Final "
                    "message" % nm, "missing %r" % [g.uri for g in s.gets.values()])
            s.gets = {}

    def chal_type(self):
        return {"basic": dmauth.AUTH_BASIC, "digest": dmauth.AUTH_MD5,
                "hmac": dmauth.AUTH_MAC}[self.sc.auth]

    def check_cred(self, st, m, body, headers, nm):
        s, t = self.s, self.tap
        nonce = st.cred_nonce if st.cred_nonce is not None else self.client_nonce
        if self.sc.auth == "hmac":
            # DM_Security 5.4: the MAC in x-syncml-hmac on every message,
            # never a Cred
            t.check(m.cred is None, "%s: no Cred with HMAC (DM_Security 5.4)"
                    % nm, "got %r" % m.cred)
            h = dmauth.parse_hmac(headers.get("x-syncml-hmac"))
            if not t.check(h is not None, "%s: x-syncml-hmac present" % nm):
                return
            t.check(h.get("algorithm", "MD5").upper() == "MD5" and
                    h.get("username") == self.sc.client_name, "%s: x-syncml-hmac "
                    "algorithm MD5 username %s" % (nm, self.sc.client_name),
                    "got %r" % h)
            want = dmauth.hmac_mac(self.sc.client_name, self.sc.client_pw,
                                   nonce, body)
            t.check(h.get("mac") == want, "%s: x-syncml-hmac mac on nonce %s"
                    % (nm, b64(nonce)), "got %s want %s" % (h.get("mac"), want))
            return
        want_cred = st.cred if st.cred is not None else not s.client_212
        if not want_cred:
            # DM_Protocol 9.1: after 212 no further authentication
            t.check(m.cred is None, "%s: no Cred after 212 (DM_Protocol 9.1)"
                    % nm, "got %r" % m.cred)
            return
        if not t.check(m.cred is not None, "%s: Cred present (DM_Protocol 9.1)"
                       % nm):
            return
        if self.sc.auth == "basic":
            typ, want = dmauth.AUTH_BASIC, dmauth.auth_basic(
                self.sc.client_name, self.sc.client_pw)
            what = "auth-basic"
        else:
            typ = dmauth.AUTH_MD5
            want = dmauth.auth_md5(self.sc.client_name, self.sc.client_pw,
                                   nonce)
            what = "auth-md5 on nonce %s" % b64(nonce)
        t.check(m.cred.get("Type") == typ, "%s: Cred Type %s" % (nm, typ),
                "got %s" % m.cred.get("Type"))
        t.check(m.cred.get("Data") == want, "%s: Cred %s" % (nm, what),
                "got %s want %s" % (m.cred.get("Data"), want))

    # -- the server's answer ------------------------------------------------

    def new_nonce(self):
        self.nonce_seq += 1
        return ("peer-%s-%d" % (self.sc.name, self.nonce_seq)).encode()[-16:]

    def reply(self, ct, m, st, rp):
        s = self.s
        out = Msg()
        out.session_id = m.session_id
        s.server_msg += 1
        out.msg_id = str(s.server_msg)
        out.target = m.source
        out.source = self.sc.server_id
        if self.sc.server_max_msg:
            out.hdr_meta = {"MaxMsgSize": str(self.sc.server_max_msg)}
        cid = 0

        def next_id():
            nonlocal cid
            cid += 1
            return str(cid)

        code = rp.code
        if code is None:
            if self.sc.auth == "hmac":
                code = 200
            else:
                code = 212 if m.cred is not None else 200
        chal = None
        if rp.chal or (self.sc.auth == "hmac" and rp.code is None):
            # DM_Security 5.4.4: with HMAC a new nonce for every message
            chal = {"Type": self.chal_type(), "Format": "b64"}
            if self.sc.auth != "basic":
                n = self.new_nonce()
                chal["NextNonce"] = b64(n)
                self.client_nonce = n
                # ... and the answer to an abort is not read at all
                if rp.hmac not in ("bad", "missing") and \
                        rp.cred != "bad" and not st.abort:
                    self.stored_client_nonce = n
        if code == 212:
            s.client_212 = True
        elif code in (401, 407):
            s.client_212 = False
        out.cmds.append(Cmd("Status", next_id(), msg_ref=m.msg_id, cmd_ref="0",
                            cmd="SyncHdr", target_refs=[m.target or ""],
                            source_refs=[m.source or ""], code=code, chal=chal))
        # Status for the client's commands: Alert (DM_Protocol 6.1), Replace,
        # and 213 per Results chunk (DM_Protocol 7); none for Results
        for c in m.cmds:
            if c.name in ("Alert", "Replace", "Add"):
                out.cmds.append(Cmd("Status", next_id(), msg_ref=m.msg_id,
                                    cmd_ref=c.cmd_id, cmd=c.name, code=200))
            elif c.name == "Results" and any(i.moredata for i in c.items):
                out.cmds.append(Cmd("Status", next_id(), msg_ref=m.msg_id,
                                    cmd_ref=c.cmd_id, cmd="Results", code=213,
                                    source_refs=[i.source for i in c.items
                                                 if i.source]))
        sent = []
        for sc in rp.cmds:
            c, bound = sc.to_cmd(next_id)
            out.cmds.append(c)
            for b in bound:
                b.msg = s.server_msg
                sent.append(b)
        out.final = rp.final
        if code not in (401, 407):
            s.cmds = sent
            s.cmds_msg = s.server_msg
            s.rejected = None
        for g in sent:
            if g.name == "Get" and g.code == 200:
                s.gets[g.cmd_id] = g
        # our credentials in the first message of the session
        sid, spw = self.sc.server_id, self.sc.server_pw
        if self.sc.auth != "hmac" and rp.cred != "none" and (
                s.server_msg == 1 or rp.cred != "auto"):
            nonce = dmauth.ZERO_NONCE if rp.cred == "zero" else self.server_nonce
            if self.sc.auth == "basic":
                out.cred = {"Type": dmauth.AUTH_BASIC, "Format": "b64",
                            "Data": dmauth.auth_basic(sid, spw)}
            else:
                out.cred = {"Type": dmauth.AUTH_MD5, "Format": "b64",
                            "Data": dmauth.auth_md5(sid, spw, nonce)}
            if rp.cred == "bad":
                out.cred["Data"] = dmauth.auth_md5(sid, "nope", nonce)
        body = syncml.encode(ct, out)
        log("-> msg %s (%d bytes): %s" % (out.msg_id, len(body),
                                         describe(out)[0]))
        hdrs = {}
        if self.sc.auth == "hmac" and rp.hmac != "missing":
            nonce = dmauth.ZERO_NONCE if rp.hmac == "zero" else self.server_nonce
            pw = "not-the-password" if rp.hmac == "bad" else spw
            hdrs["x-syncml-hmac"] = dmauth.hmac_header(sid, pw, nonce, body)
        if not rp.cmds and rp.final:
            s.closed = not s.steps    # our Status-only Final ends it
        return ct, body, hdrs

    def reply_end(self, ct, m):
        out = Msg()
        out.session_id, out.msg_id = m.session_id, "99"
        out.target, out.source, out.final = m.source, self.sc.server_id, True
        out.cmds.append(Cmd("Status", "1", msg_ref=m.msg_id, cmd_ref="0",
                            cmd="SyncHdr", code=200))
        return ct, syncml.encode(ct, out), {}


def log(text):
    sys.stderr.write("dmserver: %s\n" % text)


def describe(m):
    """A message for the log: a line with its commands in order (repeats
    counted; an Exec with its Correlator and Data), then its Statuses
    (command, code, Data), and Cred; then a line per item of each Generic
    Alert 1226 (Source, Type, Format, Mark, Data)."""
    cmds, sts, more = [], [], []
    for c in m.cmds:
        if c.name == "Status":
            w = "%s %s" % (c.cmd, c.code)
            data = [i.data for i in c.items if i.data]
            if data:
                w += " %r" % data[0]
            sts.append(w)
            continue
        if c.name == "Alert":
            w = "Alert %s" % c.code
            if c.code == 1226:
                w += " (Generic Alert, Correlator %s, %d items)" % (
                    c.correlator, len(c.items))
                more += ["  item %d: Source %s, Type %s, Format %s, Mark %s, "
                         "Data %r" % (n, i.source, i.meta.get("Type"),
                                      i.meta.get("Format"), i.meta.get("Mark"),
                                      i.data)
                         for n, i in enumerate(c.items, 1)]
        else:
            uris = [i.target or i.source for i in c.items]
            w = " ".join([c.name] + [u for u in uris if u][:1])
            if len(uris) > 1:
                w += " (%d items)" % len(uris)
            if c.correlator:
                w += " (Correlator %s)" % c.correlator
            if c.name == "Exec" and c.items and c.items[0].data:
                w += " Data %r" % c.items[0].data
        if cmds and cmds[-1][0] == w:
            cmds[-1][1] += 1
        else:
            cmds.append([w, 1])
    words = [w if n == 1 else "%s x%d" % (w, n) for w, n in cmds]
    if sts:
        words.append("Status " + ", ".join(sts))
    if m.cred:
        words.append("Cred %s" % m.cred.get("Type"))
    return "; ".join(words) or "nothing", more


def b64(b):
    return base64.b64encode(b).decode()


def short(v):
    if v is None:
        return "-"
    return v if len(v) <= 24 else "%s...(%d bytes)" % (v[:12], len(v))


# ---------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    peer = None
    client_ca = None

    def log_message(self, fmt, *args):
        sys.stderr.write("dmserver: " + fmt % args + "\n")

    def do_GET(self):
        if self.path != "/ctl/next":
            self.send_error(404)
            return
        text = self.peer.next_session().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def vanish(self, how):
        """Gone without an answer: the connection is cut (no TLS
        close_notify, no HTTP status); "exit" takes the process with it."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if how == "exit":
            self.peer.tap.f.flush()
            os._exit(0)

    def check_tls(self):
        """Over HTTPS: TLS 1.2 or later, and the client's certificate when
        one is required."""
        if not isinstance(self.connection, ssl.SSLSocket):
            return
        t, nm = self.peer.tap, self.peer.name()
        t.check(self.connection.version() in ("TLSv1.2", "TLSv1.3"),
                "%s: TLS 1.2 or later" % nm, "got %s" % self.connection.version())
        if Handler.client_ca:
            pc = self.connection.getpeercert() or {}
            cn = dict(x[0] for x in pc.get("subject", ())).get("commonName")
            t.check(cn == "client", "%s: TLS: the client's certificate "
                    "(CN=client) verified" % nm, "got %r" % pc)

    def do_POST(self):
        self.check_tls()
        if isinstance(self.connection, ssl.SSLSocket):
            c = self.connection.cipher()
            self.peer.tls = "%s %s" % (self.connection.version(),
                                       c[0] if c else "")
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        try:
            r = self.peer.handle(self.headers.get("Content-Type"), body, hdrs)
        except Exception as e:  # a bug here must show, not hang the client
            import traceback
            traceback.print_exc()
            self.peer.tap.check(False, "dmserver handled the message", e)
            r = None
        if r is None:
            self.send_error(400)
            return
        if r in ("drop", "exit"):
            self.vanish(r)
            return
        ct, out, extra = r
        sys.stderr.write("dmserver: <- %d bytes, -> %d bytes\n" % (n, len(out)))
        self.send_response(200)
        self.send_header("Content-Type", ct)
        self.send_header("Content-Length", str(len(out)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)


def selftest():
    ok = True
    res = dmauth.selftest()
    # WBXML through libwbxml2-utils: what we encode decodes to the same
    m = Msg()
    m.session_id, m.msg_id, m.target, m.source = "1234", "1", DEVID, "DMSRV"
    m.cmds.append(Cmd("Replace", "2", items=[Item(target="./A", data=" a  b ",
                                                  meta={"Format": "chr"})]))
    m.final = True
    try:
        back = syncml.decode(syncml.CT_WBXML, syncml.encode(syncml.CT_WBXML, m))
        res.append((back.session_id == "1234" and back.final and
                    back.cmds[0].items[0].data == " a  b ",
                    "WBXML round trip through xml2wbxml/wbxml2xml keeps Data"))
    except Exception as e:
        res.append((False, "WBXML round trip: %s" % e))
    for i, (cond, desc) in enumerate(res, 1):
        print("%s %d - %s" % ("ok" if cond else "not ok", i, desc))
        ok = ok and cond
    print("1..%d" % len(res))
    return 0 if ok else 1


def parse_args(args):
    """--scenario NAME --dir DIR [--port N] [--tls CERT KEY] [--client-ca CA]
    -> dict, or None."""
    o = {"scenario": None, "dir": None, "port": 0, "tls": None,
         "client_ca": None}
    try:
        while args:
            a = args.pop(0)
            if a in ("--scenario", "--dir", "--client-ca"):
                o[a[2:].replace("-", "_")] = args.pop(0)
            elif a == "--port":
                o["port"] = int(args.pop(0))
            elif a == "--tls":
                o["tls"] = (args.pop(0), args.pop(0))
            else:
                return None
    except (IndexError, ValueError):
        return None
    if not o["scenario"] or not o["dir"] or (o["client_ca"] and not o["tls"]):
        return None
    return o


def main(argv):
    if argv[1:] == ["--selftest"]:
        return selftest()
    if argv[1:2] == ["--list"] and len(argv) <= 3:
        group = argv[2] if len(argv) == 3 else None
        for s in scenarios.ALL:
            if s.group == group and not s.remote:
                print(s.name)
        return 0
    opts = parse_args(argv[1:])
    if opts is None:
        sys.stderr.write(__doc__)
        return 2
    sc = scenarios.by_name(opts["scenario"])
    d = opts["dir"]
    Handler.peer = Peer(sc, Tap(os.path.join(d, "tap")), d)
    srv = http.server.HTTPServer(("127.0.0.1", opts["port"]), Handler)
    if opts["tls"]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(*opts["tls"])
        if opts["client_ca"]:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(opts["client_ca"])
            Handler.client_ca = opts["client_ca"]
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    with open(os.path.join(d, "conf.tmp"), "w") as f:
        f.write(sc.conf(port))
    os.rename(os.path.join(d, "conf.tmp"), os.path.join(d, "conf"))
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        srv.serve_forever()
    finally:
        p = Handler.peer
        if p.s and not p.s.closed:
            p.close_session()
        for spec in p.specs:
            p.tap.check(False, "%s: session %s ran" % (sc.name, spec.trigger),
                        "the test ended before it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
