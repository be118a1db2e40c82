"""An RFC 8441 WebSocket client written with Python's `h2` package, for `wscope listen --http2`.

Usage: client.py URL [matrix|one TEXT]   (URL ws://host:port/path: h2c prior knowledge;
wss://...: TLS with ALPN h2, certificate not checked).

It speaks HTTP/2 itself (h2 does the framing, this file the sockets, flow control and the
WebSocket frames, masked as a client must), opens `CONNECT :protocol websocket` streams and runs
the interop message matrix on them: text and binary of many sizes (0 to 300 KiB, crossing the
64 KiB window), fragmented messages with a ping between fragments, a ping, then close codes,
each on its own stream of the same connection. Prints one JSON line per check and
{"ok": true|false} last; exits 1 on any failure.
"""

import json
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse

import h2.config
import h2.connection
import h2.events
import h2.settings

DEADLINE = 20.0


class Conn:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.secure = u.scheme == "wss"
        self.authority = u.netloc
        self.path = (u.path or "/") + (("?" + u.query) if u.query else "")
        sock = socket.create_connection((u.hostname, u.port), timeout=DEADLINE)
        if self.secure:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname=u.hostname)
            if sock.selected_alpn_protocol() != "h2":
                raise SystemExit(f"ALPN chose {sock.selected_alpn_protocol()!r}, not h2")
        self.sock = sock
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.h2.initiate_connection()
        self.flush()
        self.data = {}  # stream id -> bytearray of bytes received, not yet parsed
        self.ended = set()
        self.reset = {}
        self.settings = None
        self.statuses = {}
        while self.settings is None:
            self.pump()

    def flush(self):
        out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def pump(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        for ev in self.h2.receive_data(chunk):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                self.settings = {int(k): v.new_value for k, v in ev.changed_settings.items()}
            elif isinstance(ev, h2.events.ResponseReceived):
                self.statuses[ev.stream_id] = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                self.data.setdefault(ev.stream_id, bytearray()).extend(ev.data)
                # Window opened again as read (the whole matrix stays small).
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                self.ended.add(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                self.reset[ev.stream_id] = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                raise ConnectionError(f"GOAWAY {ev.error_code}")
        self.flush()

    def open(self):
        enabled = self.settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL, 0)
        if enabled != 1:
            raise SystemExit("the server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL")
        sid = self.h2.get_next_available_stream_id()
        headers = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https" if self.secure else "http"),
            (":path", self.path),
            (":authority", self.authority),
            ("sec-websocket-version", "13"),
        ]
        self.h2.send_headers(sid, headers)
        self.flush()
        deadline = time.monotonic() + DEADLINE
        while sid not in self.statuses:
            if time.monotonic() > deadline:
                raise TimeoutError("no response to the CONNECT")
            self.pump()
        return sid, self.statuses[sid].get(b":status", b"").decode()

    def send(self, sid, data):
        data = memoryview(data)
        while data:
            window = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size)
            if window <= 0:
                self.pump()  # wait for a WINDOW_UPDATE
                continue
            self.h2.send_data(sid, bytes(data[:window]))
            self.flush()
            data = data[window:]

    def frame(self, sid):
        """The next WebSocket frame from the server: (fin, opcode, payload)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            buf = self.data.setdefault(sid, bytearray())
            parsed = parse(buf)
            if parsed:
                fin, op, payload, used = parsed
                del buf[:used]
                return fin, op, payload
            if sid in self.ended or sid in self.reset:
                raise ConnectionError(f"stream {sid} ended (reset {self.reset.get(sid)})")
            if time.monotonic() > deadline:
                raise TimeoutError("no frame from the server")
            self.pump()

    def message(self, sid):
        """The next data message (pings answered by the server are returned as ('pong', data))."""
        parts, first = [], None
        while True:
            fin, op, payload = self.frame(sid)
            if op in (0x9, 0xA, 0x8):
                return {0x9: "ping", 0xA: "pong", 0x8: "close"}[op], payload
            if first is None:
                first = op
            parts.append(payload)
            if fin:
                return ("text" if first == 1 else "binary"), b"".join(parts)


def parse(buf):
    if len(buf) < 2:
        return None
    fin, op = buf[0] & 0x80, buf[0] & 0x0F
    n, at = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, at = struct.unpack(">H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, at = struct.unpack(">Q", buf[2:10])[0], 10
    if buf[1] & 0x80:
        raise ValueError("the server masked a frame")
    if len(buf) < at + n:
        return None
    return bool(fin), op, bytes(buf[at:at + n]), at + n


def frame(op, payload, fin=True):
    """A masked client frame."""
    head = bytes([(0x80 if fin else 0) | op])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(ok)
    print(json.dumps({"check": name, "ok": bool(ok), "detail": detail}), flush=True)


def matrix(c):
    sid, status = c.open()
    check("CONNECT :protocol websocket answered 200", status == "200", status)
    for size in (0, 1, 125, 126, 65535, 65536, 300 * 1024):
        text = ("x" * size).encode()
        c.send(sid, frame(0x1, text))
        kind, got = c.message(sid)
        check(f"text {size} bytes echoed", kind == "text" and got == text, f"{kind} {len(got)}")
        blob = os.urandom(size)
        c.send(sid, frame(0x2, blob))
        kind, got = c.message(sid)
        check(f"binary {size} bytes echoed", kind == "binary" and got == blob, f"{kind} {len(got)}")
    # Fragments, with a ping between them (control frames may interleave, RFC 6455 5.4).
    c.send(sid, frame(0x1, b"frag-", fin=False))
    c.send(sid, frame(0x9, b"between"))
    c.send(sid, frame(0x0, "mént".encode(), fin=False))
    c.send(sid, frame(0x0, b"ed", fin=True))
    got = [c.message(sid), c.message(sid)]
    check("fragmented text with a ping between fragments: pong, then the whole message",
          got == [("pong", b"between"), ("text", "frag-ménted".encode())], repr(got))
    c.send(sid, frame(0x2, b"\x00\x01", fin=False))
    c.send(sid, frame(0x0, b"\xff", fin=True))
    got = c.message(sid)
    check("fragmented binary echoed whole", got == ("binary", b"\x00\x01\xff"), repr(got))
    c.send(sid, frame(0x9, b"p"))
    got = c.message(sid)
    check("ping answered with its payload", got == ("pong", b"p"), repr(got))
    c.send(sid, frame(0x8, struct.pack(">H", 1000)))
    got = c.message(sid)
    check("close 1000 answered", got[0] == "close" and got[1][:2] == struct.pack(">H", 1000), repr(got))
    # Close codes, each on a new stream of the same connection (multiplexing).
    for code, reason in ((1001, b""), (3001, b"app"), (4000, b"done")):
        sid, status = c.open()
        c.send(sid, frame(0x1, b"before close"))
        echoed = c.message(sid)
        c.send(sid, frame(0x8, struct.pack(">H", code) + reason))
        got = c.message(sid)
        ok = status == "200" and echoed == ("text", b"before close") and got[0] == "close" \
            and got[1][:2] == struct.pack(">H", code)
        check(f"stream {sid}: close {code} {reason.decode()!r} answered with {code}", ok, repr(got))
    # A non-websocket request is refused with a 4xx.
    sid = c.h2.get_next_available_stream_id()
    c.h2.send_headers(sid, [(":method", "GET"), (":scheme", "http"), (":path", "/"),
                            (":authority", c.authority)], end_stream=True)
    c.flush()
    while sid not in c.statuses:
        c.pump()
    status = c.statuses[sid].get(b":status", b"").decode()
    check("a GET on the same connection is refused with 405", status == "405", status)


def main():
    url = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "matrix"
    c = Conn(url)
    if mode == "one":
        sid, status = c.open()
        c.send(sid, frame(0x1, sys.argv[3].encode()))
        print(json.dumps({"status": status, "echo": c.message(sid)[1].decode()}))
        return
    try:
        matrix(c)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check("the matrix ran to its end", False, f"{type(e).__name__}: {e}")
    ok = all(RESULTS)
    print(json.dumps({"ok": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
