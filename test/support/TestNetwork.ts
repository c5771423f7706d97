/**
 * A fetch for tests that goes to the real server but can inject the faults a device meets:
 * a request that never reaches the server, a response lost after the server applied the
 * request, or a 503 from a proxy in between. It can also hold requests at a gate, so a test
 * can look at the store and the server in each state a sync machine reaches.
 */
export type Fault = 'unreachable' | 'responseLost' | 'unavailable';

interface Rule {
  path: RegExp;
  fault: Fault;
  times: number;
}

export class TestNetwork {
  /** Every request, as `METHOD /path`, in order. */
  readonly requests: string[] = [];
  /** Bytes of every response body received. */
  bytesReceived = 0;
  /** Bytes of every request body handed to the network (sent, or lost on the way). */
  bytesSent = 0;
  /** Ids of the objects received from /api/download, in order (repeats included). */
  readonly downloadedIds: string[] = [];
  #rules: Rule[] = [];
  /** Awaited before each request is sent. */
  gate: ((path: string) => Promise<void>) | null = null;
  /** Called once a response body has fully arrived, before the client sees it (e.g. to stop a sync right then). */
  onResponse: ((path: string) => void) | null = null;

  /** The next `times` requests whose path matches fail with `fault`. */
  inject(path: RegExp, fault: Fault, times = 1): void {
    this.#rules.push({ path, fault, times });
  }

  /** Every request whose path matches fails with `fault` until cleared. */
  always(path: RegExp, fault: Fault): void {
    this.#rules.push({ path, fault, times: Infinity });
  }

  /**
   * Holds the requests to `path` (or whose path passes the test) at the gate until `release()`;
   * `arrived` resolves when the first one is held. Replaces any other gate.
   */
  hold(when: string | ((path: string) => boolean)): { release(): void; arrived: Promise<void> } {
    const matches = typeof when === 'string' ? (path: string) => path === when : when;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    this.gate = async (path) => {
      if (!matches(path)) return;
      reached();
      await released;
    };
    return { release, arrived };
  }

  clear(): void {
    this.#rules = [];
  }

  count(path: RegExp): number {
    return this.requests.filter((r) => path.test(r)).length;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const method = init?.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}`);
    const body = init?.body;
    this.bytesSent += typeof body === 'string' ? new TextEncoder().encode(body).byteLength : ArrayBuffer.isView(body) ? body.byteLength : 0;
    if (this.gate) await this.gate(url.pathname);
    const rule = this.#rules.find((r) => r.times > 0 && r.path.test(url.pathname));
    if (rule) rule.times--;
    if (rule?.fault === 'unreachable') throw new TypeError('fetch failed: connect ECONNREFUSED (injected)');
    if (rule?.fault === 'unavailable') {
      return new Response(JSON.stringify({ error: { code: 'server', message: 'Service unavailable (injected)' } }), {
        status: 503,
        headers: { 'content-type': 'application/json' },
      });
    }
    const res = await fetch(input, init);
    const received = new Uint8Array(await res.arrayBuffer());
    this.bytesReceived += received.byteLength;
    if (url.pathname === '/api/download' && res.ok) {
      const { objects } = JSON.parse(new TextDecoder().decode(received)) as { objects: Array<{ id: string }> };
      for (const o of objects) this.downloadedIds.push(o.id);
    }
    this.onResponse?.(url.pathname);
    if (rule?.fault === 'responseLost') throw new TypeError('fetch failed: socket hang up (injected, after the server answered)');
    const nullBody = [101, 204, 205, 304].includes(res.status);
    return new Response(nullBody ? null : received, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
