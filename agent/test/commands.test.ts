import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, validateMessage, type CommandMessage } from '@medtel/shared';
import { CommandHandler, CommandLog, buildPayload, type DiagnosableDevice, type OutboxMessage } from '../dist/index.js';
import type { DiagnosticOutcome, DiagnosticRequest } from '../dist/drivers/types.js';
import { tempDir, waitFor } from '../../test/helpers.js';

/**
 * The command handler with fake devices (no Modbus here: the driver side is
 * tested against the simulator in modbus-diagnostics.test.ts) and a real
 * CommandLog on disk.
 */
const dir = tempDir();
afterAll(() => dir.remove());
let logNo = 0;

function fakeDevice(over: Partial<{ status: string; reason: string; canDiagnose: boolean; outcome: () => Promise<DiagnosticOutcome> }> = {}) {
  const calls: DiagnosticRequest[] = [];
  const device: DiagnosableDevice & { calls: DiagnosticRequest[] } = {
    calls,
    state: { id: 'pump-1', protocol: 'modbus-tcp', status: over.status ?? 'connected', ...(over.reason ? { reason: over.reason } : {}) },
    canDiagnose: over.canDiagnose ?? true,
    diagnostics: [
      { name: 'self_test', changesState: false, timeoutMs: 10_000 },
      { name: 'slow_test', changesState: false, timeoutMs: 200 },
    ],
    diagnose: async (request) => {
      calls.push(request);
      return over.outcome ? over.outcome() : { ok: true, result: { outcome: 'pass', code: 0 } };
    },
  };
  return device;
}

function setup(device: DiagnosableDevice, now?: () => number) {
  const sent: OutboxMessage[] = [];
  const log = new CommandLog(join(dir.path, `commands-${++logNo}.db`));
  const handler = new CommandHandler({
    site: 'ward-3',
    gateway: 'gw-1',
    devices: () => [device],
    enqueue: (m) => sent.push(...m),
    firstTime: (id) => log.firstTime(id),
    logger: createLogger({ name: 'test', level: 'silent' }),
    ...(now ? { now } : {}),
  });
  return { handler, sent, log };
}

const cmd = (over: Partial<CommandMessage> = {}, args: Record<string, unknown> = { test: 'self_test', timeoutMs: 5000 }): CommandMessage => ({
  v: 1,
  requestId: 'req-1',
  command: 'diagnostics',
  device: 'pump-1',
  args,
  issuedAt: Date.now(),
  expiresAt: Date.now() + 30_000,
  ...over,
});

/** The result as the collector would receive it: valid against the contract. */
function result(m: OutboxMessage | undefined) {
  expect(m?.topic).toBe('medtel/v1/ward-3/gw-1/res/req-1');
  expect(m?.kind).toBe('res');
  const decoded = validateMessage('res', JSON.parse(buildPayload({ seq: 1, body: JSON.stringify(m?.body) }, 1)));
  expect(decoded.ok).toBe(true);
  return m?.body as { requestId: string; ok: boolean; result?: Record<string, unknown>; error?: string };
}

