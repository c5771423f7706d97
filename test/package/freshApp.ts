/**
 * A fresh app outside the repository with syncflow installed from its tarball, offline, from the
 * local npm cache: the newcomer's steps, each timed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { root } from '../support/cli.ts';

const run = promisify(execFile);
export const timings: Record<string, number> = {};

async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    timings[step] = Math.round(performance.now() - t0);
  }
}

async function newest(dir: string): Promise<number> {
  let max = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? await newest(path) : (await stat(path)).mtimeMs);
  }
  return max;
}

/** `npm run build` unless dist/ is newer than every source (a build takes a minute on 2 busy cores). */
export async function ensureBuilt(): Promise<void> {
  const built = await stat(join(root, 'dist/index.js')).then((s) => s.mtimeMs, () => 0);
  const sources = Math.max(await newest(join(root, 'src')), (await stat(join(root, 'tsconfig.build.json'))).mtimeMs);
  if (built > sources) return;
  await timed('npm run build', () => run('npm', ['run', 'build'], { cwd: root, maxBuffer: 1 << 24 }));
}

/** Packs the repository (npm pack) and installs the tarball into a new folder, offline. */
export async function freshApp(): Promise<string> {
  await ensureBuilt();
  const base = await mkdtemp(join(tmpdir(), 'syncflow-app-'));
  const tarball = await timed('npm pack', async () => {
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', base], { cwd: root, maxBuffer: 1 << 24 });
    return join(base, JSON.parse(stdout)[0].filename as string);
  });
  const app = join(base, 'my-app');
  await mkdir(app);
  const dependency = `file:../${basename(tarball)}`;
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module', dependencies: { syncflow: dependency } }, null, 2));
  await writeFile(join(app, 'package-lock.json'), JSON.stringify(await appLockfile(dependency), null, 2));
  await timed('npm install --offline <tarball>', () =>
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, maxBuffer: 1 << 24 }),
  );
  // The example task list's files: config, schema, flows, page (everything but its package.json).
  for (const name of ['syncflow.config.ts', 'schema.ts', 'flows', 'index.html', 'src']) {
    await cp(join(root, 'examples/tasks', name), join(app, name), { recursive: true });
  }
  return app;
}

/**
 * The app's lockfile: syncflow from the tarball, its dependencies as this repository locked them.
 * The npm cache holds their tarballs (by integrity) but not the registry's package documents (the
 * repository was installed from its lockfile), so `npm install --offline` needs every version and
 * tarball given; online, `npm install ./syncflow-0.1.0.tgz` needs none of this.
 */
async function appLockfile(dependency: string): Promise<unknown> {
  const repoLock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8'));
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const packages: Record<string, unknown> = {
    '': { name: 'my-app', dependencies: { syncflow: dependency } },
    'node_modules/syncflow': { version: pkg.version, resolved: dependency, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(repoLock.packages as Record<string, Record<string, unknown>>)) {
    if (!path.startsWith('node_modules/') || entry.dev || entry.link) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const { devOptional: _, ...kept } = entry;
    packages[path] = { resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`, ...kept };
  }
  return { name: 'my-app', lockfileVersion: 3, requires: true, packages };
}

/** `npx syncflow serve --port 0 --no-editor` in the app; resolves with the URL it prints. */
export function serveApp(app: string): Promise<{ child: ChildProcess; url: string }> {
  return timed('npx syncflow serve (until listening)', () => {
    const child = spawn(join(app, 'node_modules/.bin/syncflow'), ['serve', '--port', '0', '--no-editor'], { cwd: app, env: { ...process.env, NO_COLOR: '1' } });
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const url = /sync server: (http:\/\/\S+)/.exec(out)?.[1];
        if (url) resolve({ child, url });
      });
      child.stderr!.on('data', (d) => (out += d));
      child.on('close', (code) => reject(new Error(`syncflow serve ended (${code}): ${out}`)));
    });
  });
}

/** Runs a script of the app with node. */
export function runScript(app: string, file: string): Promise<string> {
  return timed(`node ${file}`, async () => (await run(process.execPath, [file], { cwd: app })).stdout);
}

/** Builds the app's page with Vite (the repository's; the app resolves syncflow and React from its own node_modules). */
export async function buildPage(app: string): Promise<string> {
  return timed('vite build', async () => {
    const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ root: app, configFile: false, envDir: false, logLevel: 'warn', plugins: [react()], mode: 'production', build: { outDir: join(app, 'dist'), target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 4096 } });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    return join(app, 'dist');
  });
}

export { timed };
