// Many WebSocket clients from one Node process, for bench/run.sh's listen-scale row.
//   node clients.js URL N RATE READYFILE
// Opens N connections to URL (at most 200 handshakes in flight), writes "open N" to READYFILE
// once all are open, then, if RATE > 0, each connection sends a 64-byte text message RATE times a
// second (spread over the second) and counts the echoes. On SIGTERM it writes "echoes M sent S"
// to READYFILE.done and exits. Run with NODE_PATH=.tools/node/node_modules (the ws package).
'use strict';
const fs = require('fs');
const WebSocket = require('ws');
const [url, nArg, rateArg, readyFile] = process.argv.slice(2);
const n = +nArg, rate = +rateArg;
const payload = 'x'.repeat(64);
let open = 0, started = 0, inFlight = 0, echoes = 0, sent = 0, failed = 0;
const socks = [];

function write(file, text) {
  fs.writeFileSync(file + '.tmp', text);
  fs.renameSync(file + '.tmp', file);
}

function startOne() {
  started++; inFlight++;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('open', () => {
    inFlight--; open++;
    socks.push(ws);
    if (open === n) allOpen();
    next();
  });
  ws.on('message', () => { echoes++; });
  ws.on('error', (e) => {
    if (ws.readyState !== WebSocket.OPEN) { inFlight--; failed++; next(); }
    if (failed === 1) process.stderr.write(`clients.js: ${e.message}\n`);
  });
}

function next() {
  while (started < n && inFlight < 200) startOne();
  if (open + failed === n && failed > 0) {
    write(readyFile, `failed ${failed} open ${open}\n`);
  }
}

function allOpen() {
  write(readyFile, `open ${open}\n`);
  if (rate > 0) {
    const every = 1000 / rate;
    socks.forEach((ws, i) => {
      setTimeout(() => setInterval(() => { ws.send(payload); sent++; }, every), (i * every) / socks.length);
    });
  }
}

process.on('SIGTERM', () => {
  write(readyFile + '.done', `echoes ${echoes} sent ${sent}\n`);
  process.exit(0);
});
next();
