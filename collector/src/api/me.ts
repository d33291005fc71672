import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { PERMISSIONS, ROLES, can, type Permission } from '../auth/roles.js';
import { requireUser } from '../auth/plugin.js';

const Me = Type.Object({
  sub: Type.String(),
  role: Type.Union(ROLES.map((r) => Type.Literal(r))),
  permissions: Type.Array(Type.String(), { description: 'every permission the role has (auth/roles.ts)' }),
});

/**
 * GET /me: who the token speaks for and what it may do, as the server decides
 * it. The dashboard hides buttons by this list rather than by reading the
 * token itself, which with single sign-on carries the identity provider's
 * group names, not medtel roles.
 */
export const meRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/me',
    {
      config: { permission: 'registry:read' },
      schema: { summary: 'The caller: subject, role and permissions', tags: ['registry'], response: { 200: Me } },
    },
    async (request) => {
      const { sub, role } = requireUser(request);
      return { sub, role, permissions: (Object.keys(PERMISSIONS) as Permission[]).filter((p) => can(role, p)) };
    },
  );
};
