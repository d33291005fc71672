import type uPlot from 'uplot';

/**
 * Charts with uPlot, loaded on first use from the collector itself
 * (/ui/vendor/uplot.js, its ESM build; no CDN). Only its types are imported
 * statically, so tsc needs no bundler to resolve the module.
 */
const UPLOT_URL = '/ui/vendor/uplot.js';
let loading: Promise<typeof uPlot> | undefined;
const loadUPlot = (): Promise<typeof uPlot> => {
  loading ??= import(UPLOT_URL as string).then((m: { default: typeof uPlot }) => m.default);
  return loading;
};

export interface TrendBucket {
  t: string;
  min: number;
  max: number;
  avg: number;
}

const width = (el: HTMLElement) => Math.max(280, el.clientWidth - 8);

/** A trend: average per bucket as the line, min and max as a lighter band around it. */
/** `range`: [from, to] in epoch ms, so "last hour" spans the hour even when readings cover only part of it. */
export async function trendChart(el: HTMLElement, title: string, unit: string | null, buckets: TrendBucket[], range: [number, number]): Promise<() => void> {
  const U = await loadUPlot();
  const xs = buckets.map((b) => Date.parse(b.t) / 1000);
  const data: uPlot.AlignedData = [xs, buckets.map((b) => b.min), buckets.map((b) => b.avg), buckets.map((b) => b.max)];
  const label = unit ? `${title} (${unit})` : title;
  el.replaceChildren();
  const plot = new U(
    {
      width: width(el),
      height: 220,
      series: [
        {},
        { label: 'min', stroke: '#8fb3d9', width: 1 },
        // Few buckets (a device that just started): show the points, a line of two points is easy to miss.
        { label: `${label} avg`, stroke: '#1f5fa8', width: 2, points: { show: buckets.length < 30, size: 6, fill: '#1f5fa8' } },
        { label: 'max', stroke: '#8fb3d9', width: 1 },
      ],
      bands: [{ series: [3, 1], fill: 'rgba(31, 95, 168, 0.12)' }],
      // x: at least 90 px between time labels, so "12:35pm" labels never run together on a tablet.
      axes: [{ space: 90 }, { label, size: 60 }],
      scales: { x: { time: true, range: () => [range[0] / 1000, range[1] / 1000] } },
    },
    data,
    el,
  );
  return resizeWith(el, plot);
}

/**
 * A rolling strip of one live metric (ECG lead, airway pressure): the last
 * `seconds` of readings from the stream, redrawn at most once per frame.
 */
export class LiveStrip {
  private readonly xs: number[] = [];
  private readonly ys: number[] = [];
  private plot: uPlot | null = null;
  private pending = false;
  private stopResize: () => void = () => {};
  private destroyed = false;

  constructor(
    el: HTMLElement,
    label: string,
    private readonly seconds: number,
    color: string,
  ) {
    void loadUPlot().then((U) => {
      if (this.destroyed) return;
      this.plot = new U(
        {
          width: width(el),
          height: 160,
          series: [{}, { label, stroke: color, width: 1.5, points: { show: false } }],
          axes: [{ space: 90 }, { size: 55 }],
          scales: { x: { time: true } },
          legend: { show: true },
          cursor: { show: false },
        },
        [this.xs, this.ys],
        el,
      );
      this.stopResize = resizeWith(el, this.plot);
    });
  }

  push(t: number, value: number): void {
    this.xs.push(t / 1000);
    this.ys.push(value);
    const oldest = t / 1000 - this.seconds;
    let drop = 0;
    while (drop < this.xs.length && (this.xs[drop] as number) < oldest) drop++;
    if (drop > 0) {
      this.xs.splice(0, drop);
      this.ys.splice(0, drop);
    }
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot?.setData([this.xs, this.ys]);
    });
  }

  destroy(): void {
    this.destroyed = true;
    this.stopResize();
  }
}

function resizeWith(el: HTMLElement, plot: uPlot): () => void {
  const observer = new ResizeObserver(() => plot.setSize({ width: width(el), height: plot.height }));
  observer.observe(el);
  return () => {
    observer.disconnect();
    plot.destroy();
  };
}
