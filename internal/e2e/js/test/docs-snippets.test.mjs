// The JavaScript blocks of docs/clients.md, run as written (only the
// address changed): pusher-js and both Laravel Echo broadcasters receive
// an event, and the `pusher` server SDK block triggers one that pusher-js
// receives. A block missing from the page fails its test.
//
// e2e-target: dev — docs/clients.md's blocks use herald dev's demo app (key app-key)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { restClient } from '../lib/clients.mjs';
import { atServerUnderTest, clientsDocBlocks, runModule, runToEnd, untilOccupied } from '../lib/snippets.mjs';

const rest = restClient();
const blocks = await clientsDocBlocks();

/** The JavaScript blocks this file runs, by their test name. */
const JS_BLOCKS = ['pusher-js', 'echo-pusher', 'echo-reverb', 'pusher-npm'];

/**
 * The code of the block fenced `js test=name`, at the server under test;
 * it fails when the page has no such block. channel, when given, must be
 * the channel the block uses, which the test watches.
 */
function block(name, channel) {
  const found = blocks.filter((b) => b.name === name);
  assert.equal(found.length, 1, `docs/clients.md should have one block fenced \`js test=${name}\`, has ${found.length}`);
  assert.equal(found[0].lang, 'js', `the ${name} block's language`);
  if (channel) {
    assert.ok(found[0].code.includes(`"${channel}"`), `the ${name} block no longer uses the channel ${channel}:\n${found[0].code}`);
  }
  return atServerUnderTest(found[0].code);
}

/**
 * Starts a subscribing block and resolves once it is subscribed: the
 * channel empty first (an earlier test's process may still be leaving it),
 * then occupied by this one.
 */
async function subscribedBlock(t, name, channel) {
  await untilOccupied(rest, channel, false);
  const run = runModule(t, block(name, channel));
  await untilOccupied(rest, channel);
  return run;
}

test('every JavaScript block of docs/clients.md is one this file runs', () => {
  const js = blocks.filter((b) => b.lang === 'js');
  assert.ok(js.length > 0, 'found no js block in docs/clients.md: the extraction is broken');
  for (const b of js) {
    assert.ok(JS_BLOCKS.includes(b.name), `a js block is fenced with test=${b.name}, which no test runs:\n${b.code}`);
  }
});

test('the pusher-js block receives what the pusher (npm) block triggers', async (t) => {
  const client = await subscribedBlock(t, 'pusher-js', 'my-channel');
  await runToEnd(t, block('pusher-npm', 'my-channel'));
  await client.waitForOutput(/my-event: \{ message: 'hello' \}/, 'the event the server SDK block triggered');
});

for (const name of ['echo-pusher', 'echo-reverb']) {
  test(`the Echo ${name.slice('echo-'.length)} broadcaster block hears a Laravel event`, async (t) => {
    const echo = await subscribedBlock(t, name, 'orders');
    // As Laravel broadcasts App\Events\OrderShipped.
    await rest.trigger('orders', 'App\\Events\\OrderShipped', { order: { id: 7 } });
    await echo.waitForOutput(/OrderShipped: \{ order: \{ id: 7 \} \}/, 'the OrderShipped event');
  });
}
