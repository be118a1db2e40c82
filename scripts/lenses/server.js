// Real peers for the lens interop (scripts/lenses.sh): Node socket.io 4 on /socket.io/ and
// graphql-ws (graphql-transport-ws) on /graphql, one HTTP server on 127.0.0.1:PORT.
// socket.io: pingInterval 300 ms; the default namespace emits "welcome" on connect (before its
// CONNECT answer reaches the client, as python-socketio does), answers "chat" with an ack and an
// "echo", sends "blob" as a binary event on "bin"; /admin needs auth {token: "s3cret"}.
// graphql: query { hello }, subscription { greetings(who) } (three values, then complete).
// Logs "listening" once ready, and each thing it receives as a JSON line.
const http = require('http');
const { Server } = require('socket.io');
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { buildSchema } = require('graphql');

const port = Number(process.argv[2]);
const log = (o) => console.log(JSON.stringify(o));
const server = http.createServer();

const io = new Server(server, { pingInterval: 300, pingTimeout: 300, transports: ['websocket'], allowEIO3: true });
io.on('connection', (socket) => {
  log({ ns: '/', connected: socket.id, auth: socket.handshake.auth });
  socket.emit('welcome', { n: 1 });
  socket.on('chat', (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    log({ ns: '/', chat: args });
    socket.emit('echo', ...args);
    if (ack) ack('ok', args.length);
  });
  socket.on('bin', () => socket.emit('blob', Buffer.from([1, 2, 3, 4]), 'tail'));
  socket.on('bye', () => socket.disconnect(true));
});
io.of('/admin').use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === 's3cret') return next();
  next(new Error('not authorized'));
});
io.of('/admin').on('connection', (socket) => {
  log({ ns: '/admin', connected: socket.id });
  socket.emit('hello-admin', 'root');
});

const schema = buildSchema(`
  type Query { hello: String }
  type Subscription { greetings(who: String): String }
`);
const roots = {
  query: { hello: () => 'world' },
  subscription: {
    greetings: async function* ({ who }) {
      for (const hi of ['hi', 'bonjour', 'hola']) {
        yield { greetings: `${hi} ${who}` };
      }
    },
  },
};
const gql = new WebSocketServer({ noServer: true });
useServer(
  {
    schema,
    roots,
    onConnect: (ctx) => { log({ graphql: 'connection_init', payload: ctx.connectionParams }); return true; },
    onSubscribe: (_ctx, id) => log({ graphql: 'subscribe', id }),
  },
  gql,
);
server.on('upgrade', (req, socket, head) => {
  if (req.url.startsWith('/graphql')) {
    gql.handleUpgrade(req, socket, head, (ws) => gql.emit('connection', ws, req));
  }
});
server.listen(port, '127.0.0.1', () => log({ listening: port }));
