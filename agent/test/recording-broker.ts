import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { freePort } from '../../test/helpers.js';

export type RecordedMessage = { topic: string; body: Record<string, unknown> };

export interface RecordingBroker {
  url: string;
  /** Every message published under medtel/v1/#, in arrival order, JSON-decoded. */
  messages: RecordedMessage[];
  latest(topic: string): Record<string, unknown> | undefined;
}

/**
 * A plain in-process Aedes broker with a subscriber recording everything the
 * agent publishes: the agent-side plug-and-play tests check the agent's MQTT
 * output without a collector. `cleanup` receives the tear-down steps.
 */
export async function startRecordingBroker(cleanup: Array<() => Promise<void> | void>): Promise<RecordingBroker> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => aedes.close(() => server.close(() => r()))));
  const url = `mqtt://127.0.0.1:${port}`;
  const messages: RecordedMessage[] = [];
  const client = await mqtt.connectAsync(url, { clientId: 'test-watcher' });
  cleanup.push(() => client.endAsync(true));
  client.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) }));
  await client.subscribeAsync('medtel/v1/#', { qos: 1 });
  return { url, messages, latest: (topic) => messages.filter((m) => m.topic === topic).at(-1)?.body };
}
