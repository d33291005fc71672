/**
 * The patient fields a profile may mark as PHI (`phi: <field>` on a metric).
 * They are read from the device like any metric, then taken out of the
 * readings and sealed; only the pseudonymous subject id travels in clear.
 */
export const PHI_FIELDS = ['mrn', 'name', 'dob', 'sex', 'bed'] as const;
export type PhiField = (typeof PHI_FIELDS)[number];

export type PhiRecord = Partial<Record<PhiField, string>>;

/** The sealed plaintext: the record as JSON with a fixed key order, so equal records seal equal plaintexts. */
export function encodeRecord(record: PhiRecord): Uint8Array {
  const ordered: PhiRecord = {};
  for (const f of PHI_FIELDS) if (record[f] !== undefined) ordered[f] = record[f];
  return new TextEncoder().encode(JSON.stringify(ordered));
}

export function decodeRecord(bytes: Uint8Array): PhiRecord {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  const out: PhiRecord = {};
  for (const f of PHI_FIELDS) if (typeof parsed[f] === 'string') out[f] = parsed[f] as string;
  return out;
}
