import { PROTOCOL_VERSION } from '@medtel/shared';

/** The payload on the wire: the stored body with version, seq and send time in front. */
export function buildPayload(row: { seq: number; body: string }, sentAt: number): string {
  const rest = row.body.length > 2 ? `,${row.body.slice(1)}` : '}';
  return `{"v":${PROTOCOL_VERSION},"seq":${row.seq},"sentAt":${sentAt}${rest}`;
}
