// RFC 8441 echo for bench/run.sh (B8, bench --http2 --h2-connections): h2c (prior knowledge) on 127.0.0.1, port 0,
// advertising SETTINGS_ENABLE_CONNECT_PROTOCOL; each extended CONNECT :protocol websocket stream
// gets :status 200 and every text/binary frame echoed unmasked (small frames, no fragmentation);
// a close frame is answered and the stream ended. Writes the port to argv[2]; counts sessions.
'use strict';
const http2 = require('http2');
const fs = require('fs');
let sessions = 0;
const server = http2.createServer({ settings: { enableConnectProtocol: true, maxConcurrentStreams: 100000 } });
server.on('session', () => { sessions++; fs.writeFileSync(process.argv[2] + '.sessions', String(sessions)); });
server.on('stream', (stream, headers) => {
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
    stream.respond({ ':status': 400 }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 200 });
  let buf = Buffer.alloc(0);
  stream.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      const op = buf[0] & 0x0f;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const masked = buf[1] & 0x80;
      const need = off + (masked ? 4 : 0) + len;
      if (buf.length < need) return;
      const key = masked ? buf.subarray(off, off + 4) : null;
      const payload = Buffer.from(buf.subarray(off + (masked ? 4 : 0), need));
      if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      buf = buf.subarray(need);
      let head;
      if (payload.length < 126) head = Buffer.from([0x80 | op, payload.length]);
      else { head = Buffer.alloc(4); head[0] = 0x80 | op; head[1] = 126; head.writeUInt16BE(payload.length, 2); }
      if (op === 8) { stream.end(Buffer.concat([head, payload])); return; }
      if (op === 9) { stream.write(Buffer.concat([Buffer.from([0x8a, payload.length]), payload])); continue; }
      if (op === 1 || op === 2) stream.write(Buffer.concat([head, payload]));
    }
  });
  stream.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(server.address().port)));
