// A Node `ws` echo server as most are deployed, for `wscope probe` (issue 18): any Origin is
// accepted (ws checks none unless told), the default limits are kept (maxPayload 100 MiB), and
// errors a client provokes are handled, as a real server must (an unhandled 'error' event would
// end the process at the first protocol violation).
//
// Usage: NODE_PATH=.tools/node/node_modules node probe_server.js PORT   (binds 127.0.0.1)
// Prints {"event":"listening"} once it accepts connections.
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ host: '127.0.0.1', port });
wss.on('listening', () => process.stdout.write(JSON.stringify({ event: 'listening', port }) + '\n'));
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
