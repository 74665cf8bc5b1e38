# SPDX-License-Identifier: MIT
"""SyncML DM 1.2 messages for the independent test server: XML <-> a small
model, with xml.etree; WBXML through Debian's libwbxml2-utils (wbxml2xml /
xml2wbxml).  Shares nothing with the daemon's src/dm on purpose: a fault
made the same way on both sides would otherwise go unseen."""

import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

CT_XML = "application/vnd.syncml.dm+xml"
CT_WBXML = "application/vnd.syncml.dm+wbxml"
NS_SYNCML = "SYNCML:SYNCML1.2"
NS_METINF = "syncml:metinf"
DOCTYPE = ('<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" '
           '"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">')


class Item:
    def __init__(self, target=None, source=None, data=None, meta=None,
                 moredata=False):
        self.target = target
        self.source = source
        self.data = data            # text, or None
        self.meta = meta or {}      # Type, Format, Size
        self.moredata = moredata

    def __repr__(self):
        return "Item(%r, %r, %d bytes%s)" % (
            self.target, self.source, len(self.data or ""),
            ", MoreData" if self.moredata else "")


class Cmd:
    """One SyncBody command.  For Status: code, msg_ref, cmd_ref, cmd,
    target_refs, source_refs, chal.  For Alert: code (its Data)."""

    def __init__(self, name, cmd_id=None, **kw):
        self.name = name
        self.cmd_id = cmd_id
        self.msg_ref = kw.get("msg_ref")
        self.cmd_ref = kw.get("cmd_ref")
        self.cmd = kw.get("cmd")
        self.target_refs = kw.get("target_refs", [])
        self.source_refs = kw.get("source_refs", [])
        self.code = kw.get("code")          # Status / Alert Data
        self.chal = kw.get("chal")          # {"Type", "Format", "NextNonce"}
        self.correlator = kw.get("correlator")  # Exec, Alert
        self.meta = kw.get("meta", {})
        self.items = kw.get("items", [])
        self.children = kw.get("children", [])

    def __repr__(self):
        if self.name == "Status":
            return "Status(%s/%s %s %s)" % (self.msg_ref, self.cmd_ref,
                                             self.cmd, self.code)
        return "%s(%s, %s)" % (self.name, self.cmd_id, self.items or self.code)


class Msg:
    def __init__(self):
        self.session_id = None
        self.msg_id = None
        self.target = None
        self.source = None
        self.source_name = None
        self.resp_uri = None
        self.cred = None            # {"Type", "Format", "Data"}
        self.hdr_meta = {}          # MaxMsgSize, MaxObjSize
        self.cmds = []
        self.final = False


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _child(e, name):
    for c in e:
        if _local(c.tag) == name:
            return c
    return None


def _text(e, name):
    c = _child(e, name)
    if c is None:
        return None
    return c.text or ""


def _path_text(e, *names):
    for n in names:
        if e is None:
            return None
        e = _child(e, n)
    return None if e is None else (e.text or "")


def _meta(e):
    m = {}
    me = _child(e, "Meta")
    if me is not None:
        for c in me:
            if _local(c.tag) == "Anchor":
                continue
            m[_local(c.tag)] = (c.text or "").strip()
    return m


def _item(e):
    return Item(target=_path_text(e, "Target", "LocURI"),
                source=_path_text(e, "Source", "LocURI"),
                data=_text(e, "Data"), meta=_meta(e),
                moredata=_child(e, "MoreData") is not None)


def _cmd(e):
    name = _local(e.tag)
    c = Cmd(name, _text(e, "CmdID"))
    c.meta = _meta(e)
    if name == "Status":
        c.msg_ref = _text(e, "MsgRef")
        c.cmd_ref = _text(e, "CmdRef")
        c.cmd = _text(e, "Cmd")
        c.target_refs = [x.text or "" for x in e if _local(x.tag) == "TargetRef"]
        c.source_refs = [x.text or "" for x in e if _local(x.tag) == "SourceRef"]
        d = _text(e, "Data")
        c.code = int(d) if d and d.strip().isdigit() else d
        ch = _child(e, "Chal")
        if ch is not None:
            c.chal = _meta(ch)
    elif name == "Alert":
        d = _text(e, "Data")
        c.code = int(d) if d and d.strip().isdigit() else d
    elif name == "Results":
        c.msg_ref = _text(e, "MsgRef")
        c.cmd_ref = _text(e, "CmdRef")
    c.correlator = _text(e, "Correlator")
    if name in ("Atomic", "Sequence"):
        c.children = [_cmd(x) for x in e
                      if _local(x.tag) not in ("CmdID", "Meta", "NoResp")]
    c.items = [_item(x) for x in e if _local(x.tag) == "Item"]
    return c


def parse_xml(text):
    """A client message (bytes or str of XML) -> Msg; raises on malformed."""
    root = ET.fromstring(text)
    if _local(root.tag) != "SyncML":
        raise ValueError("root is %s, not SyncML" % _local(root.tag))
    hdr, body = _child(root, "SyncHdr"), _child(root, "SyncBody")
    if hdr is None or body is None:
        raise ValueError("no SyncHdr or SyncBody")
    m = Msg()
    m.session_id = _text(hdr, "SessionID")
    m.msg_id = _text(hdr, "MsgID")
    m.target = _path_text(hdr, "Target", "LocURI")
    m.source = _path_text(hdr, "Source", "LocURI")
    m.source_name = _path_text(hdr, "Source", "LocName")
    m.resp_uri = _text(hdr, "RespURI")
    cr = _child(hdr, "Cred")
    if cr is not None:
        m.cred = _meta(cr)
        m.cred["Data"] = (_text(cr, "Data") or "").strip()
    m.hdr_meta = _meta(hdr)
    for e in body:
        if _local(e.tag) == "Final":
            m.final = True
        else:
            m.cmds.append(_cmd(e))
    return m


