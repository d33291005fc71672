/** Migration 8: sealed PHI envelopes and per-patient (pseudonymous) spans of readings. */
export const PHI_SCHEMA_SQL = `
  CREATE TABLE phi_envelopes (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    gateway TEXT NOT NULL,
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    subject TEXT,
    kid TEXT NOT NULL,
    envelope TEXT NOT NULL,
    t INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX phi_envelopes_device_subject ON phi_envelopes (device_id, subject, t);
  CREATE TABLE phi_subject_spans (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    device_id TEXT NOT NULL,
    t_from INTEGER NOT NULL,
    t_to INTEGER NOT NULL,
    readings INTEGER NOT NULL
  );
  CREATE INDEX phi_subject_spans_device ON phi_subject_spans (device_id, id);
  CREATE INDEX phi_subject_spans_subject ON phi_subject_spans (subject, t_from);
`;
