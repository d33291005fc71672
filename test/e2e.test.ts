import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '@medtel/collector';
import { type Proc, freePort, getJson, startCli, tempDir, waitFor } from './helpers.js';

/**
 * The whole chain as separate processes, as it runs in a hospital:
 * pump simulator --Modbus TCP--> agent --MQTT--> collector --HTTP--> test.
 */
const dir = tempDir('medtel-e2e-');
const procs: Proc[] = [];
let ports: { mqtt: number; http: number; modbus: number; modbus2: number; agentHttp: number };
let collector: Proc;
let token = '';
const api = (path: string) => getJson<Record<string, unknown>>(`http://127.0.0.1:${ports.http}${path}`, token);
type Reading = { t: string; metric: string; value: unknown; code: number | null; unit: string | null; unitCode: number | null };

function startCollector(): Proc {
  const p = startCli('collector', ['run', '--config', join(dir.path, 'collector.yaml')], dir.path);
  procs.push(p);
  return p;
}

beforeAll(async () => {
  ports = { mqtt: await freePort(), http: await freePort(), modbus: await freePort(), modbus2: await freePort(), agentHttp: await freePort() };
  const secret = 'e2e-secret-0123456789abcdef';
  writeFileSync(join(dir.path, 'gateway.secret'), `${secret}\n`);
  writeFileSync(
    join(dir.path, 'collector.yaml'),
    `mqtt: { port: ${ports.mqtt}, plain: { enabled: true } }\nhttp: { port: ${ports.http} }\nstore: { path: ./collector/collector.db }\ngateways:\n  - id: gw-e2e\n    secretHash: "${await hashSecret(secret)}"\n`,
  );
  writeFileSync(
    join(dir.path, 'agent.yaml'),
    [
      'gateway: { id: gw-e2e, site: ward-3 }',
      `collector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secretFile: gateway.secret, reconnectMin: 200ms, reconnectMax: 1s }`,
      'stateDir: ./agent-state',
      `http: { port: ${ports.agentHttp} }`,
      'devices:',
      '  - id: pump-1',
      '    profile: medtel-mt-lvp-100',
      `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${ports.modbus}, unitId: 1 }`,
      '    pollInterval: 250ms',
      '    timeout: 500ms',
      '  - id: pump-2',
      '    profile: medtel-mt-lvp-100',
      `    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${ports.modbus2} }`,
      '    pollInterval: 250ms',
    ].join('\n'),
  );
  collector = startCollector();
  await collector.waitForLine(/collector started/);
  const issued = startCli('collector', ['token', 'issue', '--config', join(dir.path, 'collector.yaml'), '--sub', 'e2e', '--role', 'viewer', '--ttl', '1h']);
  expect(await issued.exited()).toBe(0);
  token = issued.output().trim();
  const sim = startCli('simulators', [
    'pump',
    '--modbus-tcp',
    `127.0.0.1:${ports.modbus}`,
    '--serial',
    'E2E-0042',
    '--drug',
    'Dopamine',
    '--rate',
    '42.5',
    '--vtbi',
    '250',
    '--seed',
    '7',
  ]);
  procs.push(sim);
  await sim.waitForLine(/pump simulator listening/);
  // A second pump whose line blocks after 1 s (pressure passes the 300 mmHg limit ~6 s later) and clears at 10 s.
  const occluding = startCli('simulators', [
    'pump',
    '--modbus-tcp',
    `127.0.0.1:${ports.modbus2}`,
    '--serial',
    'E2E-0043',
    '--scenario',
    'occlusion',
    '--occlusion-after',
    '1s',
    '--occlusion-duration',
    '9s',
  ]);
  procs.push(occluding);
  await occluding.waitForLine(/pump simulator listening/);
  const agent = startCli('agent', ['run', '--config', join(dir.path, 'agent.yaml')], dir.path);
  procs.push(agent);
  await agent.waitForLine(/agent started/);
});

afterAll(async () => {
  // Agent first (its graceful stop talks to the collector), then the rest.
  for (const p of [...procs].reverse()) await p.stop();
  dir.remove();
});

