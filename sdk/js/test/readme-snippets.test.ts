// The packages' README code blocks are type-checked, as a user would paste
// them into a strict TypeScript project: each ```ts block is its own
// module, compiled in memory against the sources.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const READMES = ['client/README.md', 'testing/README.md', 'react/README.md'];

function snippets(readme: string): string[] {
  const text = readFileSync(path.join(root, readme), 'utf8');
  return [...text.matchAll(/```tsx?\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

function typeErrors(files: Map<string, string>): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    jsx: ts.JsxEmit.ReactJSX,
    // Paths without baseUrl: with it, `react` would resolve to the react/
    // folder of this repository instead of the React package.
    paths: {
      '@herald/client': [path.join(root, 'client/src/index.ts')],
      '@herald/client/encrypted': [path.join(root, 'client/src/encrypted.ts')],
      '@herald/testing': [path.join(root, 'testing/src/index.ts')],
      '@herald/testing/msw': [path.join(root, 'testing/src/msw.ts')],
      '@herald/react': [path.join(root, 'react/src/index.ts')],
    },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists(f);
  host.readFile = (f) => files.get(f) ?? readFile(f);
  host.getSourceFile = (f, v, ...rest) => {
    const src = files.get(f);
    return src !== undefined ? ts.createSourceFile(f, src, v) : getSourceFile(f, v, ...rest);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.has(d.file.fileName))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${path.basename(d.file!.fileName)}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}

describe('README snippets', () => {
  it.each(READMES)('%s type-checks', (readme) => {
    const blocks = snippets(readme);
    expect(blocks.length).toBeGreaterThan(0);
    const files = new Map(blocks.map((code, i) => [path.join(root, path.dirname(readme), `__snippet_${i}.tsx`), `${code}\nexport {};\n`]));
    expect(typeErrors(files)).toEqual([]);
  }, 60_000);
});
