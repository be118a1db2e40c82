// Node WebSocket echo servers for scripts/fingerprint.sh, on 127.0.0.1.
// Usage: NODE_PATH=.tools/fp-node/node_modules node servers.js KIND PORT
// KIND: ws (the `ws` library as usually deployed: any Origin, defaults kept) | engine.io (the
// engine under socket.io, at its usual path /engine.io/, echoing every message).
// Prints {"event":"listening"} once it accepts connections.
const http = require('http');

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);
const listening = () => process.stdout.write(JSON.stringify({ event: 'listening', port }) + '\n');

if (kind === 'ws') {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  wss.on('listening', listening);
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
} else if (kind === 'engine.io') {
  const engine = require('engine.io');
  const server = http.createServer();
  const eio = engine.attach(server);
  eio.on('connection', (socket) => {
    socket.on('message', (data) => socket.send(data));
    socket.on('error', () => {});
  });
  server.listen(port, '127.0.0.1', listening);
} else {
  console.error(`unknown kind ${kind}`);
  process.exit(2);
}
