// Plans with quotas, as a tenant's backend meets them through the `pusher`
// server SDK: a publish over a hard quota is a clean 429 error to the
// caller, and raising the plan lets publishes through again without a
// restart (docs/billing.md, "Quotas and enforcement").
//
// e2e-target: any

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createApp } from '../lib/apps.mjs';
import { restClient, uniqueName, WAIT_MS } from '../lib/clients.mjs';
import { admin, EXTERNAL } from '../lib/herald.mjs';

/** Pause between two publishes while a plan's change propagates. */
const RETRY_MS = 100;
/**
 * How long publishes over a hard quota may still be accepted on an
 * external Herald: several processes overshoot by what the others accepted
 * before the account's totals reached them, about one fold (200 ms;
 * docs/billing.md, "Overshoot bound"); the usual bounded wait leaves room
 * for a loaded machine.
 */
const OVERSHOOT_WINDOW_MS = WAIT_MS;

/** The plan fields a test sets; every other limit stays unlimited. */
function plan(enforcement, limits) {
  return { name: uniqueName(`js-${enforcement}`), enforcement, limits };
}

/** Checks that err is the SDK's error for a 429 quota_exceeded answer. */
function isQuotaExceeded(err) {
  assert.equal(err.name, 'PusherRequestError');
  assert.equal(err.status, 429);
  const body = JSON.parse(err.body);
  assert.equal(body.error.code, 'quota_exceeded');
  assert.match(body.error.message, /max_messages_per_day/);
  return true;
}

test('hard daily quota: the SDK gets 429 quota_exceeded, and a raised plan lets publishes through', async () => {
  const limited = await admin('POST', '/plans', plan('hard', { max_messages_per_day: 3 }));
  const app = await createApp({}, { planId: limited.id });
  const sdk = restClient(app);
  // Nobody subscribes: each publish counts one message.
  const channel = uniqueName('quota-hard');
  for (let i = 0; i < 3; i += 1) {
    const res = await sdk.trigger(channel, 'counted', { i });
    assert.equal(res.status, 200);
  }
  // Over it: refused, and a refused publish counts nothing, so the next one
  // is refused too. One herald refuses at once; behind a balancer another
  // control plane may accept a few until the totals reach it.
  let over = 0;
  let refusedInARow = 0;
  const settleBy = Date.now() + OVERSHOOT_WINDOW_MS;
  while (refusedInARow < 2) {
    try {
      await sdk.trigger(channel, 'over-quota', {});
    } catch (err) {
      isQuotaExceeded(err);
      refusedInARow += 1;
      continue;
    }
    over += 1;
    refusedInARow = 0;
    assert.ok(EXTERNAL, 'herald dev accepted a publish over the hard quota');
    assert.ok(Date.now() < settleBy, `${over} publishes over the quota accepted in ${OVERSHOOT_WINDOW_MS} ms`);
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }

  await admin('PATCH', `/plans/${limited.id}`, { ...plan('hard', { max_messages_per_day: 1000 }), name: limited.name });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const res = await sdk.trigger(channel, 'after-raise', {});
      assert.equal(res.status, 200);
      break;
    } catch (err) {
      isQuotaExceeded(err);
      if (Date.now() > deadline) {
        throw new Error(`still refused ${WAIT_MS} ms after the plan was raised`);
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
});

test('soft daily quota: nothing is refused over it', async () => {
  const soft = await admin('POST', '/plans', plan('soft', { max_messages_per_day: 2 }));
  const app = await createApp({}, { planId: soft.id });
  const sdk = restClient(app);
  const channel = uniqueName('quota-soft');
  for (let i = 0; i < 5; i += 1) {
    const res = await sdk.trigger(channel, 'counted', { i });
    assert.equal(res.status, 200);
  }
});
