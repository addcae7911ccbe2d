// Webhooks against the `pusher` server SDK's own check: a receiver built
// the way a Pusher customer builds one (`pusher.webhook({headers,
// rawBody})`) accepts Herald's requests — signature, key and the exact
// Content-Type. The endpoint's test route sends a signed webhook_test.

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { rest, WAIT_MS } from '../lib/clients.mjs';
import { admin, DEMO_APP } from '../lib/herald.mjs';

/** A webhook receiver on a loopback port (herald dev allows private addresses). */
async function receiver(t) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, requests };
}

test('the pusher SDK validates a webhook from Herald', { timeout: 2 * WAIT_MS }, async (t) => {
  const r = await receiver(t);
  const endpoint = await admin('POST', `/apps/${DEMO_APP.appId}/webhooks`, { url: r.url });
  t.after(() => admin('DELETE', `/apps/${DEMO_APP.appId}/webhooks/${endpoint.id}`));

  const res = await admin('POST', `/apps/${DEMO_APP.appId}/webhooks/${endpoint.id}/test`);
  assert.equal(res.ok, true, JSON.stringify(res));
  assert.equal(res.status_code, 200);
  assert.equal(r.requests.length, 1);

  const hook = rest.webhook(r.requests[0]);
  assert.equal(hook.isContentTypeValid(), true, `Content-Type ${r.requests[0].headers['content-type']}`);
  assert.equal(hook.isValid(), true, 'signature or key refused');
  assert.deepEqual(hook.getEvents(), [{ name: 'webhook_test' }]);
  assert.ok(Math.abs(hook.getTime().getTime() - Date.now()) < 60_000);
  assert.match(r.requests[0].headers['x-herald-delivery'], /^whd_/);
  assert.match(r.requests[0].headers['user-agent'], /^Herald-Webhooks\//);

  // A tampered body fails the same check.
  const forged = rest.webhook({ headers: r.requests[0].headers, rawBody: r.requests[0].rawBody.replace('webhook_test', 'channel_vacated') });
  assert.equal(forged.isValid(), false);
});
