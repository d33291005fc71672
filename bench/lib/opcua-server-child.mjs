/**
 * One OPC UA server for the "opcua" bench scenario, in its own process (as a
 * device would be): `node opcua-server-child.mjs PORT VARIABLES PKI_DIR`.
 * Variables Device/Bench/V000.. are Doubles that all change every 100 ms
 * (a sine with a per-variable phase), so a 100 ms subscription without a
 * deadband notifies every one of them at 10 Hz. Prints "ready" once listening.
 */
import { startDeviceServer } from '@medtel/simulators/opcua';

const [port, count, pkiDir] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
let tick = 0;
const timer = setInterval(() => {
  tick += 1;
}, 100);
const points = Array.from({ length: count }, (_, i) => ({
  path: `Bench/V${String(i).padStart(3, '0')}`,
  type: 'Double',
  read: () => ({ value: Math.round(Math.sin((tick + i) / 10) * 1e6) / 1e3 }),
}));
const server = await startDeviceServer({
  port,
  namespaceUri: 'urn:medtel:bench',
  productName: 'medtel bench server',
  identity: { manufacturer: 'medtel bench', model: 'BENCH-UA', serial: `UA-${port}`, firmware: '1' },
  points,
  methods: [],
  pkiDir,
  acceptAnyClient: true,
  refreshMs: 100,
});
process.stdout.write('ready\n');
const stop = async () => {
  clearInterval(timer);
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Exit with the bench: a server must never outlive it.
process.stdin.on('end', stop);
process.stdin.resume();
