import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { objectJsonSql } from '../../src/server/objectSql.ts';

/**
 * The set-based floor of the write path: a minimal HTTP endpoint in the bench process that takes
 * a JSON array of rows and writes it with ONE statement — `INSERT ... SELECT FROM
 * jsonb_array_elements` for creates, `UPDATE ... FROM jsonb_array_elements` for updates — into
 * the same sf_objects table the sync server writes. No auth, no access rules, no handlers, no
 * idempotency: the fastest hand-written way to get the same rows into the same table over HTTP.
 *
 * Open to any origin (CORS), for a browser page's requests (uploadBrowser.bench.ts).
 *
 * `POST /<kind>?answer` does the same and answers the written rows as objects (`RETURNING`,
 * as the sync server answers each change with the server's version): what the client floor
 * (clientFloor.ts) stores.
 */
export interface UploadFloor {
  url: string;
  /** POSTs `rows` in requests of `batch` rows, one after the other. */
  send(kind: 'create' | 'update', rows: ReadonlyArray<{ id: string; data: Record<string, unknown> }>, batch?: number): Promise<void>;
  /** POSTs one request of rows and answers the written rows as the server's objects (`?answer`). */
  sendAnswered(kind: 'create' | 'update', rows: ReadonlyArray<{ id: string; data: Record<string, unknown> }>): Promise<FloorObject[]>;
  close(): Promise<void>;
}

/** A written row as the floor answers it: the object's system attributes and members. */
export type FloorObject = Record<string, unknown> & { id: string };

const CREATE_SQL = `INSERT INTO sf_objects (entity, id, owner, created_date, changed_date, data)
  SELECT 'Task', (r->>'id')::uuid, $2, now(), now(), r->'data' FROM jsonb_array_elements($1::text::jsonb) AS r`;
const UPDATE_SQL = `UPDATE sf_objects AS o SET data = o.data || r->'data', changed_date = now()
  FROM jsonb_array_elements($1::text::jsonb) AS r WHERE o.entity = 'Task' AND o.id = (r->>'id')::uuid`;

// The same statements, answering each written row as the sync server's wire object.
const CREATE_ANSWERED_SQL = `${CREATE_SQL.replace('INSERT INTO sf_objects', 'INSERT INTO sf_objects AS o')} RETURNING ${objectJsonSql('o')} AS object`;
const UPDATE_ANSWERED_SQL = `${UPDATE_SQL} RETURNING ${objectJsonSql('o')} AS object`;

export async function startUploadFloor(pool: pg.Pool, owner: string): Promise<UploadFloor> {
  const server: Server = createServer((req, res) => {
    // CORS: the upload-browser bench POSTs here from a page on another origin.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const [path, query] = (req.url ?? '').split('?');
      const answer = query === 'answer';
      const sql = path === '/create' ? (answer ? CREATE_ANSWERED_SQL : CREATE_SQL) : answer ? UPDATE_ANSWERED_SQL : UPDATE_SQL;
      const params = path === '/create' ? [body, owner] : [body];
      pool.query<{ object: FloorObject }>(sql, params).then(
        (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer ? { written: r.rowCount, objects: r.rows.map((row) => row.object) } : { written: r.rowCount })),
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
    async sendAnswered(kind, rows) {
      const res = await fetch(`${url}/${kind}?answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows) });
      const answer = (await res.json()) as { written: number; objects: FloorObject[] };
      if (!res.ok || answer.written !== rows.length) throw new Error(`floor ${kind}: wrote ${answer.written} of ${rows.length}`);
      return answer.objects;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
