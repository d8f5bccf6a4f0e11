#!/usr/bin/env python3
"""Stands in for systemd's notify socket (sd_notify(3)): notify-listen.py SOCKET OUT TIMEOUT_S.
Binds a datagram socket at SOCKET and appends each message to OUT (one line, fields separated by
" | ") until a STOPPING=1 arrives or nothing came for TIMEOUT_S seconds."""
import socket, sys, os, time
path = sys.argv[1]; out = sys.argv[2]
if os.path.exists(path): os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path); s.settimeout(float(sys.argv[3]))
with open(out, 'w') as f:
    try:
        while True:
            msg = s.recv(4096).decode()
            f.write(msg.replace('\n', ' | ') + '\n'); f.flush()
            if 'STOPPING=1' in msg: break
    except socket.timeout:
        pass
