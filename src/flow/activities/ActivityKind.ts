/**
 * The contract of an activity kind: how it declares variables, how it is checked when a flow
 * loads, and how it runs. One file per kind implements it; `index.ts` lists them all.
 */
import type { Schema } from '../../model/schema.ts';
import type { LocalObject } from '../../store/types.ts';
import type { StaticType } from '../expressions/types.ts';
import type { Activity, DataType, Flow } from '../format.ts';
import type { FlowEventInit, FlowHost, FlowSession } from '../types.ts';

/** A variable an activity defines (its output). */
export interface Declaration {
  name: string;
  type: StaticType;
  /** The field that names it, relative to the node, e.g. `activity.outputVariable`. */
  field: string;
}

export interface DeclareContext {
  schema: Schema;
  /** The declared type of a variable (resolved on demand), or undefined if no such variable. */
  typeOf(name: string): StaticType | undefined;
  /** A flow this one may call (when the loader was given a way to find flows). */
  resolveFlow(name: string): Flow | undefined;
  /** Whether a flow of that name exists; undefined when the loader cannot tell (checked when it runs). */
  flowExists(name: string): boolean | undefined;
  /** Whether the app defines a sync profile of that name; undefined when its profiles are not known (checked when it runs). */
  profileExists(name: string): boolean | undefined;
}

export interface ExpressionOptions {
  /** The type the value must be assignable to. */
  expected?: StaticType;
  /** Extra variables in scope, e.g. `currentObject` in a list filter. */
  extra?: Record<string, StaticType>;
}

export interface CheckContext extends DeclareContext {
  /** Reports a problem at `field` (relative to the node: `activity.values.title`). */
  problem(field: string, message: string): void;
  /** Parses and type-checks an expression; reports its problems; returns its type (unknown after an error). */
  expression(field: string, source: string, options?: ExpressionOptions): StaticType;
  /** A variable the activity reads: reports it when unknown or not defined on every path here. */
  variable(field: string, name: string): StaticType | undefined;
  /** Reports an entity that is not in the schema (built-in entities count only with `builtin`); true if it exists. */
  entity(field: string, name: string, options?: { builtin?: boolean }): boolean;
  /** The static type of a declared data type, reporting unknown entities. */
  dataType(field: string, type: DataType): StaticType;
}

/** What a running activity may do. */
export interface ActivityRuntime {
  readonly host: FlowHost;
  readonly schema: Schema;
  /** The uncommitted work of this run (shared with sub-flows). */
  readonly session: FlowSession;
  readonly signal?: AbortSignal;
  readonly flow: string;
  readonly nodeId: string;
  /** Evaluates one of the flow's (already parsed) expressions. */
  evaluate(source: string, extra?: Record<string, unknown>): Promise<unknown>;
  /** A variable's value (throws if it does not exist). */
  get(name: string): unknown;
  /** Assigns a variable, checking its declared type; observers see the change. */
  set(name: string, value: unknown): void;
  emit(event: FlowEventInit): void;
  /** Re-points every variable and list element holding a version of these objects to this version. */
  replaceObjects(objects: readonly LocalObject[]): void;
  /** Empties every variable holding one of these ids and takes them out of lists. */
  removeObjects(ids: Iterable<string>): void;
  /** Every store object held by the run's variables (all frames), for refreshing after a sync. */
  heldObjects(): LocalObject[];
  /** Records objects this run created or changed, for rollback. */
  touch(objects: readonly LocalObject[]): void;
  /** Finds an object by id: the session's uncommitted version first, then the offline database. */
  resolve(entity: string, id: string): Promise<LocalObject | null>;
  /** The session's latest version of an object (itself when the session does not hold it). */
  current(object: LocalObject): LocalObject;
  /** Runs a sub-flow with this run's session and observers. */
  callFlow(name: string, parameters: Record<string, unknown>): Promise<unknown>;
}

export interface ActivityKind<T extends Activity = Activity> {
  readonly type: T['type'];
  declares?(activity: T, c: DeclareContext): Declaration[];
  check(activity: T, c: CheckContext): void;
  run(activity: T, r: ActivityRuntime): Promise<void>;
}

/** Defines an activity kind with its activity type inferred from `type`. */
export function activityKind<K extends Activity['type']>(kind: ActivityKind<Extract<Activity, { type: K }>> & { type: K }) {
  return kind;
}
