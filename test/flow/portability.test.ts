import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../src/flow', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the flow interpreter is portable and safe', () => {
  const files = sources(root);
  const portable = files.filter((f) => !f.includes(`${join(root, 'node')}`));

  it('imports no node: module outside src/flow/node', () => {
    const offenders = portable.filter((f) => /from ['"]node:/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('never uses eval or new Function', () => {
    const offenders = files.filter((f) => /\beval\s*\(|new\s+Function\s*\(/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('bundles for the browser', async () => {
    const result = await build({
      entryPoints: [join(root, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    // the expression parser is in the bundle (one of its messages)
    expect(result.outputFiles[0].text).toContain('The expression is empty');
  });
});
