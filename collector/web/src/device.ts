import { can, getJson } from './api.js';
import { alertTable } from './alert-table.js';
import { openAlerts } from './alerts-model.js';
import { LiveStrip, type TrendBucket, trendChart } from './charts.js';
import { diagnosticsPanel } from './diagnostics.js';
import { ago, errorText, formatTime, formatValue, h, pill, replaceChildren } from './dom.js';
import { table } from './due.js';
import { LiveStream } from './stream.js';

interface Device {
  id: string;
  device: string;
  gateway: string;
  type: string | null;
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  firmware: string | null;
  location: string | null;
  department: string | null;
  connectivity: string;
  lastSeen: string;
  metrics: Array<{ metric: string; refId?: string; unit?: string }>;
  diagnostics: Array<{ name: string; description: string; changesState: boolean }>;
}
interface Reading {
  t: string;
  metric: string;
  refId: string | null;
  unit: string | null;
  value: unknown;
  quality: string;
}

const RANGES = { 'Last hour': 3_600_000, 'Last day': 86_400_000 } as const;
/** Waveforms get a rolling strip instead of a value: ECG leads (lead II preferred), ventilator pressure and flow. */
const ECG = /^MDC_ECG_ELEC_POTL_/;
const VENT_STRIP = /^MDC_(PRESS_AWAY|FLOW_AWAY|PRESS_RESP|VOL_MINUTE_AWAY)/;

/** One device: identity, live values, trends, waveforms, open alerts, calibration and maintenance history, diagnostics. */
export function deviceView(id: string) {
  return (root: HTMLElement): (() => void) => {
    const cleanups: Array<() => void> = [];
    const head = h('section', { class: 'card' }, h('h2', {}, id));
    replaceChildren(root, head);
    void (async () => {
      let device: Device;
      try {
        device = await getJson<Device>(`/api/v1/devices/${encodeURIComponent(id)}`);
      } catch (err) {
        head.append(h('p', { class: 'error' }, errorText(err)));
        return;
      }
      replaceChildren(head, h('h2', {}, device.device, ' ', pill(device.connectivity)), identity(device));
      const live = h('section', { class: 'card' }, h('h2', {}, 'Live values'));
      const strips = h('section', { class: 'card', hidden: true }, h('h2', {}, 'Waveforms and live strips'));
      const trends = h('section', { class: 'card' }, h('h2', {}, 'Trends'));
      const alerts = h('section', { class: 'card' }, h('h2', {}, 'Open alerts'));
      const history = h('section', { class: 'card' }, h('h2', {}, 'Calibration and maintenance'));
      const grid = h('div', { class: 'grid' }, live, alerts);
      root.append(grid, strips, trends);
      if (can('diagnostics:run') && device.diagnostics.length > 0) root.append(diagnosticsPanel(device.id, device.diagnostics));
      root.append(history);

      cleanups.push(liveValues(device, live, strips));
      cleanups.push(trendPanel(device, trends));
      const renderAlerts = () => replaceChildren(alerts, h('h2', {}, 'Open alerts'), alertTable(openAlerts.list(device.id), { showDevice: false }));
      renderAlerts();
      cleanups.push(openAlerts.subscribe(renderAlerts));
      void historyPanel(device.id, history);
    })();
    return () => {
      for (const c of cleanups) c();
    };
  };
}

function identity(d: Device): HTMLElement {
  const row = (k: string, v: string | null) => h('div', {}, h('dt', {}, k), h('dd', {}, v ?? '—'));
  return h(
    'dl',
    { class: 'identity' },
    row('Type', d.type),
    row('Model', [d.manufacturer, d.model].filter(Boolean).join(' ') || null),
    row('Serial', d.serial),
    row('Firmware', d.firmware),
    row('Location', [d.location, d.department].filter(Boolean).join(', ') || null),
    row('Gateway', d.gateway),
    row('Last seen', `${ago(d.lastSeen)} (${formatTime(d.lastSeen)})`),
  );
}

/** The newest value of each metric (read once, then from the stream), plus strips for waveforms. */
function liveValues(device: Device, card: HTMLElement, stripCard: HTMLElement): () => void {
  const latest = new Map<string, Reading>();
  const stripFor = new Map<string, LiveStrip>();
  const ecg = device.metrics.filter((m) => m.refId && ECG.test(m.refId));
  const lead = ecg.find((m) => m.refId === 'MDC_ECG_ELEC_POTL_II') ?? ecg[0];
  const vent = device.metrics.filter((m) => m.refId && VENT_STRIP.test(m.refId)).slice(0, 3);
  const isWave = (r: { refId: string | null }) => r.refId !== null && ECG.test(r.refId);
  for (const m of [...(lead ? [lead] : []), ...vent]) {
    const box = h('div', { class: 'strip', 'data-metric': m.metric });
    stripCard.append(box);
    const label = m.unit ? `${m.metric} (${m.unit})` : m.metric;
    stripFor.set(m.metric, new LiveStrip(box, label, m === lead ? 5 : 120, m === lead ? '#0a7d32' : '#1f5fa8'));
    stripCard.hidden = false;
  }
  const body = h('div');
  card.append(body);
  const render = () => {
    const rows = [...latest.values()]
      .filter((r) => !isWave(r))
      .sort((a, b) => a.metric.localeCompare(b.metric))
      .map((r) =>
        h(
          'tr',
          { 'data-metric': r.metric },
          h('td', {}, r.metric),
          h('td', { class: `value quality-${r.quality}` }, formatValue(r.value)),
          h('td', {}, r.unit ?? ''),
          h('td', { class: 'muted' }, new Date(r.t).toLocaleTimeString()),
        ),
      );
    replaceChildren(body, rows.length ? h('table', { class: 'live-values' }, h('tbody', {}, ...rows)) : h('p', { class: 'empty' }, 'No readings yet.'));
  };
  let pending = false;
  const take = (readings: Reading[]) => {
    for (const r of readings) {
      const known = latest.get(r.metric);
      if (!known || Date.parse(known.t) <= Date.parse(r.t)) latest.set(r.metric, r);
      if (typeof r.value === 'number') stripFor.get(r.metric)?.push(Date.parse(r.t), r.value);
    }
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };
  render();
  void getJson<{ readings: Reading[] }>(`/api/v1/devices/${encodeURIComponent(device.id)}/telemetry?limit=500`)
    .then((page) => take(page.readings.slice().reverse()))
    .catch(() => {});
  const stream = new LiveStream(`types=readings&device=${encodeURIComponent(device.id)}`, {
    onEvent: (event, data) => {
      if (event === 'readings') take((data as { readings: Reading[] }).readings);
    },
  });
  return () => {
    stream.close();
    for (const s of stripFor.values()) s.destroy();
  };
}

