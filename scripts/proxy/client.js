// Node clients for scripts/proxy.sh. Usage: node client.js ws|refused|sio URL
//   ws       Node `ws`: custom headers, reads the upstream's header report, sends, closes 4001
//   refused  Node `ws` against a refusing upstream: prints the status, a header and the body
//   sio      socket.io-client 4 (websocket transport): waits for "welcome", emits "chat", waits for "echo"
// Prints one JSON line with what it saw.
const mode = process.argv[2];
const url = process.argv[3];
const out = (o) => { console.log(JSON.stringify(o)); };
const fail = (why) => { out({ ok: false, why: String(why) }); process.exit(1); };
setTimeout(() => fail('timeout'), 10000).unref();

if (mode === 'ws' || mode === 'refused') {
  const WebSocket = require('ws');
  const ws = new WebSocket(url, {
    headers: { Cookie: 'node=1', Authorization: 'Bearer node-token', 'User-Agent': 'node-client/1', 'X-Trace': 'abc' },
    origin: 'http://node.test',
  });
  ws.on('unexpected-response', (req, res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => out({ ok: true, status: res.statusCode, reason: res.headers['x-reason'], body }));
  });
  ws.on('error', (e) => { if (mode !== 'refused') fail(e); });
  let seen = null;
  ws.on('message', (data) => {
    if (!seen) { seen = JSON.parse(data.toString()); ws.send('hello from node'); return; }
    out({ ok: data.toString() === 'hello from node', headers: seen });
    ws.close(4001, 'node done');
  });
} else if (mode === 'sio') {
  const { io } = require('socket.io-client');
  const socket = io(url, { transports: ['websocket'], reconnection: false });
  socket.on('connect_error', fail);
  socket.on('welcome', () => socket.emit('chat', 'hi from sio'));
  socket.on('echo', (m) => { out({ ok: m === 'hi from sio' }); socket.close(); });
}
