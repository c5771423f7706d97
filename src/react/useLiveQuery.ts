import { liveQuery } from 'dexie';
import { useEffect, useState } from 'react';
import type { Constraint } from '../model/constraint.ts';
import type { LocalObject, QueryOptions } from '../store/types.ts';
import { useRuntime } from './SyncflowProvider.ts';

/**
 * The objects of an entity in the offline database that match a constraint (or query options),
 * kept current: Dexie's `liveQuery` re-runs the query after every local commit and every write a
 * synchronization makes. `undefined` until the first answer.
 *
 * @example
 * const open = useLiveQuery('Task', { attribute: 'done', op: 'ne', value: true });
 */
export function useLiveQuery(entity: string, constraint?: Constraint | QueryOptions): LocalObject[] | undefined {
  const runtime = useRuntime();
  const [objects, setObjects] = useState<LocalObject[] | undefined>(undefined);
  // The constraint is usually written inline: compare it by value, not identity.
  const key = JSON.stringify(constraint ?? null);
  useEffect(() => {
    const options = toOptions(constraint, runtime.user);
    const subscription = liveQuery(() => runtime.store.query(entity, options)).subscribe({
      next: setObjects,
      error: (e: unknown) => console.error('syncflow useLiveQuery', e),
    });
    return () => subscription.unsubscribe();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runtime, entity, key]);
  return objects;
}

function toOptions(constraint: Constraint | QueryOptions | undefined, user: string | null): QueryOptions {
  if (!constraint) return { currentUser: user };
  // A constraint always has one of and / or / not / attribute; query options never do.
  const isConstraint = ['and', 'or', 'not', 'attribute'].some((k) => k in constraint);
  return isConstraint ? { where: constraint as Constraint, currentUser: user } : { currentUser: user, ...(constraint as QueryOptions) };
}
