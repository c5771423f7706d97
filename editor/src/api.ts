/** The editor server's flows API (editor/server/startEditor.ts), from the page. */
import type { FlowProblem } from '../../src/flow/validateFlow.ts';
// The server's own type of a listed flow (a type only: nothing of the server reaches the page).
import type { FlowSummary } from '../server/flowRepository.ts';

export type { FlowSummary };

export interface EditorUser {
  id: string;
  token: string;
}

/** The server refused a request; `problems` when a flow would not load. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: FlowProblem[] = [],
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/editor-api${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as { error?: { message?: string }; problems?: FlowProblem[] } | null;
  if (!res.ok) throw new ApiError(res.status, json?.error?.message ?? `${method} ${path}: HTTP ${res.status}`, json?.problems ?? []);
  return json as T;
}

export const api = {
  config: () => call<{ users: EditorUser[] }>('GET', '/config'),
  list: () => call<{ flows: FlowSummary[] }>('GET', '/flows').then((r) => r.flows),
  read: (id: string) => call<FlowSummary>('GET', `/flows/${encodeURIComponent(id)}`),
  save: (id: string, flow: unknown) => call<FlowSummary>('PUT', `/flows/${encodeURIComponent(id)}`, flow),
  create: (name: string) => call<FlowSummary>('POST', '/flows', { name }),
};
