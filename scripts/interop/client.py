#!/usr/bin/env python3
"""Interop client for `wscope listen --echo`, built on Python's `websockets` (compression on by
default).

Usage: client.py URL [seq [OPTIONS_JSON]]
Sends a short text, a long compressible text and a binary message, and prints one JSON line:
{"extensions": the negotiated Sec-WebSocket-Extensions, "ok": every echo came back equal}.
With "seq": the deflate sequence instead (issue 26: empty messages between others, 1 byte, each
length-form boundary), as text and as binary, offering permessage-deflate with OPTIONS_JSON
(ClientPerMessageDeflateFactory's arguments, e.g. {"client_no_context_takeover": true}).
"""
import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

SEQ_SIZES = [0, 1, 125, 126, 0, 65535, 65536, 0, 1]


def letters(n, i):
    return bytes(97 + (i * 31 + j * 7) % 26 for j in range(n))


async def main():
    sent = ["hello", "compressible " * 5000, bytes([0, 1, 2, 255])]
    kwargs = {}
    if sys.argv[2:3] == ["seq"]:
        sent = [letters(n, i).decode() for i, n in enumerate(SEQ_SIZES)]
        sent += [letters(n, i + 1) for i, n in enumerate(SEQ_SIZES)]
        options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
        kwargs = {"compression": None,
                  "extensions": [ClientPerMessageDeflateFactory(**options)]}
    async with connect(sys.argv[1], max_size=None, **kwargs) as ws:
        for m in sent:
            await ws.send(m)
        got = [await asyncio.wait_for(ws.recv(), 10) for _ in sent]
        ext = ws.response.headers.get("Sec-WebSocket-Extensions")
    ok = got == sent
    print(json.dumps({"extensions": ext, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
