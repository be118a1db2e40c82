"""A small ASGI WebSocket echo app for Hypercorn (scripts/h2.sh), the RFC 8441 server peer.

Every path echoes text and binary messages; /close closes with 4001 "server says bye" at once.
Each event is printed as a JSON line on stdout ({"event": "text"|"binary"|"close", ...}) so the
script can check what the server saw.
"""

import json
import sys


def log(**fields):
    print(json.dumps(fields), flush=True)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            ev = await receive()
            if ev["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif ev["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"websocket only\n"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    log(event="open", path=scope["path"], http_version=scope.get("http_version"))
    if scope["path"] == "/close":
        await send({"type": "websocket.close", "code": 4001, "reason": "server says bye"})
        return
    while True:
        ev = await receive()
        if ev["type"] == "websocket.disconnect":
            log(event="close", code=ev.get("code"), path=scope["path"])
            return
        if ev.get("text") is not None:
            log(event="text", size=len(ev["text"]), path=scope["path"])
            await send({"type": "websocket.send", "text": ev["text"]})
        else:
            log(event="binary", size=len(ev["bytes"]), path=scope["path"])
            await send({"type": "websocket.send", "bytes": ev["bytes"]})


if __name__ == "__main__":
    sys.exit("run with hypercorn: hypercorn echo_app:app")
