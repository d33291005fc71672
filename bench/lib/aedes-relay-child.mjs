/**
 * A peer broker of the `peers` scenario in its own process: Aedes 1.x (the
 * collector's broker library) on a plain TCP port, in one of two modes:
 *
 *   raw      no persistence at all: PUBACK as soon as Aedes has the message
 *   durable  the bare durable relay: authorizePublish parses each data
 *            message and calls back only once its readings are committed to
 *            SQLite (lib/bare-durable.mjs), so the PUBACK means "on disk"
 *
 * Neither authenticates (the generator still sends the gateway's username and
 * password, as it does to medtel). Forked by lib/peer-brokers.mjs; argv:
 * <mode> <port> [sqlite file]. IPC: child -> {type:'ready'} once listening;
 * parent -> {type:'stats'} -> child {type:'stats', messages, readings, commits,
 * errors, malformed}. Leaves when the IPC channel closes or on SIGTERM.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { openBareDurable } from './bare-durable.mjs';

const [mode, portArg, file] = process.argv.slice(2);
const store = mode === 'durable' ? openBareDurable(file) : undefined;
let malformed = 0;

const broker = await Aedes.createBroker(
  store
    ? {
        authorizePublish: (_client, packet, done) => {
          // medtel/v1/<site>/<gateway>/dev/<device>/data
          const parts = packet.topic.split('/');
          if (parts.length !== 7 || parts[6] !== 'data') return done(null);
          let message;
          try {
            message = JSON.parse(packet.payload.toString('utf8'));
          } catch {
            malformed += 1;
            return done(new Error('malformed JSON'));
          }
          if (!Array.isArray(message?.readings)) {
            malformed += 1;
            return done(new Error('no readings'));
          }
          store.submit(parts[5], message, done);
        },
      }
    : {},
);
const server = createServer(broker.handle);
server.listen(Number(portArg), '127.0.0.1', () => process.send?.({ type: 'ready' }));

process.on('message', (msg) => {
  if (msg?.type !== 'stats') return;
  const c = store?.counts ?? { messages: 0, readings: 0, commits: 0, errors: 0 };
  process.send?.({ type: 'stats', ...c, malformed });
});
const stop = () => {
  server.close();
  broker.close(() => {
    store?.close();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
