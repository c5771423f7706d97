/**
 * Counts the HTTP bytes a runtime's client moves, for the journal: request bodies as sent and
 * answers by their Content-Length (streamed answers without one count 0; reading them here would
 * buffer every download twice).
 *
 * @example
 * const meter = new ByteMeter(fetch);
 * const client = new SyncClient({ ..., fetch: meter.fetch });
 */
export class ByteMeter {
  sent = 0;
  received = 0;
  readonly fetch: typeof fetch;

  constructor(inner: typeof fetch = globalThis.fetch) {
    this.fetch = async (input, init) => {
      this.sent += bodySize(init?.body);
      const response = await inner(input, init);
      this.received += Number(response.headers.get('content-length') ?? 0) || 0;
      return response;
    };
  }
}

function bodySize(body: unknown): number {
  if (body == null) return 0;
  if (typeof body === 'string') return new TextEncoder().encode(body).length;
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  return 0;
}
