import type pg from 'pg';
import { progressBar } from './progress.ts';

/**
 * Seeds demo objects straight into the server's tables with `generate_series`: far faster
 * than uploading them, and the rows are exactly what the server's own writes produce
 * (sf_objects: entity, id, owner, created_date, changed_date, data jsonb holding every member;
 * see src/server/storage/migrate.ts and ObjectTx.insert).
 */

/** Entities get their own id prefix, so ids are predictable: `0000000<n>-0000-4000-8000-<i in hex>`. */
export const ENTITY_NUMBER = { Project: 1, Task: 2, Attachment: 3 } as const;
export type SeededEntity = keyof typeof ENTITY_NUMBER;

/** The id of the i-th (1-based) seeded object of an entity. */
export function benchId(entity: SeededEntity, i: number): string {
  return `${ENTITY_NUMBER[entity].toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

function idSql(entity: SeededEntity, i: string): string {
  return `(lpad(to_hex(${ENTITY_NUMBER[entity]}), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(${i}), 12, '0'))::uuid`;
}

export interface SeedPlan {
  /** The owner of every object (the bench user reads its own objects). */
  owner: string;
  projects?: number;
  tasks?: number;
  /** File entity; seeded without file contents (no sf_files rows). */
  attachments?: number;
}

export interface Seeded {
  projects: number;
  tasks: number;
  attachments: number;
  seconds: number;
}

/** The 'data' jsonb of each entity, from the row number `i` (the demo schema's members). */
function dataSql(entity: SeededEntity, plan: Required<SeedPlan>): string {
  switch (entity) {
    case 'Project':
      return `jsonb_build_object('name', 'Project ' || i, 'archived', i % 10 = 0)`;
    case 'Task':
      return `jsonb_build_object(
        'title', 'Task ' || i || ': check the figures of the quarterly report',
        'done', i % 3 = 0,
        'priority', (ARRAY['low','normal','high'])[1 + i % 3],
        'estimate', ((i % 40) * 0.25)::float8,
        'words', 8,
        'due', to_char(timestamp '2030-01-01' + (i % 365) * interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'assignee', NULL,
        'project', ${plan.projects ? `${idSql('Project', `1 + (i - 1) % ${plan.projects}`)}::text` : 'NULL'})`;
    case 'Attachment':
      return `jsonb_build_object('name', 'notes-' || i || '.txt', 'size', NULL, 'task', ${idSql('Task', `1 + (i - 1) % ${Math.max(plan.tasks, 1)}`)}::text)`;
  }
}

/**
 * Inserts the plan's objects (projects, then tasks, then attachments, each changedDate 1 ms
 * after the previous), moves the server's write clock past them (later uploads get later
 * stamps) and ANALYZEs the table.
 */
export async function seedObjects(pool: pg.Pool, input: SeedPlan, chunk = 50_000): Promise<Seeded> {
  const plan: Required<SeedPlan> = { projects: 0, tasks: 0, attachments: 0, ...input };
  const start = performance.now();
  const total = plan.projects + plan.tasks + plan.attachments;
  const bar = progressBar(`seeding ${total.toLocaleString('en-US')} objects`, total);
  let offset = 0;
  for (const [entity, count] of [['Project', plan.projects], ['Task', plan.tasks], ['Attachment', plan.attachments]] as const) {
    for (let from = 1; from <= count; from += chunk) {
      const to = Math.min(count, from + chunk - 1);
      await pool.query(
        `INSERT INTO sf_objects (entity, id, owner, created_date, changed_date, data)
         SELECT $1, ${idSql(entity, 'i')}, $2, t, t, ${dataSql(entity, plan)}
           FROM generate_series($3::int, $4::int) AS i,
                LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00' + ($5::bigint + i) * interval '1 millisecond' AS t) AS stamp`,
        [entity, plan.owner, from, to, offset],
      );
      bar.update(offset + to);
    }
    offset += count;
  }
  bar.stop();
  await pool.query(`UPDATE sf_clock SET t = greatest(t, (SELECT max(changed_date) FROM sf_objects))`);
  await pool.query('VACUUM ANALYZE sf_objects');
  return { projects: plan.projects, tasks: plan.tasks, attachments: plan.attachments, seconds: (performance.now() - start) / 1000 };
}
