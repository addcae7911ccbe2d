// The usage API (GET /admin/v1/apps/{id}/usage and
// /admin/v1/accounts/{id}/usage): its report and the ranges the console
// asks for.

import { get, send, seg } from './api';

export type Granularity = 'hour' | 'day';

/** The counters of one period, or of the totals. */
export interface UsageCounts {
  messages: number;
  messages_published: number;
  messages_delivered: number;
  presence_events: number;
  webhook_calls: number;
  api_requests: number;
  bytes_in: number;
  bytes_out: number;
  connection_seconds: number;
  peak_connections: number;
  history_reads: number;
  over_quota: boolean;
}

export interface UsageItem extends UsageCounts {
  start: string;
}

export interface UsageReport {
  granularity: string;
  /** Only the periods that counted something, oldest first. */
  items: UsageItem[];
  totals: UsageCounts;
  limits: Record<string, number> | null;
  remaining: { messages_today: number | null; messages_this_month: number | null };
}

export interface UsageScope {
  kind: 'apps' | 'accounts';
  id: string;
}

export interface UsageQuery {
  from: Date;
  to: Date;
  granularity: Granularity;
}

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/** The ranges offered: a label and how far back from now. */
export const ranges = [
  { id: '24h', label: 'Last 24 hours', ms: DAY_MS, granularity: 'hour' as Granularity },
  { id: '7d', label: 'Last 7 days', ms: 7 * DAY_MS, granularity: 'hour' as Granularity },
  { id: '30d', label: 'Last 30 days', ms: 30 * DAY_MS, granularity: 'day' as Granularity },
  { id: '90d', label: 'Last 90 days', ms: 90 * DAY_MS, granularity: 'day' as Granularity },
];

function params(q: UsageQuery) {
  return { from: q.from.toISOString().replace(/\.\d+Z$/, 'Z'), to: q.to.toISOString().replace(/\.\d+Z$/, 'Z'), granularity: q.granularity };
}

const pathOf = (s: UsageScope) => `/${s.kind}/${seg(s.id)}/usage`;

export function getUsage(scope: UsageScope, q: UsageQuery, signal?: AbortSignal): Promise<UsageReport> {
  return get<UsageReport>(pathOf(scope), params(q), signal);
}

/** The same report as CSV (the API's own columns), as a Blob. */
export async function getUsageCSV(scope: UsageScope, q: UsageQuery): Promise<Blob> {
  const res = await send('GET', pathOf(scope), { query: params(q), accept: 'text/csv' });
  return res.blob();
}

/** The start of the period of g holding t, in UTC. */
export function periodStart(t: number, g: Granularity): number {
  return g === 'hour' ? Math.floor(t / HOUR_MS) * HOUR_MS : Math.floor(t / DAY_MS) * DAY_MS;
}

export const periodMs = (g: Granularity) => (g === 'hour' ? HOUR_MS : DAY_MS);

/**
 * Every period from from to to, the report's items in theirs and zeros in
 * the others (the API lists only periods that counted something), so a
 * chart shows quiet time as zero rather than a line across it.
 */
export function fillPeriods(report: UsageReport, q: UsageQuery): { start: number; item?: UsageItem }[] {
  const byStart = new Map(report.items.map((i) => [Date.parse(i.start), i]));
  const step = periodMs(q.granularity);
  const out: { start: number; item?: UsageItem }[] = [];
  for (let t = periodStart(q.from.getTime(), q.granularity); t < q.to.getTime(); t += step) {
    out.push({ start: t, item: byStart.get(t) });
  }
  return out;
}
