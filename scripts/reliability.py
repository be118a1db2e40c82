#!/usr/bin/env python3
"""Hostile inputs for wscope: run the binary against raw-TCP servers that misbehave on purpose, and
against a well-behaved recording echo server for user-side mistakes, and print what wscope did.

Usage: scripts/reliability.py [WSCOPE]   (default target/release/wscope)
Prints a markdown table (the source of docs/RELIABILITY.md): the input, the close code wscope sent
(as the server received it), what else the server received, wscope's exit code and its first
error line. Loopback only, one short-lived server per row. Exits 1 if wscope panicked anywhere.
"""
import base64
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(b0, payload=b"", length=None):
    n = len(payload) if length is None else length
    if n < 126:
        head = bytes([b0, n])
    elif n < 1 << 16:
        head = bytes([b0, 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, 127]) + struct.pack(">Q", n)
    return head + payload


def masked(b0, payload, key=b"\x01\x02\x03\x04"):
    body = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return bytes([b0, 0x80 | len(payload)]) + key + body


def close(code, reason=b""):
    return frame(0x88, struct.pack(">H", code) + reason)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def accept_for(head):
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            return base64.b64encode(hashlib.sha1(value.strip().encode() + GUID).digest()).decode()
    return ""


def switching(accept):
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode()


