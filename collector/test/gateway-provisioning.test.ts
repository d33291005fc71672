import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGateway, dataPayload, publishAcked, startTestCollector } from './collector-fixture.js';
import { startCli, waitFor } from '../../test/helpers.js';

/** Provisioning, rotation and revocation through the API and the CLI, checked over real MQTT. */
let collector: Awaited<ReturnType<typeof startTestCollector>>;
let admin: string;
beforeAll(async () => {
  collector = await startTestCollector({
    configure: (config) => {
      // The CLI runs in another process; the collector looks for its changes this often.
      config.mqtt.credentialCheckEvery = '200ms';
    },
  });
  admin = await collector.token('admin');
});
afterAll(async () => {
  await collector?.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${collector.httpUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads response JSON loosely
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
const closed = (client: MqttClient) => new Promise<void>((r) => (client.connected ? client.once('close', () => r()) : r()));
const topic = (site: string, gw: string) => `medtel/v1/${site}/${gw}/dev/pump-1/data`;

describe('gateway provisioning through the API', () => {
  it('the config list seeded the store', async () => {
    const list = await call('GET', '/gateways/credentials');
    expect(list.status).toBe(200);
    expect(list.body.items.map((g: { id: string }) => g.id)).toEqual(expect.arrayContaining(['gw-1', 'gw-2']));
    expect(JSON.stringify(list.body)).not.toMatch(/scrypt/);
  });

  it('adds a gateway with a 256-bit secret shown once; the gateway connects with it; a second add is 409', async () => {
    const added = await call('POST', '/gateways', { id: 'gw-new', site: 'ward-3', reason: 'new box for ward 3' });
    expect(added.status).toBe(201);
    expect(added.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(added.body.gateway).toMatchObject({ id: 'gw-new', site: 'ward-3', auth: 'secret', state: 'active', version: 1 });
    const client = await connectGateway(collector.mqttPort, 'gw-new', added.body.secret);
    await publishAcked(client, topic('ward-3', 'gw-new'), dataPayload(1));
    client.end(true);
    expect((await call('POST', '/gateways', { id: 'gw-new' })).status).toBe(409);
    const one = await call('GET', '/gateways/gw-new/credential');
    expect(one.body).toMatchObject({ id: 'gw-new', state: 'active' });
    expect(one.body.secret).toBeUndefined();
  });

  it('rotating the secret closes the live session; the old secret is refused, the new one works', async () => {
    const added = await call('POST', '/gateways', { id: 'gw-rot' });
    const client = await connectGateway(collector.mqttPort, 'gw-rot', added.body.secret);
    const gone = closed(client);
    const rotated = await call('POST', '/gateways/gw-rot/rotate-secret', { reason: 'secret seen in a ticket' }, { 'if-match': '"1"' });
    expect(rotated.status).toBe(200);
    await gone;
    client.end(true);
    await expect(connectGateway(collector.mqttPort, 'gw-rot', added.body.secret)).rejects.toMatchObject({ code: 4 });
    (await connectGateway(collector.mqttPort, 'gw-rot', rotated.body.secret)).end(true);
    // stale If-Match
    expect((await call('POST', '/gateways/gw-rot/rotate-secret', {}, { 'if-match': '"1"' })).status).toBe(409);
  });

  it('revoking disconnects a connected gateway at once and keeps it out; audited without the hash', async () => {
    const added = await call('POST', '/gateways', { id: 'gw-stolen' });
    const client = await connectGateway(collector.mqttPort, 'gw-stolen', added.body.secret);
    const gone = closed(client);
    const revoked = await call('POST', '/gateways/gw-stolen/revoke', { reason: 'box stolen from ward 3' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.gateway).toMatchObject({ state: 'revoked' });
    // "at once": the session is gone by the time the response has arrived (or within moments of it).
    await waitFor('the session closed', () => !collector.broker.isGatewayConnected('gw-stolen') || undefined, 2000, 20);
    await gone;
    client.end(true);
    await expect(connectGateway(collector.mqttPort, 'gw-stolen', added.body.secret)).rejects.toMatchObject({ code: 4 });
    expect(collector.log()).toMatch(/refused MQTT connection: unknown or revoked gateway/);
    expect((await call('POST', '/gateways', { id: 'gw-stolen' })).status).toBe(409);
    expect((await call('POST', '/gateways/gw-404/revoke', {})).status).toBe(404);
    const audit = await collector.store.audit.list({ objectType: 'gateway', objectId: 'gw-stolen' });
    expect(audit.items.map((e) => e.action).sort()).toEqual(['gateway:provision', 'gateway:revoke']);
    expect(audit.items.find((e) => e.action === 'gateway:revoke')).toMatchObject({ actor: 'test-admin', role: 'admin', reason: 'box stolen from ward 3' });
    expect(JSON.stringify(audit.items)).not.toMatch(/scrypt/);
  });
});

describe('gateway provisioning with the CLI, against a running collector', () => {
  it('add prints the secret once; revoke ends the live session within the check interval', async () => {
    const file = join(collector.dir, 'cli.yaml');
    writeFileSync(file, `store: { path: ${JSON.stringify(join(collector.dir, 'collector.db'))} }\n`);
    const add = startCli('collector', ['gateway', 'add', 'gw-cli', '--site', 'lab', '--config', file]);
    expect(await add.exited()).toBe(0);
    const secret = add.output().match(/^secret: (\S+)$/m)?.[1] as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const client = await connectGateway(collector.mqttPort, 'gw-cli', secret);
    await publishAcked(client, topic('lab', 'gw-cli'), dataPayload(1));
    const gone = closed(client);
    const revoke = startCli('collector', ['gateway', 'revoke', 'gw-cli', '--reason', 'decommissioned', '--config', file]);
    expect(await revoke.exited()).toBe(0);
    await gone;
    client.end(true);
    await expect(connectGateway(collector.mqttPort, 'gw-cli', secret)).rejects.toMatchObject({ code: 4 });
    const list = startCli('collector', ['gateway', 'list', '--json', '--config', file]);
    expect(await list.exited()).toBe(0);
    expect(JSON.parse(list.output())).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'gw-cli', state: 'revoked', site: 'lab' })]));
    const again = startCli('collector', ['gateway', 'add', 'gw-cli', '--config', file]);
    expect(await again.exited()).toBe(1);
    expect(again.output()).toMatch(/gateway "gw-cli" is revoked; a revoked id is not reused/);
  });
});