/** Trend chart of one numeric metric over the last hour or day, downsampled by the collector (GET .../trend). */
function trendPanel(device: Device, card: HTMLElement): () => void {
  const metrics = device.metrics.filter((m) => !(m.refId && ECG.test(m.refId)) && m.unit);
  if (metrics.length === 0) {
    card.append(h('p', { class: 'empty' }, 'This device reports no numeric metric with a unit.'));
    return () => {};
  }
  // Start with a measured value, not a setting (the ventilator lists its settings first).
  let metric = (metrics.find((m) => !m.metric.endsWith('_set')) ?? metrics[0])?.metric ?? '';
  let range: keyof typeof RANGES = 'Last hour';
  let stop: () => void = () => {};
  const chart = h('div', { class: 'chart' });
  const status = h('span', { class: 'muted' });
  const draw = async () => {
    const to = Date.now();
    try {
      const trend = await getJson<{ unit: string | null; buckets: TrendBucket[] }>(
        `/api/v1/devices/${encodeURIComponent(device.id)}/trend?metric=${encodeURIComponent(metric)}&from=${to - RANGES[range]}&to=${to}&points=300`,
      );
      stop();
      stop = await trendChart(chart, metric, trend.unit, trend.buckets, [to - RANGES[range], to]);
      status.textContent = trend.buckets.length ? '' : 'no readings in this range';
    } catch (err) {
      status.textContent = errorText(err);
    }
  };
  const metricSelect = h(
    'select',
    {
      name: 'metric',
      'aria-label': 'Metric',
      onchange: (e: Event) => {
        metric = (e.target as HTMLSelectElement).value;
        void draw();
      },
    },
    ...metrics.map((m) => h('option', { value: m.metric, selected: m.metric === metric }, m.unit ? `${m.metric} (${m.unit})` : m.metric)),
  );
  const rangeButtons = (Object.keys(RANGES) as Array<keyof typeof RANGES>).map((r) =>
    h(
      'button',
      {
        type: 'button',
        class: r === range ? 'toggle on' : 'toggle',
        onclick: (e: Event) => {
          range = r;
          for (const b of rangeButtons) b.classList.toggle('on', b === e.currentTarget);
          void draw();
        },
      },
      r,
    ),
  );
  card.append(h('div', { class: 'filters' }, metricSelect, ...rangeButtons, status), chart);
  void draw();
  const timer = setInterval(draw, 30_000);
  return () => {
    clearInterval(timer);
    stop();
  };
}

interface Calibration {
  performedAt: string;
  result: string;
  performedBy?: string;
  recordedBy: string;
}

async function historyPanel(deviceId: string, card: HTMLElement): Promise<void> {
  const enc = encodeURIComponent(deviceId);
  try {
    const [cal, pm, wo] = await Promise.all([
      getJson<{ items: Calibration[]; due: { dueDate: string; overdue: boolean } | null }>(`/api/v1/devices/${enc}/calibrations?limit=20`),
      getJson<{ items: Array<{ task: string; frequency: string; dueAt: string; lastCompletedAt: string | null; overdue: boolean }> }>(
        `/api/v1/pm-schedules?device=${enc}&limit=50`,
      ),
      getJson<{ items: Array<{ id: number; type: string; state: string; title: string; openedAt: string; completedAt: string | null }> }>(
        `/api/v1/work-orders?device=${enc}&limit=20`,
      ),
    ]);
    card.append(
      h(
        'p',
        {},
        cal.due ? h('span', {}, 'Calibration due ', cal.due.dueDate, ' ', cal.due.overdue ? pill('overdue') : pill('due')) : 'No calibration interval set.',
      ),
      h('h3', {}, 'Calibrations'),
      table(
        ['Performed', 'Result', 'By'],
        cal.items.map((c) => [formatTime(c.performedAt), pill(c.result), c.performedBy ?? c.recordedBy]),
      ),
      h('h3', {}, 'Maintenance schedules'),
      table(
        ['Task', 'Frequency', 'Due', 'Last done', ''],
        pm.items.map((s) => [s.task, s.frequency, formatTime(s.dueAt), formatTime(s.lastCompletedAt), s.overdue ? pill('overdue') : '']),
      ),
      h('h3', {}, 'Work orders'),
      table(
        ['#', 'Type', 'Title', 'State', 'Opened', 'Completed'],
        wo.items.map((w) => [String(w.id), w.type, w.title, pill(w.state), formatTime(w.openedAt), formatTime(w.completedAt)]),
      ),
    );
  } catch (err) {
    card.append(h('p', { class: 'error' }, errorText(err)));
  }
}
