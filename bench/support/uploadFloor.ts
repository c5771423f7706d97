import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';

/**
 * The set-based floor of the write path: a minimal HTTP endpoint in the bench process that takes
 * a JSON array of rows and writes it with ONE statement — `INSERT ... SELECT FROM
 * jsonb_array_elements` for creates, `UPDATE ... FROM jsonb_array_elements` for updates — into
 * the same sf_objects table the sync server writes. No auth, no access rules, no handlers, no
 * idempotency: the fastest hand-written way to get the same rows into the same table over HTTP.
 */
export interface UploadFloor {
  url: string;
  /** POSTs `rows` in requests of `batch` rows, one after the other. */
  send(kind: 'create' | 'update', rows: ReadonlyArray<{ id: string; data: Record<string, unknown> }>, batch?: number): Promise<void>;
  close(): Promise<void>;
}

const CREATE_SQL = `INSERT INTO sf_objects (entity, id, owner, created_date, changed_date, data)
  SELECT 'Task', (r->>'id')::uuid, $2, now(), now(), r->'data' FROM jsonb_array_elements($1::text::jsonb) AS r`;
const UPDATE_SQL = `UPDATE sf_objects AS o SET data = o.data || r->'data', changed_date = now()
  FROM jsonb_array_elements($1::text::jsonb) AS r WHERE o.entity = 'Task' AND o.id = (r->>'id')::uuid`;

export async function startUploadFloor(pool: pg.Pool, owner: string): Promise<UploadFloor> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const sql = req.url === '/create' ? CREATE_SQL : UPDATE_SQL;
      const params = req.url === '/create' ? [body, owner] : [body];
      pool.query(sql, params).then(
        (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ written: r.rowCount })),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async send(kind, rows, batch = 1000) {
      for (let i = 0; i < rows.length; i += batch) {
        const part = rows.slice(i, i + batch);
        const res = await fetch(`${url}/${kind}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(part) });
        const answer = (await res.json()) as { written: number };
        if (!res.ok || answer.written !== part.length) throw new Error(`floor ${kind}: wrote ${answer.written} of ${part.length}`);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
