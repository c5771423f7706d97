import type { SyncClient } from '../transport/SyncClient.ts';

/**
 * The client the sync pipeline uses, with its uploads counted per entity: each change the server
 * applied, by the entity of the request that carried it. The pipeline's steps report an upload
 * total only, and they stay as they are: the count comes from the protocol's own answers.
 *
 * @example
 * const client = countUploads(syncClient, (entity, n) => counts.set(entity, (counts.get(entity) ?? 0) + n));
 */
export function countUploads(client: SyncClient, onApplied: (entity: string, count: number) => void): SyncClient {
  const upload: SyncClient['upload'] = async (changes, signal) => {
    const answer = await client.upload(changes, signal);
    const entityOf = new Map(changes.map((c) => [c.changeId, c.entity]));
    const applied = new Map<string, number>();
    for (const r of answer.results) {
      const entity = r.status === 'applied' ? entityOf.get(r.changeId) : undefined;
      if (entity !== undefined) applied.set(entity, (applied.get(entity) ?? 0) + 1);
    }
    for (const [entity, n] of applied) onApplied(entity, n);
    return answer;
  };
  // A proxy rather than a subclass: the client keeps its private fields, every other method is its own.
  return new Proxy(client, {
    get(target, key) {
      if (key === 'upload') return upload;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
