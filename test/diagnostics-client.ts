import { waitFor } from './helpers.js';
import type { Stack } from './stack.js';

/**
 * Asking for a device test through the collector API and waiting for its
 * result, as the end-to-end tests on every protocol do it: POST answers 202
 * with a Location, and the result there stays `pending` until the agent's
 * answer has come back through the outbox.
 */

export type Diagnostic = { requestId: string; state: string; ok: boolean | null; result: Record<string, unknown> | null; error: string | null };

/** POST /devices/{id}/diagnostics; `body` is the request's record (or the error on a 4xx). */
export async function requestDiagnostic(
  stack: Pick<Stack, 'send'>,
  device: string,
  test: string,
): Promise<{ status: number; location: string | null; body: Diagnostic }> {
  const res = await stack.send('POST', `/api/v1/devices/${device}/diagnostics`, { test });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Diagnostic };
}

/** The diagnostic at `location` once it is no longer pending. */
export function diagnosticFinished(stack: Pick<Stack, 'api'>, location: string, timeoutMs = 20_000): Promise<Diagnostic> {
  return waitFor(
    `${location} to finish`,
    async () => {
      const { body } = await stack.api<Diagnostic>(location);
      return body.state !== 'pending' ? body : undefined;
    },
    timeoutMs,
    200,
  );
}