describe('command handler', () => {
  it('runs a known test and puts its result in the outbox', async () => {
    const device = fakeDevice();
    const { handler, sent } = setup(device);
    handler.handle(cmd());
    await handler.settled();
    expect(device.calls).toEqual([{ test: 'self_test', timeoutMs: 5000 }]);
    expect(result(sent[0])).toEqual({ requestId: 'req-1', ok: true, result: { test: 'self_test', outcome: 'pass', code: 0 } });
  });

  it('runs a re-delivered request id once, also after a restart (the log is on disk)', async () => {
    const device = fakeDevice();
    const { handler, sent, log } = setup(device);
    handler.handle(cmd());
    handler.handle(cmd());
    await handler.settled();
    expect(device.calls).toHaveLength(1);
    expect(sent).toHaveLength(1);
    log.close();
    const reopened = new CommandLog(join(dir.path, `commands-${logNo}.db`));
    expect(reopened.firstTime('req-1')).toBe(false);
    expect(reopened.firstTime('req-2')).toBe(true);
    reopened.close();
  });

  it.each([
    ['an unknown device', cmd({ device: 'pump-9' }), fakeDevice(), /no device "pump-9" on gateway gw-1/],
    [
      'an unknown test',
      cmd({}, { test: 'warp_drive', timeoutMs: 5000 }),
      fakeDevice(),
      /pump-1 has no test "warp_drive" \(its profile defines: self_test, slow_test\)/,
    ],
    ['a driver without diagnose', cmd(), fakeDevice({ canDiagnose: false }), /the modbus-tcp driver cannot run diagnostics/],
    [
      'an unreachable device',
      cmd(),
      fakeDevice({ status: 'unreachable', reason: 'no answer from modbus-tcp 10.0.0.5:502 unit 1 within 1000 ms' }),
      /pump-1 is unreachable: no answer from modbus-tcp 10\.0\.0\.5:502 unit 1 within 1000 ms; the test was not started/,
    ],
    ['an expired request', cmd({ expiresAt: Date.now() - 1000 }), fakeDevice(), /the request expired at .* before the gateway received it/],
    ['an unknown command', cmd({ command: 'reboot' }), fakeDevice(), /unknown command "reboot"; this agent runs: diagnostics/],
    ['malformed arguments', cmd({}, { test: 'self_test' }), fakeDevice(), /malformed diagnostics arguments at "\/timeoutMs"/],
  ])('answers ok:false with a clear error for %s, without running anything', async (_name, command, device, error) => {
    const { handler, sent } = setup(device);
    handler.handle(command);
    await handler.settled();
    expect(device.calls).toEqual([]);
    const body = result(sent[0]);
    expect(body.ok).toBe(false);
    expect(body.error).toMatch(error);
  });

  it('runs one diagnostic at a time per device and refuses a second meanwhile', async () => {
    let finish: (o: DiagnosticOutcome) => void = () => undefined;
    let first = true;
    const device = fakeDevice({
      outcome: () => {
        if (!first) return Promise.resolve({ ok: true });
        first = false;
        return new Promise((r) => {
          finish = r;
        });
      },
    });
    const { handler, sent } = setup(device);
    handler.handle(cmd());
    await waitFor('first test running', () => device.calls.length === 1);
    handler.handle(cmd({ requestId: 'req-2' }));
    await waitFor('second refused', () => sent.length === 1);
    expect(sent[0]?.topic).toBe('medtel/v1/ward-3/gw-1/res/req-2');
    expect((sent[0]?.body as { error?: string } | undefined)?.error).toMatch(
      /pump-1 is already running "self_test" \(request req-1\); try again when it has finished/,
    );
    finish({ ok: true, result: { outcome: 'pass' } });
    await handler.settled();
    expect(result(sent[1])).toMatchObject({ ok: true });
    // Free again afterwards.
    handler.handle(cmd({ requestId: 'req-3' }));
    await handler.settled();
    expect(device.calls).toHaveLength(2);
    expect((sent[2]?.body as { ok?: boolean } | undefined)?.ok).toBe(true);
  });

  it('bounds the test by the profile, the request and the expiry, and answers if the driver hangs', async () => {
    const device = fakeDevice({ outcome: () => new Promise(() => undefined) });
    const { handler, sent } = setup(device);
    handler.handle(cmd({}, { test: 'slow_test', timeoutMs: 60_000 }));
    await handler.settled();
    expect(device.calls[0]?.timeoutMs).toBe(200); // the profile's limit is the tightest
    expect(result(sent[0])).toMatchObject({ ok: false, error: 'device pump-1 gave no result for "slow_test" within 200 ms' });
  });

  it('turns a driver exception into ok:false', async () => {
    const device = fakeDevice({ outcome: () => Promise.reject(new Error('socket exploded')) });
    const { handler, sent } = setup(device);
    handler.handle(cmd());
    await handler.settled();
    expect(result(sent[0])).toMatchObject({ ok: false, error: 'device pump-1: socket exploded' });
  });
});
