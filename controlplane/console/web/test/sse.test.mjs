// The debug console's SSE parser (src/live/sse.ts), bundled by esbuild and
// fed the stream the way the network cuts it: events split anywhere,
// comments, multi-line data, CRLF and CR line ends.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import * as esbuild from 'esbuild';

import { webRoot } from './harness.mjs';

async function loadParser() {
  const out = await esbuild.build({ entryPoints: [path.join(webRoot, 'src/live/sse.ts')], bundle: true, format: 'esm', write: false, logLevel: 'silent' });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

const { SSEParser } = await loadParser();

function parse(chunks) {
  const got = [];
  const p = new SSEParser((d) => got.push(d));
  for (const c of chunks) p.push(c);
  return got;
}

test('the SSE parser reads events however the stream is cut', () => {
  const stream = ': keepalive\n\ndata: {"type":"ready"}\n\ndata: {"a":1}\n\n: keepalive\n\ndata: line one\ndata:line two\n\n';
  const want = ['{"type":"ready"}', '{"a":1}', 'line one\nline two'];
  assert.deepEqual(parse([stream]), want);
  for (let i = 1; i < stream.length; i++) {
    assert.deepEqual(parse([stream.slice(0, i), stream.slice(i)]), want, `cut at ${i}`);
  }
  assert.deepEqual(parse(stream.split('')), want, 'one character at a time');
});

test('the SSE parser takes CRLF and CR line ends, also split between chunks', () => {
  assert.deepEqual(parse(['data: a\r\n\r\ndata: b\r\r']), ['a', 'b']);
  assert.deepEqual(parse(['data: a\r', '\n\r', '\ndata: b\r', '\r']), ['a', 'b']);
});

test('the SSE parser ignores other fields and waits for the blank line', () => {
  assert.deepEqual(parse(['event: x\nid: 7\nretry: 10\ndata: only\n\n']), ['only']);
  assert.deepEqual(parse(['data: unfinished\n']), []);
  assert.deepEqual(parse(['\n\n\n']), []);
});
