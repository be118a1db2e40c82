// Interop client for `wscope listen --echo`, built on Node's `ws` with permessage-deflate on.
//
// Usage: NODE_PATH=.tools/node/node_modules node client.js URL [seq [OPTIONS_JSON]]
// Sends a short text, a long compressible text and a binary message, and prints one JSON line:
// {"extensions": what was negotiated, "ok": every echo came back equal}.
// With "seq": the deflate sequence instead (issue 26: empty messages between others, 1 byte, each
// length-form boundary), as text and as binary, with ws's perMessageDeflate OPTIONS_JSON
// (e.g. {"clientNoContextTakeover":true,"serverMaxWindowBits":9}).
const WebSocket = require('ws');

const url = process.argv[2];
const long = 'compressible '.repeat(5000);
const seqSizes = [0, 1, 125, 126, 0, 65535, 65536, 0, 1];
const letters = (n, i) => Buffer.from(Array.from({ length: n }, (_, j) => 97 + ((i * 31 + j * 7) % 26)));
const sent = process.argv[3] === 'seq'
  ? [...seqSizes.map((n, i) => letters(n, i).toString()), ...seqSizes.map((n, i) => letters(n, i + 1))]
  : ['hello', long, Buffer.from([0, 1, 2, 255])];
const options = JSON.parse(process.argv[4] || '{}');
const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0, ...options } });
const got = [];
const done = (ok, why) => {
  process.stdout.write(JSON.stringify({ extensions: ws.extensions || null, ok, why }) + '\n');
  process.exit(ok ? 0 : 1);
};
setTimeout(() => done(false, 'timeout'), 10000);
ws.on('open', () => sent.forEach((m) => ws.send(m)));
ws.on('error', (e) => done(false, String(e)));
ws.on('message', (data, isBinary) => {
  got.push(isBinary ? Buffer.from(data) : data.toString('utf8'));
  if (got.length < sent.length) return;
  const same = sent.every((m, i) => (Buffer.isBuffer(m) ? m.equals(got[i]) : m === got[i]));
  ws.close(1000);
  done(same, same ? null : 'echoes differ');
});
