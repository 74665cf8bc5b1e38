# SPDX-License-Identifier: MIT
"""OMA DM 1.2 credentials and the DM Notification digest, from the OMA
texts (OMA-TS-DM_Security-V1_2 5.3, 5.4; OMA-TS-DM_Notification-V1_2 6),
independently of the daemon."""

import base64
import hashlib
import re

AUTH_BASIC = "syncml:auth-basic"
AUTH_MD5 = "syncml:auth-md5"
AUTH_MAC = "syncml:auth-MAC"
ZERO_NONCE = b"\0\0\0\0"          # DM_Notification 5.1 resynchronisation


def H(b):
    return hashlib.md5(b).digest()


def B64(b):
    return base64.b64encode(b)


def _b(s):
    return s.encode() if isinstance(s, str) else s


def auth_basic(user, pw):
    """DM_Security 5.3: B64(user ":" password)."""
    return B64(_b(user) + b":" + _b(pw)).decode()


def auth_md5(user, pw, nonce):
    """DM_Security 5.3: B64(H(B64(H(user ":" password)) ":" nonce))."""
    return B64(H(B64(H(_b(user) + b":" + _b(pw))) + b":" + nonce)).decode()


def hmac_mac(user, pw, nonce, body):
    """DM_Security 5.4.2: B64(H(B64(H(user:pw)) ":" nonce ":" B64(H(body))))."""
    return B64(H(B64(H(_b(user) + b":" + _b(pw))) + b":" + nonce + b":" +
                 B64(H(body)))).decode()


def hmac_header(user, pw, nonce, body):
    return 'algorithm=MD5, username="%s", mac=%s' % (
        user, hmac_mac(user, pw, nonce, body))


def parse_hmac(value):
    """x-syncml-hmac -> dict (algorithm, username, mac); None if malformed."""
    if value is None:
        return None
    d = {}
    for part in value.split(","):
        m = re.match(r'\s*([A-Za-z-]+)\s*=\s*"?([^"]*)"?\s*$', part)
        if not m:
            return None
        d[m.group(1).lower()] = m.group(2)
    return d


def package0(server_id, pw, nonce, session_id, ui_mode=0, version=12,
             server_initiated=True):
    """DM_Notification 6.2: digest(16) | version(10) ui-mode(2)
    initiator(1) future(27) sessionid(16) server-id-length(8) server-id;
    digest = H(B64(H(server-id:password)) ":" nonce ":" B64(H(trigger)))."""
    bits = (version << 30) | (ui_mode << 28) | ((1 if server_initiated else 0) << 27)
    sid = _b(server_id)
    trigger = (bits.to_bytes(5, "big") + session_id.to_bytes(2, "big") +
               bytes([len(sid)]) + sid)
    digest = H(B64(H(sid + b":" + _b(pw))) + b":" + nonce + b":" + B64(H(trigger)))
    return digest + trigger


def selftest():
    """The vectors of PROTOCOL.md (DM_Notification, DM_Security)."""
    p0 = package0("DMServer", "srvpwd", b"12345678", 0x1234, ui_mode=1,
                  version=11)
    want = bytes.fromhex("b9cefbc5ea0d0c388454cc73d74dcf13"
                         "02d8000000123408444d536572766572")
    out = []
    out.append((p0 == want, "Package#0 vector (DM_Notification 6.2): " + p0.hex()))
    c = auth_md5("dmclient", "clipwd", b"abcdefgh")
    out.append((c == "by6YtgE+R+dtKE5blWPSBA==",
                "auth-md5 vector (DM_Security 5.3): " + c))
    b = auth_basic("dmclient", "clipwd")
    out.append((base64.b64decode(b) == b"dmclient:clipwd", "auth-basic: " + b))
    h = parse_hmac(hmac_header("u", "p", b"n", b"body"))
    out.append((h is not None and h["username"] == "u" and
                h["mac"] == hmac_mac("u", "p", b"n", b"body"),
                "x-syncml-hmac round trip (DM_Security 5.4)"))
    return out
