/**
 * The editor server's API (editor/server/startEditor.ts), from the page: the sign-in and the
 * flows. The page never holds a token: the server keeps it in the session behind an HttpOnly cookie.
 */
import type { FlowProblem } from '../../src/flow/validateFlow.ts';
import type { Schema } from '../../src/model/schema.ts';
import type { ProfileInput } from '../../src/profiles/Profile.ts';
// The server's own type of a listed flow (a type only: nothing of the server reaches the page).
import type { FlowSummary } from '../server/flowRepository.ts';

export type { FlowSummary };

/** Who is signed in, as the sync server says; only authors may save and create flows. */
export interface EditorSession {
  user: string;
  roles: string[];
  canAuthor: boolean;
}

/**
 * The app the editor serves (its config's schema and sync profiles, parsed by the server): the
 * page validates flows against it and its runtime runs them against it.
 */
export interface AppInfo {
  schema: Schema;
  profiles: ProfileInput[];
}

/** The server refused a request; `problems` when a flow would not load, `current` when a save was stale (409). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: FlowProblem[] = [],
    readonly current: FlowSummary | null = null,
  ) {
    super(message);
  }
}

/** How a save is made: the version it was based on (`*`: overwrite whatever is there), and as a draft with problems. */
export interface SaveOptions {
  ifMatch?: string;
  draft?: boolean;
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  // Relative to the page: the editor may be served under a path of the sync server (`/editor/`).
  const res = await fetch(`editor-api${path}`, {
    credentials: 'same-origin',
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => null)) as { error?: { message?: string }; problems?: FlowProblem[]; current?: FlowSummary } | null;
  if (!res.ok) throw new ApiError(res.status, json?.error?.message ?? `${method} ${path}: HTTP ${res.status}`, json?.problems ?? [], json?.current ?? null);
  return json as T;
}

export const api = {
  /** Who is signed in (ApiError 401 when no one). */
  session: () => call<EditorSession>('GET', '/session'),
  signIn: (token: string) => call<EditorSession>('POST', '/session', { token }),
  signOut: () => call<void>('DELETE', '/session'),
  /** The app's schema and profiles (signed in only). */
  app: () => call<AppInfo>('GET', '/app'),
  list: () => call<{ flows: FlowSummary[] }>('GET', '/flows').then((r) => r.flows),
  read: (id: string) => call<FlowSummary>('GET', `/flows/${encodeURIComponent(id)}`),
  save: (id: string, flow: unknown, options: SaveOptions = {}) =>
    call<FlowSummary>('PUT', `/flows/${encodeURIComponent(id)}${options.draft ? '?draft=1' : ''}`, flow, options.ifMatch ? { 'if-match': options.ifMatch === '*' ? '*' : `"${options.ifMatch}"` } : {}),
  create: (name: string) => call<FlowSummary>('POST', '/flows', { name }),
};
