// Echo servers for bench/run.sh, on 127.0.0.1 only.
//   node echo-server.js ws  PORTFILE   WebSocket echo (the `ws` package, permessage-deflate off)
//   node echo-server.js wsz PORTFILE   the same with permessage-deflate on (ws's defaults, threshold 0:
//                                      every message it sends back is compressed, as in scripts/interop)
//   node echo-server.js tcp PORTFILE   plain TCP echo: the floor, same runtime, no WebSocket framing
// Run with NODE_PATH=.tools/node/node_modules (where bench/run.sh installs ws).
// Listens on an ephemeral port and writes it to PORTFILE once ready. The WebSocket servers also
// keep the number of connections opened so far in PORTFILE.conns: bench/run.sh waits on it for a
// client that drops what it reads before it is connected (wscat).
'use strict';
const fs = require('fs');
const net = require('net');
const [kind, portFile] = process.argv.slice(2);

function ready(server) {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
}

if (kind === 'ws' || kind === 'wsz') {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({
    host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: kind === 'wsz' ? { threshold: 0 } : false,
  });
  let conns = 0;
  wss.on('connection', (ws) => {
    // Renamed into place, so a reader never sees the file empty.
    fs.writeFileSync(portFile + '.conns.tmp', String(++conns));
    fs.renameSync(portFile + '.conns.tmp', portFile + '.conns');
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => {});
  });
  wss.on('listening', () => ready(wss));
} else if (kind === 'tcp') {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.pipe(sock);
    sock.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => ready(server));
} else {
  console.error('usage: echo-server.js ws|wsz|tcp PORTFILE');
  process.exit(2);
}
