import { describe, expect, it } from 'vitest';
import type { Store } from '../dist/index.js';

/** What every backend's GatewayCredentialStore must do (run for SQLite in gateway-credentials-store.test.ts). */
export function gatewayCredentialContract(name: string, open: () => Promise<{ store: Store; reopen?: () => Promise<Store> }>) {
  const admin = { sub: 'alice', role: 'admin' as const };
  describe(`GatewayCredentialStore contract: ${name}`, () => {
    it('adds, refuses a duplicate, and audits without the hash', async () => {
      const { store } = await open();
      const c = store.gatewayCredentials;
      const added = await c.add({ id: 'gw-a', site: 's', auth: 'secret', secretHash: 'scrypt$1$1$1$a$b' }, admin, 'new');
      expect(added).toMatchObject({ ok: true, credential: { id: 'gw-a', site: 's', auth: 'secret', version: 1, revokedAt: null } });
      expect(await c.add({ id: 'gw-a', auth: 'secret', secretHash: 'x' }, admin)).toEqual({ ok: false, reason: 'exists' });
      const audit = await store.audit.list({ objectType: 'gateway', objectId: 'gw-a' });
      expect(audit.items).toHaveLength(1);
      expect(audit.items[0]).toMatchObject({ action: 'gateway:provision', actor: 'alice', reason: 'new' });
      expect(JSON.stringify(audit.items)).not.toContain('scrypt');
      await store.close();
    });

    it('rotates with a version check, revokes for good, and keeps a revoked id from coming back', async () => {
      const { store, reopen } = await open();
      const c = store.gatewayCredentials;
      await c.add({ id: 'gw-b', auth: 'certificate', secretHash: null }, admin);
      expect(await c.rotateSecret('gw-b', 'h2', admin, undefined, 7)).toEqual({ ok: false, reason: 'stale', current: 1 });
      const rotated = await c.rotateSecret('gw-b', 'h2', admin, 'leak', 1);
      // A certificate gateway given a secret must present both from then on.
      expect(rotated).toMatchObject({ ok: true, credential: { secretHash: 'h2', auth: 'both', version: 2 } });
      expect(await c.rotateSecret('gw-404', 'h', admin)).toEqual({ ok: false, reason: 'not_found' });
      const revoked = await c.revoke('gw-b', admin, 'stolen');
      expect(revoked.ok && revoked.credential.revokedAt).toBeGreaterThan(0);
      expect((await c.revoke('gw-b', admin)).ok).toBe(true);
      expect(await c.rotateSecret('gw-b', 'h3', admin)).toEqual({ ok: false, reason: 'revoked' });
      expect(await c.add({ id: 'gw-b', auth: 'secret', secretHash: 'h' }, admin)).toEqual({ ok: false, reason: 'revoked' });
      await store.close();
      if (reopen) {
        const again = await reopen();
        expect((await again.gatewayCredentials.get('gw-b'))?.revokedAt).toBeGreaterThan(0);
        await again.close();
      }
    });

    it('seeds from the config once; the store wins afterwards', async () => {
      const { store } = await open();
      const c = store.gatewayCredentials;
      expect(
        await c.seed([
          { id: 'gw-c', secretHash: 'h1' },
          { id: 'gw-d', auth: 'certificate' },
        ]),
      ).toEqual({ added: ['gw-c', 'gw-d'], differing: [] });
      expect(await c.seed([{ id: 'gw-c', secretHash: 'h1' }])).toEqual({ added: [], differing: [] });
      expect(await c.seed([{ id: 'gw-c', secretHash: 'other' }])).toEqual({ added: [], differing: ['gw-c'] });
      expect((await c.get('gw-c'))?.secretHash).toBe('h1');
      expect((await c.list()).map((g) => g.id)).toEqual(['gw-c', 'gw-d']);
      expect((await store.audit.list({ objectId: 'gw-c' })).total).toBe(0);
      await store.close();
    });
  });
}
