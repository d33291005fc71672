import { can } from './api.js';
import type { Alert } from './alerts-model.js';
import { openAlerts } from './alerts-model.js';
import { ago, errorText, formatTime, h, pill } from './dom.js';

type Action = 'ack' | 'resolve';
const LABEL: Record<Action, string> = { ack: 'Acknowledge', resolve: 'Resolve' };

/**
 * Note forms being filled in, by alert id. The table is rebuilt on every live
 * event; keeping the drafts here means an alert arriving meanwhile does not
 * wipe what someone is typing.
 */
const drafts = new Map<number, { action: Action; text: string; error: string }>();

/**
 * Open alerts as a table, with acknowledge/resolve for roles that may
 * (alerts:ack). Each action asks for a note, which the API requires and the
 * audit trail keeps. A viewer sees no buttons; the API would refuse anyway.
 */
export function alertTable(alerts: Alert[], options: { showDevice: boolean }): HTMLElement {
  if (alerts.length === 0) return h('p', { class: 'empty' }, 'No open alerts.');
  const mayAct = can('alerts:ack');
  return h(
    'table',
    { class: 'alerts' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Priority'),
        h('th', {}, 'State'),
        options.showDevice && h('th', {}, 'Device'),
        h('th', {}, 'Alert'),
        h('th', {}, 'Raised'),
        mayAct && h('th', {}, 'Action'),
      ),
    ),
    h('tbody', {}, ...alerts.map((a) => alertRow(a, options.showDevice, mayAct))),
  );
}

function alertRow(a: Alert, showDevice: boolean, mayAct: boolean): HTMLTableRowElement {
  const actions = h('td', { class: 'actions' });
  if (mayAct) {
    const draft = drafts.get(a.id);
    if (draft && (draft.action === 'resolve' || a.state === 'active')) actions.append(noteForm(a, draft.action));
    else {
      if (a.state === 'active') actions.append(actionButton(a, 'ack'));
      actions.append(actionButton(a, 'resolve'));
    }
  }
  const ack = a.acknowledged ? h('div', { class: 'note' }, `acknowledged by ${a.acknowledged.by}: ${a.acknowledged.note}`) : null;
  return h(
    'tr',
    { class: `alert alert-${a.priority} alert-${a.state}`, 'data-alert-id': a.id, 'data-state': a.state },
    h('td', {}, pill(a.priority)),
    h('td', {}, pill(a.state), a.clearedAt ? h('div', { class: 'note' }, 'condition cleared') : null),
    showDevice && h('td', { class: 'nowrap' }, a.deviceId ? h('a', { href: `#/device/${encodeURIComponent(a.deviceId)}` }, a.deviceId) : (a.gatewayId ?? '—')),
    h('td', {}, a.text, a.count > 1 ? h('span', { class: 'count' }, ` ×${a.count}`) : null, ack),
    h('td', { class: 'nowrap', title: formatTime(a.raisedAt) }, ago(a.raisedAt)),
    mayAct && actions,
  );
}

function actionButton(a: Alert, action: Action): HTMLButtonElement {
  const open = () => {
    drafts.set(a.id, { action, text: '', error: '' });
    openAlerts.changed();
  };
  return h('button', { type: 'button', class: action, onclick: open }, LABEL[action]);
}

function noteForm(a: Alert, action: Action): HTMLFormElement {
  const draft = drafts.get(a.id) ?? { action, text: '', error: '' };
  const note = h('input', {
    type: 'text',
    name: 'note',
    required: true,
    maxlength: 500,
    value: draft.text,
    placeholder: 'Note (required)',
    'aria-label': `${LABEL[action]} note`,
    oninput: () => {
      draft.text = note.value;
    },
  });
  const submit = async (event: Event) => {
    event.preventDefault();
    const text = note.value.trim();
    if (!text) return;
    try {
      await openAlerts.act(a, action, text);
      drafts.delete(a.id);
    } catch (err) {
      draft.error = errorText(err);
    }
    openAlerts.changed();
  };
  const cancel = () => {
    drafts.delete(a.id);
    openAlerts.changed();
  };
  const form = h(
    'form',
    { class: 'note-form', onsubmit: submit },
    note,
    h('button', { type: 'submit', class: action }, LABEL[action]),
    h('button', { type: 'button', class: 'quiet', onclick: cancel }, 'Cancel'),
    draft.error ? h('div', { class: 'error', role: 'alert' }, draft.error) : null,
  );
  // Rebuilt forms take the focus back, so typing is not interrupted by a live update.
  queueMicrotask(() => {
    if (document.activeElement === document.body || document.activeElement === null) note.focus();
  });
  return form;
}
