/**
 * Summarizes a V8 .cpuprofile (from `npm run bench -- <name> --profile`): self time and
 * inclusive time per function, heaviest first.
 *
 *   npx tsx bench/support/profileSummary.ts bench/results/profiles/<file>.cpuprofile [--top 30] [--match src/]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarize(profile: Profile): { totalMs: number; self: Array<[string, number]>; inclusive: Array<[string, number]> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*?\/(src|bench|test)\//, '$1/').replace(/^file:\/\//, '');
    return `${n.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  };
  const perNode = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    perNode.set(id, (perNode.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of perNode) {
    self.set(name(byId.get(id)!), (self.get(name(byId.get(id)!)) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + t);
    }
  }
  const sorted = (m: Map<string, number>) => [...m].map(([k, v]) => [k, v / 1000] as [string, number]).sort((a, b) => b[1] - a[1]);
  return { totalMs: total / 1000, self: sorted(self), inclusive: sorted(inclusive) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx bench/support/profileSummary.ts <file.cpuprofile> [--top N] [--match text]');
    process.exit(2);
  }
  const opt = (flag: string) => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const top = Number(opt('--top') ?? 25);
  const match = opt('--match');
  const s = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const show = (rows: Array<[string, number]>) =>
    rows.filter(([k]) => !match || k.includes(match)).slice(0, top).forEach(([k, ms]) => console.log(`${ms.toFixed(0).padStart(8)} ms  ${(((ms / s.totalMs) * 100).toFixed(1) + '%').padStart(6)}  ${k}`));
  console.log(`${file}: ${s.totalMs.toFixed(0)} ms sampled\n-- self time`);
  show(s.self);
  console.log('-- inclusive time');
  show(s.inclusive);
}
