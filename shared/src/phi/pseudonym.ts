import { createHmac } from 'node:crypto';

/**
 * Pseudonymous subject id: HMAC-SHA-256 over the MRN with the site's
 * pseudonym key (not the encryption key), so the collector can group
 * readings per patient without learning who it is, and without the key
 * nobody can test a guessed MRN against it. The same key on every gateway of
 * a site gives the same patient the same id on every device.
 */
export function subjectId(pseudonymKey: Uint8Array, mrn: string): string {
  const normalised = mrn.trim().toUpperCase();
  return `ps_${createHmac('sha256', pseudonymKey).update(normalised, 'utf8').digest('base64url')}`;
}
