#!/usr/bin/env python3
"""A fault-injecting HTTP reverse proxy for the tests: sclman talks to it instead of a real
service (goiardi, Prometheus, the Sensu fakes), and it forwards each request to --upstream,
or, at --rate percent of requests, answers with a fault instead:

  500, 502, 503     the status, with a small JSON error body, upstream not asked
  429               429 with `Retry-After: N` (--retry-after, default 1), upstream not asked
  413               413 with `Retry-After: N` and Nova's overLimit body (Nova's rate limiting
                    before 429 existed), upstream not asked
  reset             the connection closed without an answer (RST), upstream not asked
  timeout           no answer for --hang seconds (longer than the client's timeout)
  slow              the upstream's answer, its body sent in small pieces --slow seconds apart
  truncated         the upstream's answer cut in the middle of its body (Content-Length kept)
  badjson           the upstream's status and headers with a body that is not JSON
  late_500          the request forwarded (so the upstream acts on it), then 502: the case a
                    blind retry of a create would duplicate
  late_reset        the request forwarded (the upstream acts), then the connection reset
  late_timeout      the request forwarded (the upstream acts), then no answer for --hang seconds
  late_forward      the request held for --hang seconds (longer than the client's timeout), then
                    forwarded (the upstream acts after the client gave up), the answer dropped

Faults are picked at random (seeded by --seed) among --faults. The rate and the fault list can
be changed while it runs by writing `RATE [FAULT,...]` to the --control file (read on every
request). --queue FILE holds faults for given requests, one `METHOD PATH_REGEX FAULT` a line:
the first line whose method and regex (searched in the path) match a request is taken out of the
file and its fault applied, before any random one (so a test can say "the next POST /servers is
reset after the upstream accepted it" and check the file is empty afterwards). --rewrite OLD=NEW
(repeatable) replaces OLD by NEW in forwarded answer bodies (e.g. Nova's URL in Keystone's
catalog by a second proxy's); --rewrite-file FILE holds more such rules, one `OLD<TAB>NEW` a
line, read on every request (so a test can make an upstream's answers hostile for a while). One line per request goes to --log: `METHOD PATH fault|-> STATUS`.
Stops on SIGTERM.
"""
import argparse
import http.client
import os
import random
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ALL_FAULTS = ["500", "502", "503", "429", "reset", "timeout", "slow", "truncated", "badjson",
              "late_500"]
# Not picked at random unless named in --faults or the control file.
MORE_FAULTS = ["413", "late_reset", "late_timeout", "late_forward"]
# Headers that belong to one hop only.
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "content-length"}


