import { useMemo, useState } from 'preact/hooks';

import { fmtBytes, fmtNumber, fmtTime } from '../format';
import { useLoad } from '../hooks';
import { Chart } from '../ui/Chart';
import { ErrorBox } from '../ui/ErrorBox';
import { Loading } from '../ui/Page';
import { Table } from '../ui/Table';
import { fillPeriods, type Granularity, getUsage, getUsageCSV, ranges, type UsageQuery, type UsageScope } from '../usage';

/** Whole periods only: the API rounds to them anyway. */
function queryOf(rangeId: string, granularity: Granularity, now: number): UsageQuery {
  const r = ranges.find((x) => x.id === rangeId) ?? ranges[0];
  return { from: new Date(now - r.ms), to: new Date(now), granularity };
}

/**
 * The usage of one app or account: a range and a granularity, charts of
 * messages, connections and bytes, the numbers in a table beside them,
 * and a CSV download of the same report.
 */
export function UsageView({ scope }: { scope: UsageScope }) {
  const [rangeId, setRangeId] = useState(ranges[0].id);
  const [granularity, setGranularity] = useState<Granularity>(ranges[0].granularity);
  // "now" moves only on refresh, so that a re-render does not refetch.
  const [now, setNow] = useState(() => Date.now());
  const q = useMemo(() => queryOf(rangeId, granularity, now), [rangeId, granularity, now]);
  // The report with the query it answers: until a new one arrives, the
  // page shows the last one whole, never its periods on another range.
  const loaded = useLoad(async (signal) => ({ q, report: await getUsage(scope, q, signal) }), [scope.kind, scope.id, q]);
  const report = { data: loaded.data?.report, error: loaded.error };
  const shown = loaded.data?.q;
  const [csvError, setCsvError] = useState<unknown>(undefined);

  const filled = useMemo(() => (loaded.data ? fillPeriods(loaded.data.report, loaded.data.q) : []), [loaded.data]);
  const x = useMemo(() => filled.map((p) => p.start), [filled]);
  const col = (k: 'messages_published' | 'messages_delivered' | 'peak_connections' | 'bytes_in' | 'bytes_out') => filled.map((p) => p.item?.[k] ?? 0);
  const messages = useMemo(
    () => [
      { label: 'Published', values: col('messages_published') },
      { label: 'Delivered', values: col('messages_delivered') },
    ],
    [filled],
  );
  const connections = useMemo(() => [{ label: 'Peak connections', values: col('peak_connections') }], [filled]);
  const bytes = useMemo(
    () => [
      { label: 'Bytes in', values: col('bytes_in') },
      { label: 'Bytes out', values: col('bytes_out') },
    ],
    [filled],
  );

  const download = async () => {
    setCsvError(undefined);
    try {
      const blob = await getUsageCSV(scope, q);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `usage-${scope.kind === 'apps' ? 'app' : 'account'}-${scope.id}-${granularity}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 0);
    } catch (err) {
      setCsvError(err);
    }
  };

  const totals = report.data?.totals;
  return (
    <div class="usage" data-testid="usage-view" aria-busy={loaded.loading ? 'true' : 'false'} data-granularity={shown?.granularity}>
      <div class="toolbar">
        <div class="field">
          <label for="usage-range">Range</label>
          <select
            id="usage-range"
            value={rangeId}
            onChange={(e) => {
              const r = ranges.find((x) => x.id === e.currentTarget.value) ?? ranges[0];
              setRangeId(r.id);
              setGranularity(r.granularity);
              setNow(Date.now());
            }}
            data-testid="usage-range"
          >
            {ranges.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <span class="label-text" id="gran-label">
            Granularity
          </span>
          <div class="segmented" role="group" aria-labelledby="gran-label">
            {(['hour', 'day'] as Granularity[]).map((g) => (
              <button
                type="button"
                key={g}
                aria-pressed={granularity === g ? 'true' : 'false'}
                onClick={() => setGranularity(g)}
                data-testid={`granularity-${g}`}
              >
                {g === 'hour' ? 'Hourly' : 'Daily'}
              </button>
            ))}
          </div>
        </div>
        <span class="spacer" />
        <button
          type="button"
          class="btn"
          onClick={() => {
            setNow(Date.now());
          }}
          data-testid="usage-refresh"
        >
          Refresh
        </button>
        <button type="button" class="btn" onClick={download} data-testid="usage-csv">
          Download CSV
        </button>
      </div>
      <ErrorBox error={csvError} />
      <ErrorBox error={report.error} />
      {!report.data ? (
        !report.error && <Loading />
      ) : (
        <>
          <div class="stat-grid" data-testid="usage-totals">
            <Stat label="Messages" value={fmtNumber(totals?.messages)} />
            <Stat label="Published" value={fmtNumber(totals?.messages_published)} />
            <Stat label="Delivered" value={fmtNumber(totals?.messages_delivered)} />
            <Stat label="Peak connections" value={fmtNumber(totals?.peak_connections)} />
            <Stat label="Bytes out" value={fmtBytes(totals?.bytes_out)} />
            {totals?.over_quota && <Stat label="Quota" value="Over quota" />}
          </div>
          <div class="usage-layout">
            <div class="charts">
              <section class="card chart-card">
                <h3>Messages</h3>
                <Chart x={x} series={messages} format={fmtNumber} label="Messages published and delivered per period" testId="chart-messages" />
              </section>
              <section class="card chart-card">
                <h3>Connections</h3>
                <Chart x={x} series={connections} format={fmtNumber} label="Peak concurrent connections per period" testId="chart-connections" />
              </section>
              <section class="card chart-card">
                <h3>Bytes</h3>
                <Chart x={x} series={bytes} format={fmtBytes} label="Bytes in and out per period" testId="chart-bytes" />
              </section>
            </div>
            <Table
              testId="usage-table"
              caption="Usage per period"
              rows={[...report.data.items].reverse()}
              rowKey={(i) => i.start}
              empty="No usage in this range."
              columns={[
                {
                  label: shown?.granularity === 'hour' ? 'Hour (UTC)' : 'Day (UTC)',
                  render: (i) => (shown?.granularity === 'hour' ? fmtTime(i.start).replace(':00:00 UTC', ':00') : i.start.slice(0, 10)),
                },
                { label: 'Published', numeric: true, render: (i) => fmtNumber(i.messages_published) },
                { label: 'Delivered', numeric: true, render: (i) => fmtNumber(i.messages_delivered) },
                { label: 'Peak', numeric: true, render: (i) => fmtNumber(i.peak_connections) },
                { label: 'Bytes out', numeric: true, render: (i) => fmtBytes(i.bytes_out) },
              ]}
            />
          </div>
        </>
      )}
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div class="stat">
      <div class="label">{label}</div>
      <div class="value">{value}</div>
    </div>
  );
}
