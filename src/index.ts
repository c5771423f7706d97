// syncflow's public entry: the portable runtime (no Node-only modules). The sync server is
// `syncflow/server`.
export { createRuntime, Runtime, type RuntimeOptions, type RunFlowOptions, type FlowSource } from './runtime/Runtime.ts';
export { createFlowHost, type RuntimeFlowHostOptions } from './runtime/flowHost.ts';
export { parseFlowParameters, type ParameterLookup } from './runtime/parseFlowParameters.ts';
export {
  Interpreter,
  loadFlow,
  validateFlow,
  flowJsonSchema,
  parseExpression,
  FAILURE_ENTITY,
  ERROR_ENTITY,
  type InterpreterOptions,
  type RunOptions,
  type CompiledFlow,
  type FlowProblem,
  type Flow,
  type FlowNode,
  type FlowEdge,
  type Activity,
  type DataType,
  type FlowHost,
  type FlowEvent,
  type FlowObserver,
  type FlowErrorInfo,
  type JavaScriptAction,
  type LogLevel,
  type MessageType,
  type StepOutcome,
} from './flow/index.ts';
export { defineConfig } from './config/defineConfig.ts';
export type { SyncflowConfig, AuthConfig, JwtAuthOptions, TokenVerifier } from './config/SyncflowConfig.ts';
export { defineSchema, type Schema, type SchemaInput, type EntityDef, type AttributeDef, type AssociationDef } from './model/schema.ts';
export { validateValues, newId, type SyncObject, type Values } from './model/values.ts';
export { CURRENT_USER, matchConstraint, validateConstraint, type Constraint } from './model/constraint.ts';
export { openStore } from './store/openStore.ts';
export type { LocalStore } from './store/LocalStore.ts';
export type { Session } from './store/Session.ts';
export type { LocalObject, LocalChange, QueryOptions } from './store/types.ts';
export { SyncClient, type SyncClientOptions } from './transport/SyncClient.ts';
export type * from './transport/wire.ts';
export { Synchronizer, syncMachines, type SyncActor } from './sync/Synchronizer.ts';
export { allObjectsMachine } from './sync/machines/allObjects.ts';
export { unsynchronizedMachine } from './sync/machines/unsynchronized.ts';
export { selectedMachine } from './sync/machines/selected.ts';
export { SyncManager } from './sync/manager/SyncManager.ts';
export { managerMachine } from './sync/manager/managerMachine.ts';
export type {
  SyncDefinition,
  SyncDownTarget,
  SyncUpTarget,
  SyncDownOptions,
  MergeMode,
  SyncState,
  SyncStateStatus,
  SyncType,
  SyncUpdate,
  ResumePoint,
} from './model/syncState.ts';
export type { SyncRequest, SyncResult, SyncStatus, SyncConfig, EntitySyncConfig, SyncMode, SyncPhase } from './sync/types.ts';
export { ProfileManager, type ProfileOptions, type ProfileInfo, type TriggerTimers } from './profiles/ProfileManager.ts';
export { defineProfiles, profileSchema, EXCLUDED_STEPS, type Profile, type ProfileInput, type ProfileTrigger, type ExcludedStep } from './profiles/Profile.ts';
export { importSmartSyncXml } from './profiles/importSmartSyncXml.ts';
export { profileJsonSchema } from './profiles/profileJsonSchema.ts';
export { STEP_MAPPINGS, stepPlan } from './profiles/stepPlan.ts';
export { schedulerMachine } from './profiles/schedulerMachine.ts';
export type { ProfileRunResult } from './profiles/runProfile.ts';
export type { RefusalReason } from './profiles/startConditions.ts';
export { Journal, type JournalOptions, type JournalQuery } from './journal/Journal.ts';
export type { JournalEntry, JournalKind, JournalOutcome, JournalCount } from './journal/JournalEntry.ts';
export * from './errors.ts';
