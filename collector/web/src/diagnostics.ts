import { getJson, postJson } from './api.js';
import { errorText, h, pill, replaceChildren } from './dom.js';

interface Diagnostic {
  requestId: string;
  test: string;
  state: 'pending' | 'completed' | 'gateway-offline' | 'timed-out';
  ok: boolean | null;
  result: unknown;
  error: string | null;
}

const POLL_MS = 1000;

/**
 * Run one of the device's diagnostic tests (POST .../diagnostics, 202 with
 * Location), then poll the request until it is no longer pending and show
 * the result. Shown only to roles with diagnostics:run.
 */
export function diagnosticsPanel(deviceId: string, tests: Array<{ name: string; description: string; changesState: boolean }>): HTMLElement {
  const out = h('div', { class: 'diag-result', 'data-testid': 'diagnostic-result' });
  const select = h('select', { name: 'test', 'aria-label': 'Test' }, ...tests.map((t) => h('option', { value: t.name }, `${t.name} — ${t.description}`)));
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 500, placeholder: 'Reason (optional)', 'aria-label': 'Reason' });
  const run = h('button', { type: 'submit', class: 'run-diagnostic' }, 'Run diagnostics');
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const test = tests.find((t) => t.name === select.value);
        if (test?.changesState && !window.confirm(`${test.name} changes the device's state. Run it?`)) return;
        run.disabled = true;
        replaceChildren(out, pill('pending'), ' sent…');
        try {
          const body: Record<string, unknown> = { test: select.value };
          if (reason.value.trim()) body.reason = reason.value.trim();
          const sent = await postJson<Diagnostic>(`/api/v1/devices/${encodeURIComponent(deviceId)}/diagnostics`, body);
          let d = sent.body;
          while (d.state === 'pending' && out.isConnected) {
            await new Promise((r) => setTimeout(r, POLL_MS));
            d = await getJson<Diagnostic>(sent.location ?? `/api/v1/diagnostics/${d.requestId}`);
          }
          show(out, d);
        } catch (err) {
          replaceChildren(out, h('span', { class: 'error' }, errorText(err)));
        } finally {
          run.disabled = false;
        }
      },
    },
    select,
    reason,
    run,
  );
  return h('section', { class: 'card' }, h('h2', {}, 'Diagnostics'), form, out);
}

function show(out: HTMLElement, d: Diagnostic): void {
  const state = d.state === 'completed' ? (d.ok ? pill('passed', 'ok') : pill('failed', 'fail')) : pill(d.state);
  replaceChildren(
    out,
    state,
    ` ${d.test}`,
    d.error ? h('div', { class: 'error' }, d.error) : null,
    d.result !== null && d.result !== undefined ? h('pre', {}, JSON.stringify(d.result, null, 2)) : null,
  );
}
