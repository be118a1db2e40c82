// Interop peer for wscope, built on Node's `ws` package.
//
// Usage: NODE_PATH=.tools/node/node_modules node server.js PORT [deflate]   (binds 127.0.0.1)
// With "deflate", permessage-deflate is on (threshold 0: every message is compressed).
// Prints one compact JSON object per event on stdout, like server.py, with the same paths:
//   /record  record the handshake (path, headers, subprotocol) and every frame received
//   /echo    echo every data message
//   /close   close at once with 4001 "server says bye"
// Subprotocols accepted, in order of preference: chat.v2, chat.v1.
const { WebSocketServer } = require('ws');

const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n');
const port = Number(process.argv[2]);
const deflate = process.argv[3] === 'deflate';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  maxPayload: 0x7fffffff,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  handleProtocols: (offered) => ['chat.v2', 'chat.v1'].find((p) => offered.has(p)) ?? false,
});

wss.on('listening', () => emit({ event: 'listening', port }));
wss.on('connection', (ws, req) => {
  const path = req.url;
  const headers = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i].toLowerCase()] = req.rawHeaders[i + 1];
  emit({ event: 'open', server: 'node', path, subprotocol: ws.protocol || null, headers,
    extensions: ws.extensions || null });
  if (path.startsWith('/close')) {
    ws.close(4001, 'server says bye');
    return;
  }
  // A client that breaks the protocol fails its own connection, never the whole server (an
  // unhandled 'error' event would end the process and fail every later scenario with it).
  ws.on('error', (e) => emit({ event: 'error', message: String(e) }));
  ws.on('ping', (data) => emit({ event: 'ping', data: data.toString('utf8') }));
  ws.on('close', (code, reason) =>
    emit({ event: 'close', code: code === 1005 ? null : code, reason: reason.toString('utf8') }));
  ws.on('message', (data, isBinary) => {
    if (path.startsWith('/echo')) ws.send(data, { binary: isBinary });
    else if (isBinary) emit({ event: 'binary', hex: Buffer.from(data).toString('hex') });
    else emit({ event: 'text', data: data.toString('utf8') });
  });
});
