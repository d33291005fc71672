import { can, getJson, postJson } from './api.js';
import { ago, errorText, formatTime, h, replaceChildren } from './dom.js';

/** A device a gateway identified by itself (plug and play), as GET /devices?approval=pending lists it. */
interface PendingDevice {
  id: string;
  gateway: string;
  type: string | null;
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  firmware: string | null;
  version: number;
  firstSeen: string;
  discovery: { method: string; port: string; settings?: string; unitId?: number; identifiedAt: string } | null;
}

type Decision = 'approve' | 'reject';
interface Draft {
  decision: Decision;
  fields: Record<string, string>;
  error: string;
}

/**
 * Forms being filled in, by device id. The fleet page re-reads every 10 s;
 * keeping the drafts here means a refresh does not wipe what someone types.
 */
const drafts = new Map<string, Draft>();

const APPROVE_FIELDS = [
  { name: 'assetTag', label: 'Asset tag', required: true },
  { name: 'location', label: 'Location', required: true },
  { name: 'department', label: 'Department', required: true },
  { name: 'note', label: 'Note', required: false },
] as const;

/**
 * Devices awaiting approval (docs/plug-and-play.md): what was found, where and
 * how, with approve (binding asset tag, location, department) and reject (a
 * reason) for roles with registry:approve. Both go through the API, which
 * checks the version (If-Match) and writes the audit trail.
 */
export async function renderApprovals(box: HTMLElement, reload: () => void): Promise<void> {
  // Someone is typing in one of the forms: the periodic refresh waits rather than take the focus away.
  if (document.activeElement instanceof HTMLInputElement && box.contains(document.activeElement)) return;
  const { items } = await getJson<{ items: PendingDevice[] }>('/api/v1/devices?approval=pending&limit=1000');
  for (const id of drafts.keys()) if (!items.some((d) => d.id === id)) drafts.delete(id);
  box.hidden = items.length === 0;
  if (items.length === 0) return;
  const mayDecide = can('registry:approve');
  replaceChildren(
    box,
    h('h2', {}, `Awaiting approval (${items.length})`),
    h('p', { class: 'muted' }, 'Identified by a gateway when plugged in. Their readings are kept and flagged until someone approves them.'),
    h(
      'table',
      { class: 'approvals' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'Device'), h('th', {}, 'Serial'), h('th', {}, 'Found on'), h('th', {}, 'Identified'), mayDecide && h('th', {}, 'Decision')),
      ),
      h('tbody', {}, ...items.map((d) => row(d, mayDecide, reload))),
    ),
  );
}

function row(d: PendingDevice, mayDecide: boolean, reload: () => void): HTMLTableRowElement {
  const found = d.discovery;
  const how = found ? [found.settings, found.unitId !== undefined ? `unit ${found.unitId}` : null].filter(Boolean).join(', ') : '';
  return h(
    'tr',
    { 'data-pending-id': d.id },
    h(
      'td',
      {},
      h('a', { href: `#/device/${encodeURIComponent(d.id)}` }, d.model ?? d.id),
      h('div', { class: 'muted' }, [d.manufacturer, d.type].filter(Boolean).join(' · ')),
    ),
    h('td', {}, d.serial ?? '—', d.firmware ? h('div', { class: 'muted' }, `firmware ${d.firmware}`) : null),
    h('td', {}, d.gateway, found ? h('div', { class: 'muted' }, `${found.port}${how ? ` (${how})` : ''}`) : null),
    h(
      'td',
      { class: 'nowrap', title: formatTime(found?.identifiedAt ?? d.firstSeen) },
      ago(found?.identifiedAt ?? d.firstSeen),
      found ? h('div', { class: 'muted' }, found.method) : null,
    ),
    mayDecide && h('td', { class: 'actions' }, decisionCell(d, reload)),
  );
}

function decisionCell(d: PendingDevice, reload: () => void): HTMLElement {
  const draft = drafts.get(d.id);
  if (!draft) {
    const open = (decision: Decision) => () => {
      drafts.set(d.id, { decision, fields: {}, error: '' });
      reload();
    };
    return h(
      'span',
      {},
      h('button', { type: 'button', class: 'approve', onclick: open('approve') }, 'Approve'),
      h('button', { type: 'button', class: 'quiet', onclick: open('reject') }, 'Reject'),
    );
  }
  const fields = draft.decision === 'approve' ? APPROVE_FIELDS : ([{ name: 'reason', label: 'Reason', required: true }] as const);
  const inputs = fields.map((f) =>
    h('input', {
      type: 'text',
      name: f.name,
      required: f.required,
      maxlength: 500,
      value: draft.fields[f.name] ?? '',
      placeholder: f.required ? `${f.label} (required)` : f.label,
      'aria-label': f.label,
      oninput: (e: Event) => {
        draft.fields[f.name] = (e.target as HTMLInputElement).value;
      },
    }),
  );
  const submit = async (event: Event) => {
    event.preventDefault();
    const body: Record<string, string> = {};
    for (const f of fields) {
      const value = (draft.fields[f.name] ?? '').trim();
      if (value) body[f.name] = value;
    }
    try {
      await postJson(`/api/v1/devices/${encodeURIComponent(d.id)}/${draft.decision}`, body, d.version);
      drafts.delete(d.id);
    } catch (err) {
      draft.error = errorText(err);
    }
    reload();
  };
  const cancel = () => {
    drafts.delete(d.id);
    reload();
  };
  return h(
    'form',
    { class: 'note-form', onsubmit: submit },
    ...inputs,
    h('button', { type: 'submit', class: draft.decision }, draft.decision === 'approve' ? 'Approve' : 'Reject'),
    h('button', { type: 'button', class: 'quiet', onclick: cancel }, 'Cancel'),
    draft.error ? h('div', { class: 'error', role: 'alert' }, draft.error) : null,
  );
}
