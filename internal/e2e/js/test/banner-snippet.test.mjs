// The pusher-js statement `herald dev` prints in its banner, pasted as is
// into a Node module: it connects to the server that printed it (the
// harness runs herald on a free port, never the default 6001) and receives
// an event.
//
// e2e-target: dev — the banner `herald dev` prints (HERALD_E2E_BANNER_FILE)

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

import { restClient, uniqueName } from '../lib/clients.mjs';
import { PORT } from '../lib/herald.mjs';
import { DOC_PORT, runModule, untilOccupied } from '../lib/snippets.mjs';

const BANNER_FILE = process.env.HERALD_E2E_BANNER_FILE;

/** The banner's pusher-js statement: `const pusher = new Pusher(` to `});`. */
const STATEMENT = /const pusher = new Pusher\([\s\S]*?\}\);/;

test("the banner's pusher-js statement connects and receives, as printed", async (t) => {
  assert.ok(BANNER_FILE, 'HERALD_E2E_BANNER_FILE is not set: run the suite with `npm test`');
  const banner = await readFile(BANNER_FILE, 'utf8');
  assert.notEqual(PORT, DOC_PORT, 'herald runs on the default port: the test would not show the banner follows --addr');
  const statement = STATEMENT.exec(banner)?.[0];
  assert.ok(statement, `the banner has no pusher-js statement:\n${banner}`);
  assert.match(statement, new RegExp(`wsPort: ${PORT}\\b`), 'the statement names the port herald listens on');

  const channel = uniqueName('banner');
  const run = runModule(t, [
    'import Pusher from "pusher-js";',
    statement,
    `pusher.subscribe(${JSON.stringify(channel)}).bind("greeting", (data) => console.log("greeting:", JSON.stringify(data)));`,
  ].join('\n'));
  const rest = restClient();
  await untilOccupied(rest, channel);
  await rest.trigger(channel, 'greeting', { from: 'the banner' });
  await run.waitForOutput(/greeting: \{"from":"the banner"\}/, 'the event');
});
