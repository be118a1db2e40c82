#!/usr/bin/env python3
"""Python WebSocket echo servers for scripts/fingerprint.sh, one per stack, all on 127.0.0.1.

Usage: servers.py KIND PORT
KIND: websockets | aiohttp | uvicorn-websockets | uvicorn-wsproto | hypercorn | tornado
Each echoes every message, accepts any Origin and keeps its library's defaults, as most
deployments do. Prints {"event":"listening"} once it accepts connections.
"""
import asyncio
import json
import sys

HOST = "127.0.0.1"


def listening():
    print(json.dumps({"event": "listening"}), flush=True)


async def asgi_echo(scope, receive, send):
    """The same echo for uvicorn and hypercorn (ASGI)."""
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"not found"})
        return
    while True:
        msg = await receive()
        if msg["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif msg["type"] == "websocket.receive":
            out = {"type": "websocket.send"}
            if msg.get("text") is not None:
                out["text"] = msg["text"]
            else:
                out["bytes"] = msg.get("bytes") or b""
            await send(out)
        else:
            return


async def run_websockets(port):
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    async def echo(ws):
        try:
            async for m in ws:
                await ws.send(m)
        except ConnectionClosed:
            pass

    async with serve(echo, HOST, port):
        listening()
        await asyncio.get_running_loop().create_future()


async def run_aiohttp(port):
    from aiohttp import web, WSMsgType

    async def echo(request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for m in ws:
            if m.type == WSMsgType.TEXT:
                await ws.send_str(m.data)
            elif m.type == WSMsgType.BINARY:
                await ws.send_bytes(m.data)
        return ws

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    listening()
    await asyncio.get_running_loop().create_future()


def run_uvicorn(port, ws):
    import uvicorn

    config = uvicorn.Config(asgi_echo, host=HOST, port=port, ws=ws, log_level="warning")
    server = uvicorn.Server(config)

    async def main():
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        listening()
        await task

    asyncio.run(main())


async def run_hypercorn(port):
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{HOST}:{port}"]
    config.loglevel = "WARNING"
    task = asyncio.create_task(serve(asgi_echo, config))
    await asyncio.sleep(0.5)
    listening()
    await task


async def run_tornado(port):
    import tornado.web
    import tornado.websocket

    class Echo(tornado.websocket.WebSocketHandler):
        def check_origin(self, origin):
            return True

        def on_message(self, message):
            self.write_message(message, binary=isinstance(message, bytes))

    app = tornado.web.Application([(r"/", Echo)])
    app.listen(port, address=HOST)
    listening()
    await asyncio.get_running_loop().create_future()


def main():
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind.startswith("uvicorn-"):
        return run_uvicorn(port, kind.split("-", 1)[1])
    runs = {
        "websockets": run_websockets,
        "aiohttp": run_aiohttp,
        "hypercorn": run_hypercorn,
        "tornado": run_tornado,
    }
    asyncio.run(runs[kind](port))


if __name__ == "__main__":
    main()
