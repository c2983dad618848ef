"""Shared plumbing of the Sensu fakes: a threaded HTTP server on 127.0.0.1 that writes its port
to a file, reads its data from a JSON file on every request (tests rewrite it between polls),
logs each request to a file, and can be told to fail with a status by a control file.

Only the server plumbing is here; each fake's response shapes are in its own file, with where
they come from.
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def arguments(description, extra):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port-file", required=True, help="write the listening port here")
    p.add_argument("--data", required=True, help="JSON file with the items to serve")
    p.add_argument("--log", required=True, help="append one line per request here")
    extra(p)
    return p.parse_args()


def load_items(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return []


def forced_status(data_path):
    """A file DATA.status holding a number makes every answer that status (a broken server)."""
    try:
        with open(data_path + ".status") as f:
            return int(f.read().strip())
    except FileNotFoundError:
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sclman-fake"
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # keep stderr quiet; requests go to --log
        pass

    def record(self, status):
        with self.lock:
            with open(self.server.args.log, "a") as f:
                f.write(f"{self.command} {self.path} {status}\n")

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(status)

    def split(self):
        parts = urlsplit(self.path)
        return parts.path, {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}


def serve(args, handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    server.args = args
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit("a library of the Sensu fakes")
