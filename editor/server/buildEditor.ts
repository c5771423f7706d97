/**
 * Builds the editor app with Vite into `editor/dist` when it is missing or older than its
 * sources (the app and the portable runtime it bundles from `src/`). Node-only.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const editorDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = join(editorDir, '..');
export const defaultDistDir = join(editorDir, 'dist');

const STAMP = '.build-stamp.json';

/** What the bundle is made of; a change to any of them means a rebuild. */
const SOURCES = [
  join(editorDir, 'index.html'),
  join(editorDir, 'src'),
  join(editorDir, 'server', 'buildEditor.ts'),
  join(repoDir, 'src'),
  join(repoDir, 'package-lock.json'),
];
/** Node-only folders the browser bundle never includes. */
const NOT_BUNDLED = [join(repoDir, 'src', 'server'), join(repoDir, 'src', 'cli'), join(repoDir, 'src', 'flow', 'node')];

interface Stamp {
  /** When the build started: a source written later makes the build stale. */
  startedMs: number;
  files: number;
  mode: string;
}

const buildMode = () => (process.env.SYNCFLOW_EDITOR_DEBUG ? 'development' : 'production');

async function sourceState(): Promise<{ newestMs: number; files: number }> {
  let newestMs = 0;
  let files = 0;
  const visit = async (path: string): Promise<void> => {
    if (NOT_BUNDLED.includes(path)) return;
    const s = await stat(path).catch(() => null);
    if (!s) return;
    if (s.isDirectory()) {
      await Promise.all((await readdir(path)).map((name) => visit(join(path, name))));
    } else {
      files++;
      newestMs = Math.max(newestMs, s.mtimeMs);
    }
  };
  await Promise.all(SOURCES.map(visit));
  return { newestMs, files };
}

async function isFresh(distDir: string): Promise<boolean> {
  const stamp = await readFile(join(distDir, STAMP), 'utf8')
    .then((t) => JSON.parse(t) as Stamp)
    .catch(() => null);
  if (!stamp) return false;
  if (!(await stat(join(distDir, 'index.html')).catch(() => null))) return false;
  const sources = await sourceState();
  return sources.newestMs < stamp.startedMs && sources.files === stamp.files && stamp.mode === buildMode();
}

/** Whether a process is alive (signal 0 only checks). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One build at a time across processes (test workers start editors together): a lock folder
 * holding the builder's pid. A lock whose process is gone (killed mid-build) is taken over.
 */
async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => ''));
      const s = await stat(lockDir).catch(() => null);
      // No pid yet: the owner is between mkdir and writeFile, unless that was long ago.
      const abandoned = owner ? !isAlive(owner) : s !== null && Date.now() - s.mtimeMs > 10_000;
      if (abandoned) await rm(lockDir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`Timed out waiting for the editor build lock ${lockDir}`);
      else await new Promise((r) => setTimeout(r, 150));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

export interface BuildOptions {
  distDir?: string;
  /** Build even when the bundle is fresh. */
  force?: boolean;
  log?: (line: string) => void;
}

/**
 * Makes sure `distDir` holds a bundle of the current sources; returns the folder.
 *
 * @example
 * const dist = await ensureEditorBuilt(); // builds on the first start, then only after edits
 */
export async function ensureEditorBuilt(options: BuildOptions = {}): Promise<string> {
  const distDir = options.distDir ?? defaultDistDir;
  if (!options.force && (await isFresh(distDir))) return distDir;
  return withLock(`${distDir}.lock`, async () => {
    if (!options.force && (await isFresh(distDir))) return distDir;
    const startedMs = Date.now();
    const { files } = await sourceState();
    const t0 = performance.now();
    options.log?.(`building the editor into ${relative(process.cwd(), distDir) || distDir} ...`);
    const tmp = `${distDir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    // Vite and its React plugin are needed only to build, not to serve.
    const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
    const mode = buildMode();
    // Vite takes NODE_ENV from the environment (vitest sets "test", which would bundle React's development build).
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = mode;
    try {
      await build({
        root: editorDir,
        configFile: false,
        envDir: false,
        // Relative asset paths: the same bundle serves at `/` (its own port) and under `/editor/`.
        base: './',
        // SYNCFLOW_EDITOR_DEBUG=1: React's development build (its warnings) and readable names.
        mode,
        define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
        logLevel: 'warn',
        clearScreen: false,
        plugins: [react()],
        build: {
          outDir: tmp,
          emptyOutDir: true,
          chunkSizeWarningLimit: 4096,
          reportCompressedSize: false,
          sourcemap: true,
          // SYNCFLOW_EDITOR_DEBUG=1 keeps names readable in stack traces.
          minify: mode === 'production',
        },
      });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    await writeFile(join(tmp, STAMP), JSON.stringify({ startedMs, files, mode } satisfies Stamp));
    // Swap the folders: a server reading the old bundle meanwhile gets whole files.
    const old = `${distDir}.old-${process.pid}`;
    await rename(distDir, old).catch(() => undefined);
    await rename(tmp, distDir);
    await rm(old, { recursive: true, force: true });
    options.log?.(`built the editor in ${Math.round(performance.now() - t0)} ms`);
    return distDir;
  });
}
