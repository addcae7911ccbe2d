// docs/sdk-js is TypeDoc's output for the current sources: this test
// generates it again into a temporary folder and compares, so that an API
// change without `npm run docs` fails.

import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Application } from 'typedoc';
import { describe, expect, it } from 'vitest';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const committed = path.resolve(root, '../../docs/sdk-js');

async function files(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, full), await readFile(full, 'utf8'));
  }
  return out;
}

describe('API docs', () => {
  it('docs/sdk-js is current (regenerate with `npm run docs`)', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'herald-sdk-docs-'));
    try {
      const app = await Application.bootstrapWithPlugins({ options: path.join(root, 'typedoc.json'), out: tmp, logLevel: 'Warn' });
      const project = await app.convert();
      expect(project).toBeDefined();
      await app.generateOutputs(project!);
      const want = await files(tmp);
      const have = await files(committed);
      expect([...have.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [name, text] of want) expect(have.get(name), name).toBe(text);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
