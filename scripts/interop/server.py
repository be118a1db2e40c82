#!/usr/bin/env python3
"""Interop peer for wscope, built on Python's `websockets` (asyncio API).

Usage: server.py PORT [CERT KEY]   (binds 127.0.0.1; TLS when CERT and KEY are given)
Prints one compact JSON object per event on stdout, so scripts/interop.sh can check what a
real server saw. Paths:
  /record  record the handshake (path, headers, subprotocol) and every frame received
  /echo    echo every data message
  /close   close at once with 4001 "server says bye"
  /login   a login flow: greets with {"type":"welcome"}; "login USER PASS" is answered by a
           notice, then {"type":"token","token":...}; "whoami TOKEN" by {"type":"me","user":...}
           (or {"type":"error"} for a wrong token); "bye" closes with 4000 "done"
Subprotocols accepted, in order of preference: chat.v2, chat.v1.
"""
import asyncio
import json
import ssl
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode


def emit(**event):
    print(json.dumps(event, separators=(",", ":")), flush=True)


def select_subprotocol(connection, offered):
    for name in ("chat.v2", "chat.v1"):
        if name in offered:
            return name
    return None


async def handler(ws):
    path = ws.request.path
    emit(event="open", server="python", path=path, subprotocol=ws.subprotocol,
         headers={k.lower(): v for k, v in ws.request.headers.raw_items()},
         extensions=ws.response.headers.get("Sec-WebSocket-Extensions"))
    if path.startswith("/close"):
        await ws.close(4001, "server says bye")
        return
    if path.startswith("/login"):
        await login(ws)
        return
    # Control frames never reach recv(): watch them on the sans-I/O protocol object.
    protocol = ws.protocol
    original = protocol.recv_frame

    def recv_frame(frame):
        if frame.opcode == Opcode.PING:
            emit(event="ping", data=frame.data.decode("utf-8", "replace"))
        elif frame.opcode == Opcode.CLOSE:
            code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
            emit(event="close", code=code, reason=frame.data[2:].decode("utf-8", "replace"))
        return original(frame)

    protocol.recv_frame = recv_frame
    try:
        async for message in ws:
            if path.startswith("/echo"):
                await ws.send(message)
            elif isinstance(message, str):
                emit(event="text", data=message)
            else:
                emit(event="binary", hex=message.hex())
    except ConnectionClosed:
        pass


async def login(ws):
    await ws.send(json.dumps({"type": "welcome"}))
    tokens = {}
    try:
        async for message in ws:
            words = str(message).split()
            if words[:1] == ["login"] and len(words) == 3:
                token = "t-%s-%d" % (words[1], len(tokens) + 42)
                tokens[token] = words[1]
                await ws.send("checking credentials...")
                await ws.send(json.dumps({"type": "token", "token": token}))
            elif words[:1] == ["whoami"] and len(words) == 2 and words[1] in tokens:
                await ws.send(json.dumps({"type": "me", "user": tokens[words[1]]}))
            elif words[:1] == ["bye"]:
                await ws.close(4000, "done")
                return
            else:
                await ws.send(json.dumps({"type": "error", "got": str(message)}))
    except ConnectionClosed:
        pass


async def main():
    port = int(sys.argv[1])
    tls = None
    if len(sys.argv) > 3:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[2], sys.argv[3])
    async with serve(handler, "127.0.0.1", port, ssl=tls, subprotocols=["chat.v2", "chat.v1"],
                     select_subprotocol=select_subprotocol, max_size=None, ping_interval=None):
        emit(event="listening", port=port)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main())