def arguments():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="http://host:port of the real service")
    p.add_argument("--port-file", required=True, help="write the listening port here")
    p.add_argument("--log", required=True, help="append one line per request here")
    p.add_argument("--rate", type=float, default=0.0, help="percent of requests that get a fault")
    p.add_argument("--faults", default=",".join(ALL_FAULTS), help="comma-separated fault kinds")
    p.add_argument("--control", help="file with 'RATE [FAULTS]' read on every request")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--hang", type=float, default=30.0, help="seconds a timeout fault hangs")
    p.add_argument("--slow", type=float, default=0.2, help="seconds between slow body pieces")
    p.add_argument("--retry-after", default="1", help="Retry-After of 429 and 413 faults")
    p.add_argument("--queue", help="file of 'METHOD PATH_REGEX FAULT' lines, each used once")
    p.add_argument("--rewrite", action="append", default=[],
                   help="OLD=NEW: replace OLD by NEW in forwarded answer bodies")
    p.add_argument("--rewrite-file",
                   help="file of 'OLD<TAB>NEW' rewrite lines, read on every request")
    return p.parse_args()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sclman-fault-proxy"
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def record(self, what):
        with self.lock:
            with open(self.server.args.log, "a") as f:
                f.write(f"{self.command} {self.path} {what}\n")

    def settings(self):
        args = self.server.args
        rate, faults = args.rate, args.faults.split(",")
        if args.control and os.path.exists(args.control):
            with open(args.control) as f:
                parts = f.read().split()
            if parts:
                rate = float(parts[0])
                if len(parts) > 1:
                    faults = parts[1].split(",")
        return rate, [x for x in faults if x]

    def queued(self):
        path = self.server.args.queue
        if not path:
            return None
        with self.lock:
            if not os.path.exists(path):
                return None
            with open(path) as f:
                lines = f.read().splitlines()
            for k, line in enumerate(lines):
                parts = line.split()
                if len(parts) == 3 and parts[0] == self.command and re.search(parts[1], self.path):
                    with open(path + ".tmp", "w") as f:
                        f.write("".join(x + "\n" for x in lines[:k] + lines[k + 1:]))
                    os.rename(path + ".tmp", path)
                    return parts[2]
        return None

    def pick(self):
        fault = self.queued()
        if fault:
            return fault
        rate, faults = self.settings()
        with self.lock:
            if faults and self.server.rng.random() * 100.0 < rate:
                return self.server.rng.choice(faults)
        return None

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def forward(self, body):
        up = urlsplit(self.server.args.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Host"] = up.netloc
        conn.request(self.command, self.path, body=body or None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        rules = [rule.split("=", 1) for rule in self.server.args.rewrite]
        path = self.server.args.rewrite_file
        if path and os.path.exists(path):
            with open(path) as f:
                rules += [line.rstrip("\n").split("\t", 1) for line in f if "\t" in line]
        for old, new in rules:
            data = data.replace(old.encode(), new.encode())
        return r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP], data

    def answer(self, status, headers, data, close=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def reset(self):
        # SO_LINGER 0: close sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def handle_any(self):
        body = self.body()
        fault = self.pick()
        if fault in ("500", "502", "503"):
            self.record(f"fault {fault}")
            return self.answer(int(fault), [("Content-Type", "application/json")],
                               b'{"error":["injected fault"]}')
        retry_after = self.server.args.retry_after
        if fault == "429":
            self.record("fault 429")
            return self.answer(429, [("Retry-After", retry_after),
                                     ("Content-Type", "application/json")],
                               b'{"error":["slow down"]}')
        if fault == "413":
            self.record("fault 413")
            body = ('{"overLimit": {"code": 413, "message": "This request was rate-limited.", '
                    '"retryAfter": "%s"}}' % retry_after).encode()
            return self.answer(413, [("Retry-After", retry_after),
                                     ("Content-Type", "application/json")], body)
        if fault == "reset":
            self.record("fault reset")
            return self.reset()
        if fault == "timeout":
            self.record("fault timeout")
            time.sleep(self.server.args.hang)
            return self.reset()
        if fault == "late_forward":
            time.sleep(self.server.args.hang)
        try:
            status, headers, data = self.forward(body)
        except OSError as e:
            self.record(f"upstream-error {e.__class__.__name__}")
            return self.answer(502, [], b"upstream unreachable")
        if fault == "late_500":
            self.record(f"fault late_500 (upstream {status})")
            return self.answer(502, [("Content-Type", "text/html")], b"<html>bad gateway</html>")
        if fault == "late_reset":
            self.record(f"fault late_reset (upstream {status})")
            return self.reset()
        if fault == "late_forward":
            self.record(f"fault late_forward (upstream {status})")
            return self.reset()
        if fault == "late_timeout":
            self.record(f"fault late_timeout (upstream {status})")
            time.sleep(self.server.args.hang)
            return self.reset()
        if fault == "truncated" and len(data) > 1:
            self.record(f"fault truncated (upstream {status})")
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            return self.reset()
        if fault == "badjson":
            self.record(f"fault badjson (upstream {status})")
            return self.answer(status, headers, b'{"rows": [ {"name": "x"' if data else b"")
        if fault == "slow":
            self.record(f"fault slow (upstream {status})")
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            step = max(1, len(data) // 4)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(self.server.args.slow)
            return None
        self.record(f"-> {status}")
        return self.answer(status, headers, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    args = arguments()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    server.args = args
    server.rng = random.Random(args.seed)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
