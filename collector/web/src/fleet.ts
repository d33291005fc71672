import { getJson } from './api.js';
import { renderApprovals } from './approvals.js';
import { ago, errorText, formatTime, h, pill, replaceChildren } from './dom.js';
import type { View } from './view.js';

interface Device {
  id: string;
  device: string;
  gateway: string;
  type: string | null;
  model: string | null;
  location: string | null;
  department: string | null;
  connectivity: string;
  lastSeen: string;
}

interface Gateway {
  id: string;
  site: string;
  state: string;
  agentVersion: string | null;
  lastSeen: string;
  outbox: { rows: number; bytes: number; oldestAgeSeconds: number; at: string } | null;
  devices: unknown[];
}

const REFRESH_MS = 10_000;
/** Filters survive leaving and coming back to the page (not a reload: nothing is stored). */
const filters = { type: '', location: '', status: '' };
/** Filter values meaning "any" and "not set" (a device without a location). */
const ALL = '';
const NONE = '\u0000none';

/**
 * Every device with type, location, gateway, connectivity and last seen, and
 * the gateways with their health. Connectivity is not on the live stream, so
 * the page re-reads the registry every 10 s.
 */
export const fleetView: View = (root) => {
  const gatewaysBox = h('div');
  const devicesBox = h('div');
  const filterBar = h('div', { class: 'filters' });
  const stamp = h('span', { class: 'muted' });
  const approvalsBox = h('section', { class: 'card', 'data-testid': 'approvals', hidden: true });
  replaceChildren(
    root,
    approvalsBox,
    h('section', { class: 'card' }, h('h2', {}, 'Gateways'), gatewaysBox),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Devices'), stamp), filterBar, devicesBox),
  );
  let devices: Device[] = [];

  const render = () => {
    const matches = (filter: string, value: string | null) => filter === ALL || (filter === NONE ? !value : value === filter);
    const shown = devices.filter((d) => matches(filters.type, d.type) && matches(filters.location, d.location) && matches(filters.status, d.connectivity));
    replaceChildren(
      filterBar,
      select('type', 'Type', distinct(devices.map((d) => d.type ?? ''))),
      select('location', 'Location', distinct(devices.map((d) => d.location ?? ''))),
      select('status', 'Status', distinct(['connected', 'unreachable', 'offline', ...devices.map((d) => d.connectivity)])),
      h('span', { class: 'muted', 'data-testid': 'device-count' }, `${shown.length} of ${devices.length} devices`),
    );
    replaceChildren(
      devicesBox,
      shown.length === 0
        ? h('p', { class: 'empty' }, devices.length === 0 ? 'No device has been announced by a gateway yet.' : 'No device matches the filters.')
        : h(
            'table',
            { class: 'devices' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'Device'),
                h('th', {}, 'Type'),
                h('th', {}, 'Location'),
                h('th', {}, 'Gateway'),
                h('th', {}, 'Status'),
                h('th', {}, 'Last seen'),
              ),
            ),
            h(
              'tbody',
              {},
              ...shown.map((d) =>
                h(
                  'tr',
                  { 'data-device-id': d.id },
                  h('td', {}, h('a', { href: `#/device/${encodeURIComponent(d.id)}` }, d.device), d.model ? h('div', { class: 'muted' }, d.model) : null),
                  h('td', {}, d.type ?? '—'),
                  h('td', {}, d.location ?? '—', d.department ? h('div', { class: 'muted' }, d.department) : null),
                  h('td', {}, d.gateway),
                  h('td', {}, pill(d.connectivity)),
                  h('td', { title: formatTime(d.lastSeen) }, ago(d.lastSeen)),
                ),
              ),
            ),
          ),
    );
  };

  const select = (key: keyof typeof filters, label: string, values: string[]) =>
    h(
      'label',
      {},
      `${label} `,
      h(
        'select',
        {
          name: key,
          onchange: (e: Event) => {
            filters[key] = (e.target as HTMLSelectElement).value;
            render();
          },
        },
        h('option', { value: ALL }, 'all'),
        ...values.map((v) => h('option', { value: v || NONE, selected: (v || NONE) === filters[key] }, v || '(none)')),
      ),
    );

  const load = async () => {
    try {
      const [d, g] = await Promise.all([getJson<{ items: Device[] }>('/api/v1/devices?limit=1000'), getJson<{ items: Gateway[] }>('/api/v1/gateways')]);
      devices = d.items;
      replaceChildren(gatewaysBox, gatewayTable(g.items));
      render();
      await renderApprovals(approvalsBox, () => void load());
      stamp.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      stamp.textContent = `could not refresh: ${errorText(err)}`;
    }
  };
  void load();
  const timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
};

function gatewayTable(gateways: Gateway[]): HTMLElement {
  if (gateways.length === 0) return h('p', { class: 'empty' }, 'No gateway has connected yet.');
  return h(
    'table',
    { class: 'gateways' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Gateway'),
        h('th', {}, 'Site'),
        h('th', {}, 'Health'),
        h('th', {}, 'Outbox backlog'),
        h('th', {}, 'Devices'),
        h('th', {}, 'Agent'),
        h('th', {}, 'Last seen'),
      ),
    ),
    h(
      'tbody',
      {},
      ...gateways.map((g) =>
        h(
          'tr',
          { 'data-gateway-id': g.id },
          h('td', {}, g.id),
          h('td', {}, g.site),
          h('td', {}, pill(g.state)),
          backlogCell(g.outbox),
          h('td', {}, g.devices.length),
          h('td', {}, g.agentVersion ?? '—'),
          h('td', { title: formatTime(g.lastSeen) }, ago(g.lastSeen)),
        ),
      ),
    ),
  );
}

/**
 * What the gateway still holds for the collector, as its last online state
 * reported it (re-sent every 30 s while connected). A growing backlog means
 * data is arriving late; while the gateway is offline this is its last report.
 */
function backlogCell(outbox: Gateway['outbox']): HTMLTableCellElement {
  if (!outbox) return h('td', { class: 'muted', title: 'this agent does not report its outbox' }, '—');
  const title = `reported ${ago(outbox.at)} (${formatTime(outbox.at)})`;
  if (outbox.rows === 0) return h('td', { title, 'data-outbox-rows': 0 }, 'empty');
  const size = outbox.bytes >= 1_048_576 ? `${(outbox.bytes / 1_048_576).toFixed(1)} MB` : `${Math.ceil(outbox.bytes / 1024)} kB`;
  const age = outbox.oldestAgeSeconds >= 90 ? `${Math.round(outbox.oldestAgeSeconds / 60)} min` : `${Math.round(outbox.oldestAgeSeconds)} s`;
  return h(
    'td',
    { title, 'data-outbox-rows': outbox.rows },
    pill(`${outbox.rows} waiting`, outbox.oldestAgeSeconds >= 60 ? 'unreachable' : 'due'),
    h('div', { class: 'muted' }, `${size}, oldest ${age}`),
  );
}

const distinct = (values: string[]) => [...new Set(values)].sort();
