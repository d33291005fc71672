import { type Keyring, PhiError, type PhiRecord } from '@medtel/shared';
import type { CollectorMetrics } from '../metrics.js';
import type { PhiStore, StoredEnvelope } from '../store/phi-store.js';
import type { Actor } from '../store/store.js';

export type OpenResult =
  | { ok: true; envelope: StoredEnvelope; record: PhiRecord }
  | { ok: false; kind: 'not_found' | 'no_keyring' | 'no_reason'; message: string }
  | { ok: false; kind: 'failed'; code: string; message: string; envelope: StoredEnvelope };

/**
 * Opens stored envelopes for a named person with a reason, and writes every
 * attempt (opened or failed) to the audit trail before answering. Used by the
 * API (a collector configured with a keyring) and by `medtel-collector phi open`.
 * Without a keyring it can only say so: the collector alone cannot read PHI.
 */
export class PhiOpener {
  constructor(
    private readonly store: PhiStore,
    private readonly keyring: Keyring | undefined,
    private readonly metrics?: CollectorMetrics,
  ) {}

  get canOpen(): boolean {
    return this.keyring !== undefined;
  }

  async open(envelopeId: number, actor: Actor | { sub: string; role: 'system' }, reason: string): Promise<OpenResult> {
    if (!reason.trim()) return { ok: false, kind: 'no_reason', message: 'reason: required; say why the patient identity is needed (it is audited)' };
    if (!this.keyring) {
      return {
        ok: false,
        kind: 'no_keyring',
        message:
          'this collector holds no PHI keyring (phi.keyring), so it cannot open envelopes; use "medtel-collector phi open" where the keyring is held (docs/phi.md)',
      };
    }
    const envelope = await this.store.getEnvelope(envelopeId);
    if (!envelope) return { ok: false, kind: 'not_found', message: `no PHI envelope ${envelopeId}` };
    try {
      const record = this.keyring.open(envelope.envelope, { gateway: envelope.gateway, device: envelope.device, seq: envelope.seq });
      await this.store.recordOpen(envelope, actor, reason, { ok: true });
      this.metrics?.phiOpens.inc({ outcome: 'opened' });
      return { ok: true, envelope, record };
    } catch (err) {
      if (!(err instanceof PhiError)) throw err;
      // A failed attempt is on the record too: tampering or a missing key is something to investigate.
      await this.store.recordOpen(envelope, actor, reason, { ok: false, code: err.code, message: err.message });
      this.metrics?.phiOpens.inc({ outcome: err.code });
      return { ok: false, kind: 'failed', code: err.code, message: err.message, envelope };
    }
  }
}
