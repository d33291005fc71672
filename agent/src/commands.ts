import { DIAGNOSTICS_COMMAND, DiagnosticsCommandArgs, topics, type CommandMessage, type Logger } from '@medtel/shared';
import { Value } from '@sinclair/typebox/value';
import type { DiagnosticOutcome, DiagnosticRequest } from './drivers/types.js';
import type { OutboxMessage } from './outbox/index.js';

/** What the handler needs of a device (DeviceRunner implements it; tests use fakes). */
export interface DiagnosableDevice {
  readonly state: { id: string; protocol: string; status: string; reason?: string };
  readonly canDiagnose: boolean;
  readonly diagnostics: ReadonlyArray<{ name: string; changesState: boolean; timeoutMs: number }>;
  diagnose(request: DiagnosticRequest): Promise<DiagnosticOutcome>;
}

export interface CommandHandlerOptions {
  site: string;
  gateway: string;
  devices: () => DiagnosableDevice[];
  /** Commits result messages (the outbox: results survive a restart or a partition like any message). */
  enqueue: (messages: OutboxMessage[]) => void;
  /** True the first time a request id is seen (CommandLog): a re-delivered command runs once. */
  firstTime: (requestId: string) => boolean;
  logger: Logger;
  now?: () => number;
}

/**
 * Commands from the collector (`cmd/{requestId}`). Each one taken on gets
 * exactly one `res/{requestId}` through the outbox: the outcome, or ok:false
 * with the reason it could not run. Re-deliveries of a request id are
 * dropped. One diagnostic at a time per device: a second request while one
 * runs is refused (not queued), so nobody waits behind a test they cannot see.
 */
export class CommandHandler {
  private readonly running = new Map<string, { requestId: string; test: string }>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly o: CommandHandlerOptions) {
    this.now = o.now ?? Date.now;
  }

  handle(command: CommandMessage): void {
    const log = this.o.logger.child({ requestId: command.requestId, command: command.command, device: command.device });
    let first: boolean;
    try {
      first = this.o.firstTime(command.requestId);
    } catch (err) {
      // Without a durable record we cannot promise "once": do not run it (the collector times out).
      log.error({ err: (err as Error).message }, 'cannot record the command; not running it');
      return;
    }
    if (!first) {
      log.info('command re-delivered; it was taken on before, not running it again');
      return;
    }
    const task = this.run(command, log).catch((err) => {
      log.error({ err: (err as Error).message }, 'command failed unexpectedly');
      this.reply(command, { ok: false, error: `the agent failed while running the command: ${(err as Error).message}` });
    });
    this.inflight.add(task);
    void task.finally(() => this.inflight.delete(task));
  }

  /** Resolves when every command taken on has replied (for shutdown and tests). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private async run(command: CommandMessage, log: Logger): Promise<void> {
    const refuse = (error: string) => {
      log.warn({ error }, 'command refused');
      this.reply(command, { ok: false, error });
    };
    if (command.command !== DIAGNOSTICS_COMMAND) return refuse(`unknown command "${command.command}"; this agent runs: ${DIAGNOSTICS_COMMAND}`);
    const now = this.now();
    if (command.expiresAt !== undefined && now > command.expiresAt) {
      return refuse(
        `the request expired at ${new Date(command.expiresAt).toISOString()} before the gateway received it (gateway clock ${new Date(now).toISOString()}); send it again`,
      );
    }
    if (!Value.Check(DiagnosticsCommandArgs, command.args)) {
      const first = [...Value.Errors(DiagnosticsCommandArgs, command.args)][0];
      return refuse(`malformed diagnostics arguments${first ? ` at "${first.path || '/'}": ${first.message}` : ''}`);
    }
    const args = command.args as DiagnosticsCommandArgs;
    const device = this.o.devices().find((d) => d.state.id === command.device);
    if (!command.device || !device) return refuse(`no device "${command.device ?? ''}" on gateway ${this.o.gateway}`);
    if (!device.canDiagnose) return refuse(`device ${device.state.id}: the ${device.state.protocol} driver cannot run diagnostics`);
    const test = device.diagnostics.find((t) => t.name === args.test);
    if (!test) {
      const known = device.diagnostics.map((t) => t.name).join(', ') || 'none';
      return refuse(`device ${device.state.id} has no test "${args.test}" (its profile defines: ${known})`);
    }
    if (device.state.status !== 'connected') {
      return refuse(`device ${device.state.id} is ${device.state.status}${device.state.reason ? `: ${device.state.reason}` : ''}; the test was not started`);
    }
    const busy = this.running.get(device.state.id);
    if (busy) return refuse(`device ${device.state.id} is already running "${busy.test}" (request ${busy.requestId}); try again when it has finished`);

    // The tighter of: what the collector allows, what is left before expiry, what the profile says the device needs.
    const left = command.expiresAt === undefined ? args.timeoutMs : Math.max(1, command.expiresAt - now);
    const timeoutMs = Math.min(args.timeoutMs, left, test.timeoutMs);
    this.running.set(device.state.id, { requestId: command.requestId, test: test.name });
    log.info({ test: test.name, timeoutMs }, 'running diagnostic');
    const started = this.now();
    // The device stays busy until the driver has really finished, even if we stop waiting for it.
    const diagnosing = device
      .diagnose({ test: test.name, ...(args.args ? { args: args.args } : {}), timeoutMs })
      .catch((err: unknown): DiagnosticOutcome => ({ ok: false, error: `device ${device.state.id}: ${(err as Error).message}` }))
      .finally(() => this.running.delete(device.state.id));
    const outcome = await withTimeout(diagnosing, timeoutMs + 1000, () => ({
      ok: false,
      error: `device ${device.state.id} gave no result for "${test.name}" within ${timeoutMs} ms`,
    }));
    log.info({ test: test.name, ok: outcome.ok, error: outcome.error, ms: this.now() - started }, 'diagnostic finished');
    this.reply(command, { ...outcome, result: { test: test.name, ...outcome.result } });
  }

  private reply(command: CommandMessage, outcome: DiagnosticOutcome): void {
    const { site, gateway } = this.o;
    this.o.enqueue([
      {
        topic: topics.res(site, gateway, command.requestId),
        kind: 'res',
        ...(command.device ? { device: command.device } : {}),
        body: {
          requestId: command.requestId,
          ok: outcome.ok,
          ...(outcome.result ? { result: outcome.result } : {}),
          ...(outcome.error ? { error: outcome.error.slice(0, 1024) } : {}),
        },
      },
    ]);
  }
}

/** `promise`, or `fallback()` if it has not settled after `ms` (a driver that hangs must not hold the device for ever). */
function withTimeout<T>(promise: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
