#!/usr/bin/env python3
"""A Python `websockets` echo server with an Origin allow-list, for `wscope probe` (issue 18).

Usage: probe_server.py PORT ORIGIN   (binds 127.0.0.1)
Only ORIGIN may connect (websockets' `origins=`: others, and requests without Origin, get 403).
The default limits are kept (max_size 1 MiB), so max-message finds a limit. Prints
{"event":"listening"} once it accepts connections.
"""
import asyncio
import json
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def echo(ws):
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main():
    port, origin = int(sys.argv[1]), sys.argv[2]
    async with serve(echo, "127.0.0.1", port, origins=[origin], ping_interval=None):
        print(json.dumps({"event": "listening", "port": port}), flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main())
