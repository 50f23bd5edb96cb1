#!/usr/bin/python3
"""An independent client of the runner protocol (docs/worker-protocol.md, "Runner calls"), written
from the document with Python's standard library only, so nothing is shared with the .NET code.

Usage (prints one JSON document on stdout):
  runner_client.py HOST:PORT|unix:/path METHOD PAYLOAD [SECRET]
      -> {"status": 0, "output": "..."}                      the call's reply (status 0 = Ok)
      -> {"status": N, "message": "...", "retryAfterMs": n}  another per-call status
      -> {"refused": "why"}                                   the runner's Error frame before closing
"""
import json
import socket
import struct
import sys

HELLO, WELCOME, CALL, REPLY, ERROR = 1, 2, 3, 5, 15


def frame(kind, ident, payload):
    return struct.pack("<IBI", len(payload), kind, ident) + payload


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the runner closed the connection")
        data += chunk
    return data


def read_frame(sock):
    length, kind, ident = struct.unpack("<IBI", read_exactly(sock, 9))
    return kind, ident, read_exactly(sock, length)


def connect(target):
    if target.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(target[5:])
    else:
        host, port = target.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
    sock.settimeout(10)
    return sock


def call(target, method, payload, secret=None):
    sock = connect(target)
    try:
        sock.sendall(frame(HELLO, 0, struct.pack("<H", 1) + (secret or "").encode()))
        m, r = method.encode(), b"pester"
        body = struct.pack("<hIBB", -1, 5000, 0, len(m)) + m + bytes([len(r)]) + r + payload.encode()
        sock.sendall(frame(CALL, 1, body))
        while True:
            kind, ident, data = read_frame(sock)
            if kind == ERROR:
                return {"refused": data.decode("utf-8", "replace")}
            if kind == REPLY and ident == 1:
                if data[0] == 0:
                    return {"status": 0, "output": data[1:].decode("utf-8", "replace")}
                retry, = struct.unpack("<I", data[1:5])
                return {"status": data[0], "message": data[5:].decode("utf-8", "replace"), "retryAfterMs": retry}
    except EOFError as e:
        return {"refused": str(e)}
    finally:
        sock.close()


if __name__ == "__main__":
    print(json.dumps(call(*sys.argv[1:])))
