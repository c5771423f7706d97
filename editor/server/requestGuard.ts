/**
 * What every request to the editor must show before anything else runs: a Host the editor is
 * known by (a DNS-rebinding page reaches us under its own name), the page's own Origin on a
 * write (any site can make a browser send a POST), and a JSON body on a write (a form or a
 * text/plain POST needs no preflight; JSON does).
 */
import type { IncomingMessage } from 'node:http';

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** The names a browser on this machine uses for the editor, plus the configured ones. */
export function allowedHostNames(boundHost: string, extra: readonly string[] = []): Set<string> {
  return new Set(['localhost', '127.0.0.1', '[::1]', boundHost.includes(':') ? `[${boundHost}]` : boundHost, ...extra].map((h) => h.toLowerCase()));
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for a method that may change state (and so needs the Origin check). */
export function isWrite(method: string | undefined): boolean {
  return !SAFE_METHODS.has(method ?? 'GET');
}

/** `host:port` or `[v6]:port` -> the host name, lower case; undefined when it is not a host. */
function hostNameOf(host: string): string | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(host);
  return match?.[1].toLowerCase();
}

/**
 * Refuses a request whose Host is not one of `names`, and a write whose Origin (or
 * Sec-Fetch-Site) says another site sent it. A write without Origin comes from a client that
 * is not a browser page (curl, tests): it can hold a session cookie only if it was given one.
 */
export function checkHostAndOrigin(req: IncomingMessage, names: ReadonlySet<string>): Refusal | null {
  const host = req.headers.host ?? '';
  const name = hostNameOf(host);
  if (!name || !names.has(name)) {
    return { status: 421, code: 'forbidden', message: 'The editor does not answer to this host name (allowed: localhost, 127.0.0.1 and the configured names)' };
  }
  if (!isWrite(req.method)) return null;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let same = false;
    try {
      const url = new URL(origin);
      same = (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host.toLowerCase();
    } catch {
      same = false;
    }
    if (!same) return { status: 403, code: 'forbidden', message: 'A write must come from the editor page itself (Origin)' };
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { status: 403, code: 'forbidden', message: 'A write must come from the editor page itself (Sec-Fetch-Site)' };
  }
  return null;
}

/** Refuses a body that is not `application/json` (charset allowed). */
export function checkJsonBody(req: IncomingMessage): Refusal | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return null;
  return { status: 415, code: 'validation_failed', message: 'The editor takes writes only as application/json' };
}
