import { getJson } from './api.js';
import { errorText, formatTime, h, pill, replaceChildren } from './dom.js';
import type { View } from './view.js';

interface CalibrationDue {
  deviceId: string;
  model: string | null;
  location: string | null;
  lastPassAt: string | null;
  dueDate: string;
  overdue: boolean;
  daysOverdue: number;
}
interface Schedule {
  id: number;
  deviceId: string;
  task: string;
  frequency: string;
  dueAt: string;
  windowEnd: string;
  overdue: boolean;
}
interface WorkOrder {
  id: number;
  deviceId: string;
  type: string;
  state: string;
  title: string;
  assignee: string | null;
  openedAt: string;
}

const AHEAD = '30d';
const OPEN_STATES = ['draft', 'assigned', 'in-progress'];

const deviceLink = (id: string) => h('a', { href: `#/device/${encodeURIComponent(id)}` }, id);
const dueState = (overdue: boolean) => (overdue ? pill('overdue') : pill('due'));

/** Calibrations and preventive maintenance due within 30 days or overdue, and open work orders. */
export const dueView: View = (root) => {
  const cal = h('div');
  const pm = h('div');
  const wo = h('div');
  replaceChildren(
    root,
    h('section', { class: 'card' }, h('h2', {}, `Calibrations due within ${AHEAD.replace('d', ' days')} or overdue`), cal),
    h('section', { class: 'card' }, h('h2', {}, `Preventive maintenance due within ${AHEAD.replace('d', ' days')} or overdue`), pm),
    h('section', { class: 'card' }, h('h2', {}, 'Open work orders'), wo),
  );
  const fill = async <T>(box: HTMLElement, path: string, table: (items: T[]) => HTMLElement) => {
    try {
      replaceChildren(box, table((await getJson<{ items: T[] }>(path)).items));
    } catch (err) {
      replaceChildren(box, h('p', { class: 'error' }, errorText(err)));
    }
  };
  void fill<CalibrationDue>(cal, `/api/v1/calibrations/due?within=${AHEAD}&limit=1000`, (items) =>
    table(
      ['Device', 'Model', 'Location', 'Last pass', 'Due', ''],
      items.map((c) => [
        deviceLink(c.deviceId),
        c.model ?? '—',
        c.location ?? '—',
        formatTime(c.lastPassAt),
        c.dueDate,
        c.overdue ? h('span', {}, dueState(true), ` ${c.daysOverdue} d`) : dueState(false),
      ]),
    ),
  );
  void fill<Schedule>(pm, `/api/v1/pm-schedules?dueWithin=${AHEAD}&limit=1000`, (items) =>
    table(
      ['Device', 'Task', 'Frequency', 'Due', 'Window ends', ''],
      items.map((s) => [deviceLink(s.deviceId), s.task, s.frequency, formatTime(s.dueAt), formatTime(s.windowEnd), dueState(s.overdue)]),
    ),
  );
  void fill<WorkOrder>(wo, '/api/v1/work-orders?limit=1000', (items) =>
    table(
      ['#', 'Device', 'Type', 'Title', 'State', 'Assignee', 'Opened'],
      items
        .filter((w) => OPEN_STATES.includes(w.state))
        .map((w) => [String(w.id), deviceLink(w.deviceId), w.type, w.title, pill(w.state), w.assignee ?? '—', formatTime(w.openedAt)]),
    ),
  );
  return () => {};
};

export function table(headers: string[], rows: Array<Array<Node | string>>): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, 'Nothing.');
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
  );
}
