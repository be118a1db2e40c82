#!/usr/bin/env python3
"""Upstream peer for scripts/proxy.sh on Python's `websockets`: echoes every message, logs the
request (path, headers, subprotocol) and every message and close as JSON lines.

Usage: upstream.py PORT   (binds 127.0.0.1)
"""
import asyncio
import json
import sys

from websockets.asyncio.server import serve


def log(**event):
    print(json.dumps(event), flush=True)


async def handler(ws):
    req = ws.request
    log(event="open", path=req.path, headers={k.lower(): v for k, v in req.headers.raw_items()},
        subprotocol=ws.subprotocol)
    try:
        async for m in ws:
            log(event="binary" if isinstance(m, bytes) else "text",
                data=m.hex() if isinstance(m, bytes) else m)
            await ws.send(m)
    finally:
        log(event="close", code=ws.close_code, reason=ws.close_reason)


async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), subprotocols=["chat.v2"]):
        log(event="listening")
        await asyncio.Future()


asyncio.run(main())
