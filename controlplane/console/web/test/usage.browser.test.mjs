// The usage page after real traffic (the `pusher` server SDK publishing
// to a pusher-js subscriber on the demo app, metered with a short flush
// interval): the charts are drawn with non-zero data, the table beside
// them shows the usage API's numbers, the CSV download holds the same
// rows. The page's screenshot (test-results/console-readme.png) is the
// README's docs/console.png: make console-screenshot refreshes it.

import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { DEMO_APP, RESULTS, repoRoot, sendTraffic, startConsole } from './harness.mjs';

/** Events the traffic sends; each is published once and delivered once. */
const EVENTS = 12;

let h;

before(async () => {
  h = await startConsole();
});

after(async () => {
  await h?.stop();
});

/**
 * The rows of the chart's canvas where a series' line is drawn (the
 * palette's first two colours, #3156d3 and #2fa37a, opaque): a flat line
 * at zero covers one or two rows, a line that rises many.
 */
function seriesRows(page, testId) {
  return page.evaluate((id) => {
    const canvas = document.querySelector(`[data-testid="${id}"] canvas`);
    if (!canvas) return 0;
    const { width, height } = canvas;
    const px = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    const rows = new Set();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        const near = (r, g, b) => Math.abs(px[i] - r) < 40 && Math.abs(px[i + 1] - g) < 40 && Math.abs(px[i + 2] - b) < 40;
        if (px[i + 3] > 200 && (near(0x31, 0x56, 0xd3) || near(0x2f, 0xa3, 0x7a))) {
          rows.add(y);
          break;
        }
      }
    }
    return rows.size;
  }, testId);
}

test('the usage page charts traffic with non-zero data and a table of the numbers', async () => {
  const report = await sendTraffic(h, {
    count: EVENTS,
    holdUntil: async () => {
      const r = await h.admin('GET', `/apps/${DEMO_APP.appId}/usage`);
      return r.totals.messages_published >= EVENTS && r.totals.messages_delivered >= EVENTS && r.totals.peak_connections >= 1 && r;
    },
  });

  const page = await h.signedInPage(`usage/apps/${DEMO_APP.appId}`);
  const table = page.getByTestId('usage-table');
  await table.locator('tbody tr td.num').first().waitFor();
  const cells = await table.locator('tbody tr').first().locator('td.num').allTextContents();
  assert.ok(Number(cells[0].replace(/,/g, '')) >= EVENTS, `published cell ${cells[0]}`);
  assert.ok(Number(cells[1].replace(/,/g, '')) >= EVENTS, `delivered cell ${cells[1]}`);
  const publishedStat = page.getByTestId('usage-totals').locator('.stat', { hasText: 'Published' }).locator('.value');
  assert.equal(await publishedStat.textContent(), report.totals.messages_published.toLocaleString('en-US'));

  for (const chart of ['chart-messages', 'chart-connections', 'chart-bytes']) {
    await page.locator(`[data-testid="${chart}"] canvas`).waitFor();
  }
  const rows = await seriesRows(page, 'chart-messages');
  assert.ok(rows > 5, `the messages line spans ${rows} rows of pixels: is it flat at zero?`);
  await h.screenshot(page, 'usage');

  // Daily: one period holds it all.
  await page.getByTestId('granularity-day').click();
  await page.locator('[data-testid="granularity-day"][aria-pressed="true"]').waitFor();
  await page.locator('[data-testid="usage-view"][data-granularity="day"][aria-busy="false"]').waitFor();
  await table.locator('th', { hasText: 'Day (UTC)' }).waitFor();
  await page.locator('[data-testid="chart-messages"] canvas').waitFor();

  // The CSV download: the API's columns, the same numbers.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('usage-csv').click()]);
  assert.match(download.suggestedFilename(), /^usage-app-app-id-day\.csv$/);
  const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  const header = csv[0].split(',');
  assert.equal(header[0], 'start');
  const published = header.indexOf('messages_published');
  assert.ok(published > 0, `CSV header ${csv[0]}`);
  assert.ok(
    csv.slice(1).some((line) => Number(line.split(',')[published]) >= EVENTS),
    csv.join('\n'),
  );
  await h.assertNoCSPViolations(page);

  // The README's picture: the hourly view, once everything above held.
  await page.getByTestId('granularity-hour').click();
  await page.locator('[data-testid="usage-view"][data-granularity="hour"][aria-busy="false"]').waitFor();
  await table.locator('th', { hasText: 'Hour (UTC)' }).waitFor();
  await page.locator('[data-testid="chart-messages"] canvas').waitFor();
  assert.ok((await seriesRows(page, 'chart-messages')) > 5);
  const shot = path.join(RESULTS, 'console-readme.png');
  await page.screenshot({ path: shot });
  // Copied over the README's only when asked (make console-screenshot), so
  // that a test run leaves the checkout as it was.
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
    await copyFile(shot, path.join(repoRoot, 'docs/console.png'));
  }
});

test("an account's usage sums its apps", async () => {
  const page = await h.signedInPage('usage/accounts');
  await page.getByTestId('usage-kind').waitFor();
  assert.equal(await page.getByTestId('usage-kind').inputValue(), 'accounts');
  await page.getByTestId('usage-table').locator('tbody tr td.num').first().waitFor();
  await page.getByTestId('usage-target').waitFor();
  await h.screenshot(page, 'usage-account');
});
