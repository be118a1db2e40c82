#!/usr/bin/env python3
"""Python `websockets` client for scripts/proxy.sh: connects to URL offering chat.v1, chat.v2,
with a Cookie and an Authorization header; sends a text and a binary message, expects each back,
closes with 4000 "py done". Prints one JSON line: the subprotocol, the echoes, ok.
"""
import asyncio
import json
import sys

from websockets.asyncio.client import connect


async def main():
    headers = {"Cookie": "py=1", "Authorization": "Bearer py-token"}
    async with connect(sys.argv[1], subprotocols=["chat.v1", "chat.v2"],
                       additional_headers=headers, origin="http://py.test") as ws:
        sent = ["hello from python", b"\x00\x01\xfe"]
        for m in sent:
            await ws.send(m)
        got = [await asyncio.wait_for(ws.recv(), 10) for _ in sent]
        await ws.close(4000, "py done")
        print(json.dumps({"subprotocol": ws.subprotocol, "ok": got == sent}))


asyncio.run(main())
