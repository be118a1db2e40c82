#!/usr/bin/env python3
"""Interop client for `wscope listen --echo`, built on Python's `websockets` (compression on by
default).

Usage: client.py URL
Sends a short text, a long compressible text and a binary message, and prints one JSON line:
{"extensions": the negotiated Sec-WebSocket-Extensions, "ok": every echo came back equal}.
"""
import asyncio
import json
import sys

from websockets.asyncio.client import connect


async def main():
    sent = ["hello", "compressible " * 5000, bytes([0, 1, 2, 255])]
    async with connect(sys.argv[1], max_size=None) as ws:
        for m in sent:
            await ws.send(m)
        got = [await asyncio.wait_for(ws.recv(), 10) for _ in sent]
        ext = ws.response.headers.get("Sec-WebSocket-Extensions")
    ok = got == sent
    print(json.dumps({"extensions": ext, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
