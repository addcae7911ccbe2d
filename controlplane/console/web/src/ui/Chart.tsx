import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: number[];
  /** A colour from the palette below by default. */
  color?: string;
}

interface Props {
  /** Periods' starts, in milliseconds. */
  x: number[];
  series: ChartSeries[];
  /** Formats an axis value and the legend's numbers. */
  format?: (n: number) => string;
  height?: number;
  /** Says what the chart shows, for screen readers (the table beside it has the numbers). */
  label: string;
  testId?: string;
}

/** Calm, distinguishable line colours. */
export const palette = ['#3156d3', '#2fa37a', '#d98a1c', '#9b51e0', '#d64545'];

const DEFAULT_HEIGHT = 220;

function fill(color: string): string {
  // The line's colour at low opacity under it.
  return color + '1f';
}

/**
 * A time-series chart drawn by uPlot on a canvas, as wide as its
 * container (it follows resizes). uPlot builds its DOM with textContent
 * and sets styles through the CSSOM only, which the console's CSP allows.
 */
export function Chart({ x, series, format = (n) => String(n), height = DEFAULT_HEIGHT, label, testId }: Props) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      scales: { x: { time: true } },
      // The usage API's periods are UTC ones: label them so.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      series: [
        {},
        ...series.map((s, i) => {
          const color = s.color ?? palette[i % palette.length];
          return {
            label: s.label,
            stroke: color,
            fill: fill(color),
            width: 2,
            points: { show: x.length < 2 },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
          };
        }),
      ],
      axes: [
        { stroke: '#5d6672', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e5ea' } },
        { stroke: '#5d6672', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e2e5ea' }, size: 64, values: (_u, vals) => vals.map((v) => format(v)) },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const data: uPlot.AlignedData = [x.map((t) => t / 1000), ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [x, series, height, format]);
  return <div class="chart" ref={box} role="img" aria-label={label} data-testid={testId} />;
}
