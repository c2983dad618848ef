#!/usr/bin/env python3
"""syslog_listener.py SOCKET [TIMEOUT]: bind a Unix datagram socket at SOCKET (mode 0666, so
that a process of another user may log to it), print each datagram it receives on a line of
its own, and end after TIMEOUT seconds (default 3) with nothing received. Tests bind-mount it
at /dev/log in a private mount namespace, so the machine's own logging is not touched."""
import os
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.settimeout(float(sys.argv[2]) if len(sys.argv) > 2 else 3.0)
try:
    while True:
        print(s.recv(65536).decode(errors="replace"), flush=True)
except OSError:
    pass
