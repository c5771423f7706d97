import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** A JSON path as the problems show it: `nodes[3].activity.values.title`. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** Zod issues as problems; a union is reported by its closest branch, not as "Invalid input". */
export function issueProblems(issues: readonly Issue[], base: PropertyKey[] = []): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // The branch with the fewest problems is the one the author meant; an unknown key is a strong hint it was not.
      const score = (branch: readonly Issue[]) => branch.reduce((s, i) => s + (i.code === 'unrecognized_keys' ? 10 : 1), 0);
      const best = issue.errors.reduce((a, b) => (score(b) < score(a) ? b : a));
      out.push(...issueProblems(best, path));
    } else if (issue.code === 'invalid_union') {
      const options = (issue as { options?: unknown[] }).options;
      out.push({ path, message: options ? `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : issue.message });
    } else if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown field' });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}
