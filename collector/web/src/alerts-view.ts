import { alertTable } from './alert-table.js';
import { openAlerts } from './alerts-model.js';
import { h, replaceChildren } from './dom.js';
import type { View } from './view.js';

/** Every open alert, live from the stream (alerts-model.ts). */
export const alertsView: View = (root) => {
  const state = h('span', { class: 'muted', 'data-testid': 'stream-state' });
  const box = h('div');
  replaceChildren(root, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Open alerts'), state), box));
  const render = () => {
    state.textContent = openAlerts.connected ? 'live' : 'reconnecting…';
    state.className = openAlerts.connected ? 'live' : 'muted';
    replaceChildren(box, alertTable(openAlerts.list(), { showDevice: true }));
  };
  render();
  // "raised 5 s ago" ages even when no event comes.
  const tick = setInterval(render, 15_000);
  const unsubscribe = openAlerts.subscribe(render);
  return () => {
    clearInterval(tick);
    unsubscribe();
  };
};