describe('end to end: simulator -> agent -> collector -> API', () => {
  it("serves the pump's identity and readings with IEEE 11073 codes, units and the simulator's values", async () => {
    const device = await waitFor('the pump in the registry', async () => {
      const res = await api('/api/v1/devices/gw-e2e.pump-1');
      return res.status === 200 && res.body.serial ? res.body : undefined;
    });
    expect(device).toMatchObject({
      site: 'ward-3',
      type: 'infusion-pump',
      deviceCode: 69985,
      model: 'MT-LVP-100',
      serial: 'E2E-0042',
      firmware: '1.4.2',
      status: 'connected',
      gatewayState: 'online',
    });
    const latest = await waitFor('a full set of readings', async () => {
      const res = await api('/api/v1/devices/gw-e2e.pump-1/telemetry?limit=12');
      const readings = res.body.readings as Reading[];
      return readings?.length === 12 ? new Map(readings.map((r) => [r.metric, r])) : undefined;
    });
    expect(latest.get('rate')).toMatchObject({ value: 42.5, code: 157784, unit: 'mL/h', unitCode: 265266 });
    expect(latest.get('vtbi')).toMatchObject({ value: 250, code: 157884, unit: 'mL', unitCode: 263762 });
    expect(latest.get('volume_infused')).toMatchObject({ code: 157993, unit: 'mL' });
    expect(latest.get('line_pressure')).toMatchObject({ code: 157836, unit: 'mm[Hg]', unitCode: 266016 });
    expect(latest.get('state')?.value).toBe('running');
    expect(latest.get('drug_name')?.value).toBe('Dopamine');
  });

  it("turns the pump's occlusion alarm bit into alarm start and end messages", async () => {
    type Alarm = { alarm: string; phase: string; code: number; priority: string };
    const alarms = await waitFor(
      'occlusion start and end',
      async () => {
        const list = (await api('/api/v1/devices/gw-e2e.pump-2/alarms')).body.alarms as Alarm[] | undefined;
        return list?.some((a) => a.phase === 'end') ? list : undefined;
      },
      30_000,
    );
    expect(alarms.map((a) => `${a.alarm}:${a.phase}`).reverse()).toEqual(['occlusion:start', 'occlusion:end']);
    expect(alarms[0]).toMatchObject({ code: 196940, priority: 'high' });
    const pressure = (await api('/api/v1/devices/gw-e2e.pump-2/telemetry?metric=line_pressure&limit=10000')).body.readings as Reading[];
    expect(Math.max(...pressure.map((r) => r.value as number))).toBeGreaterThan(300);
  });

  it('loses nothing and stores nothing twice when the collector is killed mid-stream and restarted', async () => {
    const count = async () => ((await api('/api/v1/devices/gw-e2e.pump-1/telemetry?metric=rate&limit=10000')).body.readings as Reading[]).length;
    await waitFor('some data before the kill', async () => (await count()) >= 4);
    const killedAt = Date.now();
    await collector.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 3000)); // ~12 polls happen while the collector is down
    collector = startCollector();
    await collector.waitForLine(/collector started/);
    // Wait until the agent's outbox is empty and readings taken after the restart have arrived.
    await waitFor(
      'outbox drained',
      async () => {
        const ready = await getJson<{ outbox: { rows: number } }>(`http://127.0.0.1:${ports.agentHttp}/readyz`);
        const rows = await api('/api/v1/devices/gw-e2e.pump-1/telemetry?metric=rate&limit=1');
        const newest = Date.parse((rows.body.readings as Reading[])[0]?.t ?? '0');
        return ready.body.outbox.rows === 0 && newest > Date.now() - 1000;
      },
      30_000,
    );
    const readings = (await api('/api/v1/devices/gw-e2e.pump-1/telemetry?metric=rate&limit=10000')).body.readings as Reading[];
    const times = readings.map((r) => Date.parse(r.t)).sort((a, b) => a - b);
    expect(new Set(times).size).toBe(times.length); // none twice
    const during = times.filter((t) => t > killedAt && t < killedAt + 3000);
    expect(during.length).toBeGreaterThanOrEqual(8); // polled while the collector was down, delivered afterwards
    const largestHole = Math.max(...times.slice(1).map((t, i) => t - (times[i] as number)));
    expect(largestHole).toBeLessThan(1000); // polls every 250 ms: no run of readings is missing

    // And by sequence number: every message the agent wrote (seq 1..max) is in the store exactly once.
    const db = new Database(join(dir.path, 'collector', 'collector.db'), { readonly: true });
    const seqs = (db.prepare("SELECT seq FROM received WHERE gateway = 'gw-e2e' ORDER BY seq").all() as Array<{ seq: number }>).map((r) => r.seq);
    const perMessage = db
      .prepare("SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id WHERE s.device_id = 'gw-e2e.pump-1' GROUP BY r.seq HAVING n != 12")
      .all();
    db.close();
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(perMessage).toEqual([]);
  });
});

