#!/usr/bin/env node
// npm run demo: a collector, a pump simulator and an agent wired together on
// loopback with embedded defaults. Logs go to .demo/logs/; Ctrl-C stops all.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSecret, hashSecret, issueToken, loadOrCreateSigningKey } from '@medtel/collector';
import { initKeyring } from '@medtel/shared';
import { seedDemo } from './demo-seed.mjs';
import { createProcessGroup } from './lib/demo-processes.mjs';
import { portNear } from './lib/free-port.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = join(root, '.demo');
const say = (line) => process.stdout.write(`${line}\n`);

const group = createProcessGroup({ cwd: dir, logDir: join(dir, 'logs'), say, onUnexpectedExit: () => shutdown(1) });
const start = (name, workspace, args, readyPattern) => group.start(name, join(root, workspace, 'dist', 'cli.js'), args, readyPattern);

async function shutdown(code = 0) {
  if (group.isStopping()) return;
  say('\ndemo: stopping agent, simulator and collector...');
  // Agent first, so its last readings still reach the collector.
  await group.stopAll(['agent', 'pump-sim', 'ventilator-sim', 'plugged-vent-sim', 'ecg-sim', 'xray-sim', 'mri-sim', 'ct-sim', 'collector']);
  say('demo: stopped. Data kept in .demo/ until the next run.');
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

async function main() {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'serial-by-id'));
  const ports = {
    mqtt: await portNear(1883),
    http: await portNear(8080),
    modbus: await portNear(5020),
    agent: await portNear(9464),
    // Serial devices in terminal-server mode (raw TCP), so the demo needs no socat.
    vent: await portNear(4001),
    ecg: await portNear(4002),
    xray: await portNear(4003),
    // A second ventilator that is in no config: plug and play finds it on this listed terminal-server port.
    unlisted: await portNear(4004),
    mri: await portNear(4840),
    ct: await portNear(4841),
  };
  const secret = generateSecret();
  writeFileSync(join(dir, 'gateway.secret'), `${secret}\n`, { mode: 0o600 });
  // The gateway's PHI keyring: the simulated devices carry synthetic patients, sealed by the agent (docs/phi.md).
  initKeyring(join(dir, 'keyring.json'));
  writeFileSync(
    join(dir, 'collector.yaml'),
    `# written by npm run demo\nmqtt: { host: 127.0.0.1, port: ${ports.mqtt}, plain: { enabled: true } }\nhttp: { host: 127.0.0.1, port: ${ports.http} }\nstore: { path: ./data/collector.db }\nauth: { keyFile: ./data/token-signing.key }\nalerts: { calibrationCheckEvery: 5s }\ngateways:\n  - id: gw-demo\n    secretHash: "${await hashSecret(secret)}"\n`,
  );
  writeFileSync(
    join(dir, 'agent.yaml'),
    `# written by npm run demo\ngateway: { id: gw-demo, site: demo-hospital }\ncollector: { url: "mqtt://127.0.0.1:${ports.mqtt}", secretFile: gateway.secret }\nstateDir: ./data/agent\nhttp: { port: ${ports.agent} }\nphi: { keyring: keyring.json }\n` +
      `# plug and play (docs/plug-and-play.md): links appearing in ./serial-by-id are probed, and so is the listed terminal-server port\n` +
      `discovery:\n  serial: { watchDir: ./serial-by-id, rescanInterval: 2s, tcp: ["tcp://127.0.0.1:${ports.unlisted}"] }\ndevices:\n  - id: pump-1\n    profile: medtel-mt-lvp-100\n    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${ports.modbus}, unitId: 1 }\n    pollInterval: 1s\n` +
      `  - id: vent-1\n    profile: medtel-mt-vent-500\n    connection: { protocol: medibus, path: "tcp://127.0.0.1:${ports.vent}" }\n    pollInterval: 1s\n` +
      `  - id: ecg-1\n    profile: medtel-mt-ecg-12\n    connection: { protocol: medtel-ecg, path: "tcp://127.0.0.1:${ports.ecg}" }\n` +
      `  - id: xray-1\n    profile: medtel-mt-xr-80\n    connection: { protocol: modbus-rtu, path: "tcp://127.0.0.1:${ports.xray}", unitId: 1 }\n    pollInterval: 1s\n` +
      `  - id: xray-2\n    profile: medtel-mt-xr-80\n    connection: { protocol: modbus-rtu, path: "tcp://127.0.0.1:${ports.xray}", unitId: 2 }\n    pollInterval: 1s\n` +
      `  - id: mri-1\n    profile: medtel-mt-mr-15\n    connection: { protocol: opcua, endpoint: "opc.tcp://127.0.0.1:${ports.mri}/medtel" }\n` +
      // Demo mode only: a real CT's certificate is trusted with `medtel-agent opcua trust` (docs/opcua.md).
      `  - id: ct-1\n    profile: medtel-mt-ct-64\n    connection:\n      protocol: opcua\n      endpoint: "opc.tcp://127.0.0.1:${ports.ct}/medtel"\n      security: { mode: SignAndEncrypt, policy: Basic256Sha256 }\n      demoAcceptAnyServerCertificate: true\n`,
  );

  say('demo: starting collector...');
  await start('collector', 'collector', ['run', '--config', 'collector.yaml'], /collector started/);
  say('demo: starting infusion-pump simulator (Modbus TCP)...');
  await start(
    'pump-sim',
    'simulators',
    [
      'pump',
      '--modbus-tcp',
      `127.0.0.1:${ports.modbus}`,
      '--serial',
      'DEMO-0001',
      '--scenario',
      'occlusion',
      '--occlusion-after',
      '60s',
      '--occlusion-duration',
      '30s',
      '--patient-seed',
      '42',
      '--patient-stay',
      '10m',
    ],
    /pump simulator listening/,
  );
  say('demo: starting ventilator, ECG monitor and X-ray generators (serial, terminal-server mode)...');
  await start(
    'ventilator-sim',
    'simulators',
    [
      'ventilator',
      '--tcp',
      `127.0.0.1:${ports.vent}`,
      '--serial',
      'DEMO-VENT-1',
      '--scenario',
      'apnea',
      '--scenario-after',
      '45s',
      '--scenario-for',
      '20s',
      '--patient-seed',
      '43',
    ],
    /simulator listening/,
  );
  await start(
    'ecg-sim',
    'simulators',
    ['ecg', '--tcp', `127.0.0.1:${ports.ecg}`, '--serial', 'DEMO-ECG-1', '--leads', '3', '--rate', '250', '--patient-seed', '44'],
    /simulator listening/,
  );
  await start('xray-sim', 'simulators', ['xray', '--tcp', `127.0.0.1:${ports.xray}`, '--units', '1,2'], /simulator listening/);
  await start('plugged-vent-sim', 'simulators', ['ventilator', '--tcp', `127.0.0.1:${ports.unlisted}`, '--serial', 'DEMO-VENT-2'], /simulator listening/);
  say('demo: starting MRI and CT simulators (OPC UA)...');
  await Promise.all([
    start(
      'mri-sim',
      'simulators',
      [
        'mri',
        '--opcua-port',
        String(ports.mri),
        '--pki',
        './data/mri-pki',
        '--serial',
        'DEMO-MR-1',
        '--scenario',
        'helium-leak',
        '--scenario-after',
        '30s',
        '--leak-rate',
        '30',
      ],
      /simulator listening/,
    ),
    start('ct-sim', 'simulators', ['ct', '--opcua-port', String(ports.ct), '--pki', './data/ct-pki', '--serial', 'DEMO-CT-1'], /simulator listening/),
  ]);
  say('demo: starting agent...');
  await start('agent', 'agent', ['run', '--config', 'agent.yaml'], /agent started/);

  const api = `http://127.0.0.1:${ports.http}/api/v1`;
  // The collector created its signing key at start: a technician's token for the
  // demo user, and an admin's for reading the audit trail.
  const key = await loadOrCreateSigningKey(join(dir, 'data', 'token-signing.key'));
  const token = await issueToken(key, { sub: 'demo-technician', role: 'technician', ttl: '8h' });
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'admin-token'), `${await issueToken(key, { sub: 'demo-admin', role: 'admin', ttl: '8h' })}\n`, { mode: 0o600 });
  // Wait for the first readings so the printed URL shows data at once.
  for (let i = 0; i < 60; i++) {
    const res = await fetch(`${api}/devices/gw-demo.pump-1/telemetry?limit=1`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    if (res?.ok && (await res.json()).count > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await seedDemo(api, token, 'gw-demo.pump-1');
  say('');
  say('medtel demo is running: collector + device simulators + agent, on loopback.');
  say('');
  say(`  Dashboard:   http://127.0.0.1:${ports.http}/   (sign in: paste the contents of .demo/token, a technician; docs/dashboard.md)`);
  say(`  API:         ${api}/devices   (a technician's token, valid 8 h, is in .demo/token)`);
  say(`  Try:         TOKEN=$(cat .demo/token)`);
  say(`               curl -s -H "Authorization: Bearer $TOKEN" '${api}/devices/gw-demo.pump-1/telemetry?metric=rate&limit=5'`);
  say(`  API docs:    http://127.0.0.1:${ports.http}/api/docs   (Authorize with the token)`);
  say('  Walkthrough: docs/walkthrough.md (an overdue calibration, an occlusion alert, a self-test, the audit trail)');
  say(`  Metrics:     http://127.0.0.1:${ports.http}/metrics  (agent: http://127.0.0.1:${ports.agent}/metrics)`);
  say('  Logs:        .demo/logs/   Configs: .demo/*.yaml');
  say('  Scenario:    the pump is overdue for calibration (alert within 5 s); its line occludes after 60 s');
  say('               (pressure rises, device alarm and a pressure-rule alert) and clears 30 s later.');
  say('  Serial:      vent-1 (apnea alarm after 45 s), ecg-1 (3 leads at 250 Hz + numerics), xray-1 and xray-2 (one RTU line)');
  say(`               curl -s -H "Authorization: Bearer $TOKEN" '${api}/devices/gw-demo.ecg-1/telemetry?metric=heart_rate&limit=5'`);
  say('  Patients:    synthetic, sealed on the gateway; the collector sees pseudonyms only (docs/phi.md):');
  say(`               curl -s -H "Authorization: Bearer $TOKEN" '${api}/subjects'`);
  say('               medtel-collector phi open -c .demo/collector.yaml --keyring .demo/keyring.json \\');
  say('                 --device gw-demo.pump-1 --reason "demo" --actor you   (audited)');
  say('  OPC UA:      mri-1 (helium leak from 30 s: a boil-off alert within ~2 min), ct-1 (SignAndEncrypt, demo trust mode)');
  say(`               curl -s -H "Authorization: Bearer $TOKEN" '${api}/devices/gw-demo.mri-1/telemetry?metric=helium_level&limit=5'`);
  say('  Plug&play:   a second ventilator is in no config: it appears awaiting approval, and a technician approves it:');
  say(`               curl -s -H "Authorization: Bearer $TOKEN" '${api}/devices?approval=pending'`);
  say(`               curl -s -H "Authorization: Bearer $TOKEN" '${api}/gateways/gw-demo/ports'`);
  say('               plug in another (needs socat): node simulators/dist/cli.js ventilator --pty .demo/serial-by-id/usb-vent-3 --serial VT-3');
  say('               (docs/plug-and-play.md)');
  say('');
  say('Press Ctrl-C to stop.');
}

main().catch((err) => {
  say(`demo: ${err.message}`);
  shutdown(1);
});
