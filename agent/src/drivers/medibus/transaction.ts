import { encodeCommand, type MedibusFrame } from './frame.js';

/**
 * One request at a time on a MEDIBUS link: send a command, wait for the
 * response echoing it. A response to anything else (late, or unasked) is
 * ignored and counted by the caller; no answer within the timeout rejects.
 */
export class MedibusTransactions {
  private pending: { cmd: number; resolve(f: MedibusFrame): void; reject(e: Error): void; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly write: (bytes: Buffer) => Promise<void>) {}

  request(cmd: number, timeoutMs: number): Promise<MedibusFrame> {
    if (this.pending) return Promise.reject(new Error('a request is already waiting for its answer'));
    return new Promise<MedibusFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(Object.assign(new Error(`no answer to command 0x${cmd.toString(16).toUpperCase()} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      this.pending = { cmd, resolve, reject, timer };
      this.write(encodeCommand(cmd)).catch((err: Error) => this.fail(err));
    });
  }

  /** Offers a response; true when it answered the waiting request. */
  answer(frame: MedibusFrame): boolean {
    const p = this.pending;
    if (!p || frame.kind !== 'response' || frame.cmd !== p.cmd) return false;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.resolve(frame);
    return true;
  }

  /** The link went away: the waiting request fails at once. */
  fail(err: Error): void {
    const p = this.pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.pending = undefined;
    p.reject(err);
  }
}
