// Upstream peers for scripts/proxy.sh, on Node's `ws` and socket.io 4, one HTTP server on
// 127.0.0.1:PORT. Paths: /echo* echoes every message; /headers* first sends the request headers
// it saw (as JSON), then echoes; /refuse* answers 403 with a header and a body (no upgrade);
// /socket.io/ is socket.io 4 ("welcome" on connect, "chat" answered with "echo").
// Subprotocols: chat.v2 is selected when offered. Logs each event as one JSON line.
const http = require('http');
const { WebSocketServer } = require('ws');
const { Server } = require('socket.io');

const port = Number(process.argv[2]);
const log = (o) => console.log(JSON.stringify(o));
const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: { threshold: 0 },
  handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
});
const io = new Server(server, { transports: ['websocket'] });
io.on('connection', (socket) => {
  log({ event: 'sio-connect' });
  socket.emit('welcome', { n: 1 });
  socket.on('chat', (...args) => { log({ event: 'sio-chat', args }); socket.emit('echo', ...args); });
});

server.on('upgrade', (req, socket, head) => {
  if (req.url.startsWith('/socket.io/')) return; // socket.io's own handler
  if (req.url.startsWith('/refuse')) {
    const body = 'members only';
    socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Reason: test-refusal\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    log({ event: 'refused', path: req.url });
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    log({ event: 'open', path: req.url, headers: req.headers, subprotocol: ws.protocol || null,
      extensions: ws.extensions || null });
    if (req.url.startsWith('/headers')) ws.send(JSON.stringify(req.headers));
    ws.on('error', (e) => log({ event: 'error', message: String(e) }));
    ws.on('close', (code, reason) => log({ event: 'close', path: req.url, code, reason: reason.toString() }));
    ws.on('message', (data, isBinary) => {
      log({ event: isBinary ? 'binary' : 'text', path: req.url,
        data: isBinary ? Buffer.from(data).toString('hex') : data.toString() });
      ws.send(data, { binary: isBinary });
    });
  });
});
server.listen(port, '127.0.0.1', () => log({ event: 'listening', port }));