# ---------------------------------------------------------------------------
# Building the server's messages

def _sub(parent, tag, text=None):
    e = ET.SubElement(parent, tag)
    if text is not None:
        e.text = str(text)
    return e


def _meta_el(parent, meta, tag="Meta"):
    if not meta:
        return
    me = _sub(parent, tag)
    for k in ("Format", "Type", "Size", "NextNonce", "MaxMsgSize", "MaxObjSize"):
        if k in meta and meta[k] is not None:
            _sub(me, k, meta[k]).set("xmlns", NS_METINF)


def _item_el(parent, it):
    e = _sub(parent, "Item")
    if it.target:
        _sub(_sub(e, "Target"), "LocURI", it.target)
    if it.source:
        _sub(_sub(e, "Source"), "LocURI", it.source)
    _meta_el(e, it.meta)
    if it.data is not None:
        _sub(e, "Data", it.data)
    if it.moredata:
        _sub(e, "MoreData")


def _cmd_el(parent, c):
    e = _sub(parent, c.name)
    _sub(e, "CmdID", c.cmd_id)
    if c.name == "Status":
        _sub(e, "MsgRef", c.msg_ref)
        _sub(e, "CmdRef", c.cmd_ref)
        _sub(e, "Cmd", c.cmd)
        for t in c.target_refs:
            _sub(e, "TargetRef", t)
        for s in c.source_refs:
            _sub(e, "SourceRef", s)
        if c.chal:
            _meta_el(_sub(e, "Chal"), c.chal)
        _sub(e, "Data", c.code)
        return e
    if c.name == "Alert":
        _sub(e, "Data", c.code)
        if c.correlator is not None:
            _sub(e, "Correlator", c.correlator)
    if c.name == "Results":
        _sub(e, "MsgRef", c.msg_ref)
        _sub(e, "CmdRef", c.cmd_ref)
    _meta_el(e, c.meta)
    # RepPro 1.2 DTD: Exec (CmdID, NoResp?, Cred?, Meta?, Correlator?, Item)
    if c.name == "Exec" and c.correlator is not None:
        _sub(e, "Correlator", c.correlator)
    for ch in c.children:
        _cmd_el(e, ch)
    for it in c.items:
        _item_el(e, it)
    return e


def build_xml(m):
    """Msg -> XML bytes (compact: no whitespace that wbxml could keep)."""
    root = ET.Element("SyncML")
    root.set("xmlns", NS_SYNCML)
    h = _sub(root, "SyncHdr")
    _sub(h, "VerDTD", "1.2")
    _sub(h, "VerProto", "DM/1.2")
    _sub(h, "SessionID", m.session_id)
    _sub(h, "MsgID", m.msg_id)
    _sub(_sub(h, "Target"), "LocURI", m.target)
    src = _sub(h, "Source")
    _sub(src, "LocURI", m.source)
    if m.cred:
        cr = _sub(h, "Cred")
        _meta_el(cr, {"Type": m.cred["Type"], "Format": m.cred.get("Format")})
        _sub(cr, "Data", m.cred["Data"])
    _meta_el(h, m.hdr_meta)
    b = _sub(root, "SyncBody")
    for c in m.cmds:
        _cmd_el(b, c)
    if m.final:
        _sub(b, "Final")
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + DOCTYPE.encode() +
            ET.tostring(root, encoding="utf-8", xml_declaration=False))


# ---------------------------------------------------------------------------
# WBXML through libwbxml2-utils (Debian).  -k keeps whitespace inside Data
# (a value is bytes, not markup); -n: no string table, as DM clients send.

def _run(tool_args, data):
    with tempfile.TemporaryDirectory(prefix="dmpeer-") as d:
        i, o = os.path.join(d, "in"), os.path.join(d, "out")
        with open(i, "wb") as f:
            f.write(data)
        r = subprocess.run(tool_args + ["-o", o, i], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0 or not os.path.exists(o):
            raise ValueError("%s failed: %s" % (tool_args[0],
                                                 r.stdout.decode(errors="replace")))
        with open(o, "rb") as f:
            return f.read()


def wbxml_to_xml(data):
    return _run(["wbxml2xml", "-l", "SYNCML12", "-m", "0", "-k"], data)


def xml_to_wbxml(data):
    return _run(["xml2wbxml", "-k", "-n", "-v", "1.2"], data)


def decode(ctype, body):
    """(content type, body) -> Msg."""
    ct = (ctype or "").split(";")[0].strip().lower()
    if ct == CT_WBXML:
        return parse_xml(wbxml_to_xml(body))
    if ct == CT_XML:
        return parse_xml(body)
    raise ValueError("unexpected content type %r" % ctype)


def encode(ctype, m):
    x = build_xml(m)
    return xml_to_wbxml(x) if ctype == CT_WBXML else x