describe('end to end: the gateway vanishes', () => {
  it('marks the gateway and its devices offline when the agent dies without saying goodbye (last will)', async () => {
    const agent = procs.find((p) => p.output().includes('agent started'));
    await agent?.stop('SIGKILL');
    const gateway = await waitFor('gateway offline', async () => {
      const items = (await api('/api/v1/gateways')).body.items as Array<{ id: string; state: string }>;
      return items.find((g) => g.id === 'gw-e2e' && g.state === 'offline');
    });
    expect(gateway).toBeDefined();
    expect((await api('/api/v1/devices/gw-e2e.pump-1')).body).toMatchObject({ gatewayState: 'offline', connectivity: 'offline' });
  });
});

describe('operator commands', () => {
  it('audit verify checks the store it is pointed at, and token issue refuses an unknown role', async () => {
    const verify = startCli('collector', ['audit', 'verify', '--config', join(dir.path, 'collector.yaml')], dir.path);
    expect(await verify.exited()).toBe(0);
    expect(verify.output()).toMatch(/audit trail intact: 0 entries/);
    const bad = startCli('collector', ['token', 'issue', '--config', join(dir.path, 'collector.yaml'), '--sub', 'x', '--role', 'superuser']);
    expect(await bad.exited()).toBe(2);
    expect(bad.output().trim()).toBe('medtel-collector: --role: found "superuser", expected one of viewer, technician, clinician, admin');
  });
});

describe('bad configuration', () => {
  it('agent: one line naming file and field, exit code 2, no stack trace', async () => {
    const file = join(dir.path, 'bad-agent.yaml');
    writeFileSync(
      file,
      'gateway: { id: gw-x, site: s }\ncollector: { secret: x }\ndevices:\n  - id: p\n    profile: medtel-mt-lvp-100\n    connection: { protocol: modbus-tcp, host: h, port: 99999 }\n',
    );
    const agent = startCli('agent', ['run', '--config', file], dir.path);
    expect(await agent.exited()).toBe(2);
    expect(agent.output().trim()).toBe(`medtel-agent: ${file}: devices[0].connection.port: found 99999, expected an integer >= 1 and <= 65535`);
  });

  it('agent: an unknown profile and an unknown protocol are named', async () => {
    const file = join(dir.path, 'bad-agent-2.yaml');
    writeFileSync(
      file,
      'gateway: { id: gw-x, site: s }\ncollector: { secret: x }\ndevices:\n  - id: p\n    profile: no-such-pump\n    connection: { protocol: modbus-tcp, host: h }\n',
    );
    const a = startCli('agent', ['check', '--config', file], dir.path);
    expect(await a.exited()).toBe(2);
    expect(a.output()).toMatch(/devices\[0\]\.profile: no profile "no-such-pump"/);
    writeFileSync(
      file,
      'gateway: { id: gw-x, site: s }\ncollector: { secret: x }\ndevices:\n  - id: p\n    profile: medtel-mt-lvp-100\n    connection: { protocol: carrier-pigeon }\n',
    );
    const b = startCli('agent', ['check', '--config', file], dir.path);
    expect(await b.exited()).toBe(2);
    expect(b.output()).toMatch(/devices\[0\]\.connection\.protocol: found "carrier-pigeon", expected one of modbus-tcp/);
  });

  it('collector: one line naming file and field, exit code 2', async () => {
    const file = join(dir.path, 'bad-collector.yaml');
    writeFileSync(file, 'mqtt: { port: 1883 }\ngateways:\n  - id: gw-1\n    secretHash: plaintext-secret\n');
    const c = startCli('collector', ['run', '--config', file], dir.path);
    expect(await c.exited()).toBe(2);
    expect(c.output().trim()).toBe(
      `medtel-collector: ${file}: gateways[0].secretHash: found "plaintext-secret", expected a hash printed by \`medtel-collector hash-secret\``,
    );
  });
});
