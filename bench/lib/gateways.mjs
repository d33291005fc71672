/** Gateway credentials for a bench collector: ids gw-1..gw-N, random secrets and their scrypt hashes. */
import { randomBytes } from 'node:crypto';
import { hashSecret } from '@medtel/collector';

/** [{id, secret, secretHash}] for `count` gateways. */
export function makeGateways(count) {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const secret = randomBytes(24).toString('base64url');
      return { id: `gw-${i + 1}`, secret, secretHash: await hashSecret(secret) };
    }),
  );
}
