import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CHROMIUM_PATH = process.env.SYNCFLOW_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions'];

/** Bundles a page script for the browser (the runtime is portable: no node: imports). */
export async function bundle(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: false,
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

/** Serves an empty page that loads `script` at http://127.0.0.1:<port>/ (IndexedDB needs a real origin). */
export async function servePage(script: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>syncflow bench</title><script type="module" src="/page.js"></script>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface ChromiumProcess {
  pid: number;
  /** `browser`, `renderer`, `zygote`, `gpu-process`, `utility:<sub-type>`, … */
  type: string;
}

/** The Chromium processes descending from `root` (this Node process by default), by /proc. */
export function chromiumProcesses(root = process.pid): ChromiumProcess[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1], 10);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: ChromiumProcess[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue;
      }
      if (/chrom/i.test(cmd)) {
        const type = /--type=(\S+)/.exec(cmd)?.[1] ?? 'browser';
        const sub = /--utility-sub-type=(\S+)/.exec(cmd)?.[1];
        out.push({ pid: child, type: sub ? `utility:${sub}` : type });
      }
      visit(child);
    }
  };
  visit(root);
  return out;
}
