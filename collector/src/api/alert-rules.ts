import type { FastifyPluginAsync } from 'fastify';
import { AlertRuleBody } from '../alerts/rule-schema.js';
import { actorOf } from '../auth/plugin.js';
import type { AlertRuleInput, AlertStore, RuleWriteOutcome } from '../store/alert-store.js';
import { IdParams, RuleDeleteQuery, RuleList, ruleView } from './alert-schemas.js';
import { notFound } from './errors.js';
import { etag, expectedVersion, staleVersion } from './http-conditions.js';
import { ErrorBody } from './schemas.js';

function split(body: AlertRuleBody): { input: AlertRuleInput; reason?: string } {
  const { reason, ...input } = body;
  return { input: input as AlertRuleInput, ...(reason ? { reason } : {}) };
}

function settle(id: number, outcome: RuleWriteOutcome) {
  if (!outcome.ok && outcome.reason === 'not_found') throw notFound(`no alert rule ${id}`);
  if (!outcome.ok) throw staleVersion('rule', outcome.current);
  return outcome.rule;
}

/**
 * Alert rules: create, list, read, replace, delete — each change audited in
 * the same transaction; `rulesChanged` makes the engine pick it up at once.
 */
export const alertRuleRoutes =
  (store: AlertStore, rulesChanged: () => Promise<void>): FastifyPluginAsync =>
  async (app) => {
    const errors = { 400: ErrorBody, 404: ErrorBody };

    app.get(
      '/alert-rules',
      { config: { permission: 'alerts:read' }, schema: { summary: 'List alert rules', tags: ['alerts'], response: { 200: RuleList } } },
      async () => {
        const rules = await store.listRules();
        return { items: rules.map(ruleView), total: rules.length };
      },
    );

    app.get<{ Params: IdParams }>(
      '/alert-rules/:id',
      {
        config: { permission: 'alerts:read' },
        schema: { summary: 'One alert rule', tags: ['alerts'], params: IdParams, response: { 200: { $ref: 'AlertRule#' }, ...errors } },
      },
      async (request, reply) => {
        const rule = await store.getRule(request.params.id);
        if (!rule) throw notFound(`no alert rule ${request.params.id}`);
        reply.header('etag', etag(rule.version));
        return ruleView(rule);
      },
    );

    app.post<{ Body: AlertRuleBody }>(
      '/alert-rules',
      {
        config: { permission: 'alerts:configure' },
        schema: { summary: 'Create an alert rule (audited)', tags: ['alerts'], body: AlertRuleBody, response: { 201: { $ref: 'AlertRule#' }, 400: ErrorBody } },
      },
      async (request, reply) => {
        const { input, reason } = split(request.body);
        const rule = await store.createRule(input, actorOf(request), reason);
        await rulesChanged();
        reply.code(201).header('etag', etag(rule.version)).header('location', `/api/v1/alert-rules/${rule.id}`);
        return ruleView(rule);
      },
    );

    app.put<{ Params: IdParams; Body: AlertRuleBody }>(
      '/alert-rules/:id',
      {
        config: { permission: 'alerts:configure' },
        schema: {
          summary: 'Replace an alert rule (audited; If-Match: its version)',
          tags: ['alerts'],
          params: IdParams,
          body: AlertRuleBody,
          response: { 200: { $ref: 'AlertRule#' }, ...errors, 409: ErrorBody, 428: ErrorBody },
        },
      },
      async (request, reply) => {
        const expected = expectedVersion(request, '/alert-rules/{id}');
        const { input, reason } = split(request.body);
        const rule = settle(request.params.id, await store.updateRule(request.params.id, input, expected, actorOf(request), reason));
        await rulesChanged();
        reply.header('etag', etag(rule.version));
        return ruleView(rule);
      },
    );

    app.delete<{ Params: IdParams; Querystring: RuleDeleteQuery }>(
      '/alert-rules/:id',
      {
        config: { permission: 'alerts:configure' },
        schema: {
          summary: 'Delete an alert rule (audited; If-Match: its version); its open alerts are resolved by the system',
          tags: ['alerts'],
          params: IdParams,
          querystring: RuleDeleteQuery,
          response: { 204: { type: 'null' }, ...errors, 409: ErrorBody, 428: ErrorBody },
        },
      },
      async (request, reply) => {
        const expected = expectedVersion(request, '/alert-rules/{id}');
        settle(request.params.id, await store.deleteRule(request.params.id, expected, actorOf(request), request.query.reason));
        await rulesChanged();
        return reply.code(204).send();
      },
    );
  };