class Frames:
    """Incremental parser of the client's (masked) frames."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, pos = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    break
                n, pos = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    break
                n, pos = struct.unpack(">Q", self.buf[2:10])[0], 10
            key = b""
            if b1 & 0x80:
                key, pos = self.buf[pos:pos + 4], pos + 4
            if len(self.buf) < pos + n:
                break
            payload = self.buf[pos:pos + n]
            if key:
                payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
            out.append((b0 & 0x0F, payload))
            self.buf = self.buf[pos + n:]
        return out


def describe(opcode, payload):
    if opcode == 0x8:
        if len(payload) >= 2:
            code = struct.unpack(">H", payload[:2])[0]
            reason = payload[2:].decode("utf-8", "replace")
            return "close %d%s" % (code, ' "%s"' % reason if reason else "")
        return "close (no code)"
    name = {0x1: "text", 0x2: "binary", 0x9: "ping", 0xA: "pong", 0x0: "cont"}.get(opcode, "op%x" % opcode)
    shown = payload[:20].decode("utf-8", "replace") if opcode != 0x2 else payload[:20].hex()
    return "%s %s" % (name, shown) if payload else name


class Server(threading.Thread):
    """One connection: `respond(head)` gives the bytes to send after the request head (None: send
    nothing, keep the socket open), then `after` (bytes) or 'drop'. With echo=True, data frames
    are echoed and a close is answered."""

    def __init__(self, respond, after=b"", echo=False, hold=20):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.respond, self.after, self.echo, self.hold = respond, after, echo, hold
        self.got = []
        self.start()

    @staticmethod
    def send_quietly(conn, data):
        try:
            conn.sendall(data)
        except OSError:
            pass

    def run(self):
        self.sock.settimeout(30)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(self.hold)
        try:
            head, rest = read_head(conn)
            if head is None:
                return
            reply = self.respond(head)
            if reply is None:
                time.sleep(self.hold)
                return
            conn.sendall(reply)
            if self.after == "drop":
                conn.shutdown(socket.SHUT_RDWR)
                return
            # Send from another thread: wscope may close before a big frame is all sent.
            threading.Thread(target=self.send_quietly, args=(conn, self.after), daemon=True).start()
            parser = Frames()
            pending = parser.feed(rest)
            while True:
                for opcode, payload in pending:
                    self.got.append(describe(opcode, payload))
                    if self.echo and opcode in (0x1, 0x2):
                        conn.sendall(frame(0x80 | opcode, payload))
                    if opcode == 0x8:
                        if self.echo:
                            conn.sendall(frame(0x88, payload[:2]))
                        return
                data = conn.recv(65536)
                if not data:
                    self.got.append("TCP closed")
                    return
                pending = parser.feed(data)
        except socket.timeout:
            self.got.append("(silence)")
        except OSError as e:
            self.got.append("TCP %s" % e.__class__.__name__)
        finally:
            conn.close()
            self.sock.close()


def ok(head):
    return switching(accept_for(head))


def ok_deflate(head):
    """A 101 that accepts permessage-deflate."""
    return ok(head)[:-2] + b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"


# What Werkzeug under flask-sock writes after its close frame: an HTTP response.
HTTP_AFTER = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n"
# RFC 7692 7.2.3.1: "Hello" compressed.
HELLO_Z = bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])


SERVER_ROWS = [
    # (input, respond, after, extra wscope args)
    ("wrong `Sec-WebSocket-Accept`", lambda h: switching("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), b"", []),
    ("403 Forbidden with a body", lambda h: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 8\r\n\r\ngo away\n", b"", []),
    ("not HTTP at all (`SSH-2.0-...`)", lambda h: b"SSH-2.0-OpenSSH_9.6\r\n\r\n", b"", []),
    ("request read, upgrade never answered (`--connect-timeout 2`)", lambda h: None, b"", ["--connect-timeout", "2"]),
    ("masked frame from the server", ok, masked(0x81, b"hi"), []),
    ("invalid UTF-8 in a text frame", ok, frame(0x81, b"a\xff\xfeb"), []),
    ("invalid UTF-8 in the 2nd fragment, message never finished", ok,
     frame(0x01, "κόσμε".encode()) + frame(0x00, b"\xf4\x90\x80\x80"), []),
    ("invalid UTF-8 in a close reason", ok, frame(0x88, b"\x03\xe8\xff\xfe"), []),
    ("RSV1 set (no extension negotiated)", ok, frame(0xC1, b"hi"), []),
    ("reserved opcode 0x3", ok, frame(0x83, b"hi"), []),
    ("length 2^63 (header only)", ok, frame(0x82, length=1 << 63), []),
    ("frame over `--max-message-size 1M` (2 MiB binary)", ok, frame(0x82, b"\0" * (2 << 20)), ["--max-message-size", "1M"]),
    ("126-byte ping", ok, frame(0x89, b"p" * 126), []),
    ("close code 1005 on the wire", ok, close(1005), []),
    ("close code 5000", ok, close(5000), []),
    ("close with a 1-byte payload", ok, frame(0x88, b"\x03"), []),
    ("fragmented ping (FIN=0)", ok, frame(0x09, b"p") + frame(0x80, b""), []),
    ("continuation frame with nothing to continue", ok, frame(0x80, b"x"), []),
    ("new text frame inside a fragmented message", ok, frame(0x01, b"a") + frame(0x81, b"b"), []),
    ("TCP dropped after the handshake, no close", ok, "drop", []),
    ("silence, pings never answered (`--ping-timeout 2 -w inf`)", ok, b"", ["--ping-timeout", "2"]),
    ("silence; our close (after the default `-w 2`) answered by a TCP drop", ok, b"", ["-w", "2"]),
    ("server closes 1000", ok, close(1000, b"bye"), []),
    ("server closes 4001", ok, close(4001, b"bye"), []),
    ("a text frame after the server's close 1000", ok, close(1000) + frame(0x81, b"late"), []),
    ("two messages, close 1000, then an HTTP response", ok,
     frame(0x81, b"one") + frame(0x81, b"two") + close(1000) + HTTP_AFTER, []),
    ("the same with permessage-deflate (compressed messages)", ok_deflate,
     frame(0xC1, HELLO_Z) + frame(0x81, b"two") + close(1000) + HTTP_AFTER, []),
]

USER_ROWS = [
    # (input, wscope args before/after the URL; None = no server needed)
    ("unsupported scheme `ftp://x`", ["ftp://127.0.0.1/"], False),
    ("URL without a host `ws://`", ["ws://"], False),
    ("header without a colon `-H NoColon`", ["{url}", "-H", "NoColon"], False),
    ("unknown option `--frobnicate`", ["{url}", "--frobnicate"], False),
    ("`--close-code 1005`", ["{url}", "--close-code", "1005"], False),
    ("`--ca /nonexistent.pem`", ["wss://127.0.0.1:1/", "--ca", "/nonexistent.pem"], False),
    ("closed port", ["ws://127.0.0.1:{closed}/"], False),
    ("`-x '/close 1005'`", ["{url}", "-x", "/close 1005", "-x", "after", "--once"], True),
    ("`-x '/close 1000 <124-byte reason>'`", ["{url}", "-x", "/close 1000 " + "r" * 124, "-x", "after", "--once"], True),
    ("`-x '/ping <126 bytes>'`", ["{url}", "-x", "/ping " + "p" * 126, "-x", "after", "--once"], True),
    ("`-x '/binary zz'` (bad hex)", ["{url}", "-x", "/binary zz", "-x", "after", "--once"], True),
    ("`-x '/file /nonexistent'`", ["{url}", "-x", "/file /nonexistent", "-x", "after", "--once"], True),
    ("`-x '/frobnicate'` (unknown command)", ["{url}", "-x", "/frobnicate", "-x", "after", "--once"], True),
]


def run(wscope, args, timeout=25):
    t = time.time()
    try:
        p = subprocess.run([wscope] + args, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, env=dict(os.environ, NO_COLOR="1"))
        code, err = p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        code, err = "timeout", ""
    lines = [l for l in err.splitlines() if l.startswith("error")] or \
            [l for l in err.splitlines() if l.strip()][-1:]
    return code, (lines[0] if lines else ""), "panicked" in err, time.time() - t


def cell(s):
    return s.replace("|", "\\|").replace("\n", " ")[:160]


def main():
    wscope = sys.argv[1] if len(sys.argv) > 1 else "target/release/wscope"
    panics = 0
    print("### Server-side\n")
    print("| Input from the server | wscope sent (server saw) | Exit | Message |")
    print("|---|---|---|---|")
    for what, respond, after, extra in SERVER_ROWS:
        srv = Server(respond, after)
        code, msg, panic, _ = run(wscope, ["ws://127.0.0.1:%d/" % srv.port]
                                    + ([] if "-w" in extra else ["-w", "inf"]) + extra)
        srv.join(25)
        panics += panic
        saw = ", ".join(srv.got) or "nothing"
        print("| %s | %s | %s | %s |" % (what, cell(saw), code, cell(msg)))
    print("\n### User-side\n")
    print("| Input from the user | Server saw | Exit | Message |")
    print("|---|---|---|---|")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    for what, args, needs_server in USER_ROWS:
        srv = Server(ok, b"", echo=True, hold=10) if needs_server else None
        url = "ws://127.0.0.1:%d/" % (srv.port if srv else closed)
        argv = [a.replace("{url}", url).replace("{closed}", str(closed)) for a in args]
        code, msg, panic, _ = run(wscope, argv)
        panics += panic
        if srv:
            srv.join(15)
            saw = ", ".join(srv.got) or "nothing"
        else:
            saw = "(no connection)"
        print("| %s | %s | %s | %s |" % (what, cell(saw), code, cell(msg)))
    if panics:
        print("\n%d PANIC(S)" % panics)
    return 1 if panics else 0


if __name__ == "__main__":
    sys.exit(main())
