#!/usr/bin/env python3
"""A small, independent Chef server API client for the integration tests: signs with protocol
1.3 (or 1.0 with --sign 1.0) using python3-cryptography, so it also cross-checks sclman's own
signing. Prints the status on stderr and the JSON body on stdout; exit 0 for 2xx, 1 otherwise.

  goiardi_api.py --url URL --user admin --key admin.pem [--time ISO] METHOD PATH [BODY]
"""
import argparse
import base64
import datetime
import hashlib
import sys
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils


def b64(data):
    return base64.b64encode(data).decode()


def sign(key, method, path, body, user, ts, version):
    path = path.split("?")[0]
    if len(path) > 1:
        path = path.rstrip("/")
    if version == "1.3":
        canonical = "\n".join([
            "Method:" + method.upper(),
            "Path:" + path,
            "X-Ops-Content-Hash:" + b64(hashlib.sha256(body).digest()),
            "X-Ops-Sign:version=1.3",
            "X-Ops-Timestamp:" + ts,
            "X-Ops-UserId:" + user,
            "X-Ops-Server-API-Version:1",
        ])
        sig = key.sign(canonical.encode(), padding.PKCS1v15(), hashes.SHA256())
        headers = {"X-Ops-Sign": "algorithm=sha256;version=1.3",
                   "X-Ops-Content-Hash": b64(hashlib.sha256(body).digest())}
    else:
        canonical = "\n".join([
            "Method:" + method.upper(),
            "Hashed Path:" + b64(hashlib.sha1(path.encode()).digest()),
            "X-Ops-Content-Hash:" + b64(hashlib.sha1(body).digest()),
            "X-Ops-Timestamp:" + ts,
            "X-Ops-UserId:" + user,
        ])
        # Raw RSA private-key operation with PKCS#1 v1.5 type 1 padding and no DigestInfo.
        nums = key.private_numbers()
        n = nums.public_numbers.n
        k = (n.bit_length() + 7) // 8
        data = canonical.encode()
        em = b"\x00\x01" + b"\xff" * (k - len(data) - 3) + b"\x00" + data
        sig = pow(int.from_bytes(em, "big"), nums.d, n).to_bytes(k, "big")
        headers = {"X-Ops-Sign": "algorithm=sha1;version=1.0",
                   "X-Ops-Content-Hash": b64(hashlib.sha1(body).digest())}
    s = b64(sig)
    for i in range(0, len(s), 60):
        headers["X-Ops-Authorization-%d" % (i // 60 + 1)] = s[i:i + 60]
    headers.update({"X-Ops-Timestamp": ts, "X-Ops-UserId": user,
                    "X-Ops-Server-API-Version": "1", "X-Chef-Version": "12.0.0",
                    "Accept": "application/json", "Content-Type": "application/json"})
    return headers, canonical


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--sign", default="1.3")
    p.add_argument("--time", help="X-Ops-Timestamp to send (default: now)")
    p.add_argument("--canonical", action="store_true", help="print the canonical string only")
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("body", nargs="?", default="")
    a = p.parse_args()
    with open(a.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    ts = a.time or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = a.body.encode()
    base_path = urllib.request.urlparse(a.url).path.rstrip("/")
    headers, canonical = sign(key, a.method, base_path + a.path, body, a.user, ts, a.sign)
    if a.canonical:
        print(canonical)
        for k, v in headers.items():
            if k.startswith("X-Ops-Authorization"):
                print("%s: %s" % (k, v))
        return 0
    req = urllib.request.Request(a.url.rstrip("/") + a.path, data=body if body else None,
                                 method=a.method.upper(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    print(status, file=sys.stderr)
    print(text)
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
