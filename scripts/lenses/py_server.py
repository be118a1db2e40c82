"""Python peers for scripts/lenses.sh, on 127.0.0.1 only: a JSON-RPC 2.0 server and servers that
speak MessagePack, CBOR and protobuf (websockets), plus a python-socketio server (threading mode
under Werkzeug) with a namespace, acks, binary events and a short pingInterval.

usage: py_server.py WS_PORT SIO_PORT   (prints {"listening": ...} when both are up)
"""
import asyncio
import json
import sys
import threading

import cbor2
import msgpack
import socketio
import websockets
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from werkzeug.serving import make_server

# --- protobuf: demo.Chat built at run time, no protoc (scripts/lenses/chat.proto is the same) ---
fdp = descriptor_pb2.FileDescriptorProto(name="chat.proto", package="demo", syntax="proto3")
msg = fdp.message_type.add(name="Chat")
F = descriptor_pb2.FieldDescriptorProto
msg.field.add(name="n", number=1, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
msg.field.add(name="user", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
msg.field.add(name="tags", number=3, type=F.TYPE_STRING, label=F.LABEL_REPEATED)
pool = descriptor_pool.DescriptorPool()
pool.Add(fdp)
Chat = message_factory.GetMessageClass(pool.FindMessageTypeByName("demo.Chat"))


async def rpc(ws):
    """JSON-RPC 2.0: add, echo, batches, errors; a 'tick' notification every 200 ms; 'garbage'
    answers with text that is not JSON."""
    async def ticks():
        n = 0
        while True:
            await asyncio.sleep(0.2)
            n += 1
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "tick", "params": [n]}))

    def one(req):
        if not isinstance(req, dict) or req.get("jsonrpc") != "2.0":
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}}
        m, p, rid = req.get("method"), req.get("params", []), req.get("id")
        if m == "add":
            res = {"jsonrpc": "2.0", "id": rid, "result": sum(p)}
        elif m == "echo":
            res = {"jsonrpc": "2.0", "id": rid, "result": p}
        else:
            res = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}}
        return None if "id" not in req else res

    task = asyncio.create_task(ticks())
    try:
        async for text in ws:
            try:
                req = json.loads(text)
            except ValueError:
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}))
                continue
            if isinstance(req, dict) and req.get("method") == "garbage":
                await ws.send("oops{not json")
                continue
            if isinstance(req, list):
                out = [r for r in map(one, req) if r is not None]
                if out:
                    await ws.send(json.dumps(out))
            else:
                r = one(req)
                if r is not None:
                    await ws.send(json.dumps(r))
    finally:
        task.cancel()


def binary_peer(dumps, loads, greeting, bad):
    async def handler(ws):
        await ws.send(dumps(greeting))
        await ws.send(bad)  # a malformed message: the lens says why, the connection stays
        async for data in ws:
            if isinstance(data, str):
                continue
            await ws.send(dumps({"echo": loads(data)}))
    return handler


async def protobuf(ws):
    await ws.send(Chat(n=150, user="hi", tags=["a", "b"]).SerializeToString())
    await ws.send(b"\x0f\x00")  # wire type 7: not protobuf
    async for data in ws:
        if isinstance(data, str):
            continue
        c = Chat()
        c.ParseFromString(data)
        await ws.send(Chat(n=c.n + 1, user=c.user.upper(), tags=list(c.tags)).SerializeToString())


ROUTES = {
    "/rpc": rpc,
    "/msgpack": binary_peer(msgpack.packb, lambda b: msgpack.unpackb(b, raw=False),
                            {"hello": "msgpack", "bin": b"\x00\xff", "n": [1, 2.5]}, b"\xc1"),
    "/cbor": binary_peer(cbor2.dumps, cbor2.loads,
                         {"hello": "cbor", "bin": b"\x00\xff", "tag": cbor2.CBORTag(40000, 7)}, b"\xff"),
    "/protobuf": protobuf,
}


async def route(ws):
    handler = ROUTES.get(ws.request.path)
    if handler is None:
        await ws.close(1008, "no such path")
        return
    await handler(ws)


# --- python-socketio -----------------------------------------------------------------------------
# engine.io announces whole seconds: 1 s is the shortest pingInterval it can say.
sio = socketio.Server(async_mode="threading", ping_interval=1, ping_timeout=1)


@sio.event
def connect(sid, environ, auth):
    sio.emit("welcome", {"py": True}, to=sid)


@sio.on("chat")
def chat(sid, *args):
    sio.emit("echo", list(args), to=sid)
    return "ok", len(args)


@sio.on("bin")
def binev(sid, *args):
    sio.emit("blob", {"data": b"\x01\x02\x03\x04"}, to=sid)


@sio.on("connect", namespace="/admin")
def admin_connect(sid, environ, auth):
    if not auth or auth.get("token") != "s3cret":
        raise socketio.exceptions.ConnectionRefusedError("not authorized")
    sio.emit("hello-admin", "py", to=sid, namespace="/admin")


async def main():
    ws_port, sio_port = int(sys.argv[1]), int(sys.argv[2])
    httpd = make_server("127.0.0.1", sio_port, socketio.WSGIApp(sio), threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    async with websockets.serve(route, "127.0.0.1", ws_port):
        print(json.dumps({"listening": [ws_port, sio_port]}), flush=True)
        await asyncio.Future()


asyncio.run(main())
