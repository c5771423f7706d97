// syncflow/react: thin hooks over the runtime (the core never imports React).
export { SyncflowProvider, useRuntime } from './SyncflowProvider.ts';
export { useLiveQuery } from './useLiveQuery.ts';
export { useSyncStatus } from './useSyncStatus.ts';
export { useSynchronize, type SynchronizeHandle } from './useSynchronize.ts';
export { useFlow, type FlowRun } from './useFlow.ts';
export { useFailures, type FailuresHandle } from './useFailures.ts';
export { usePendingCount } from './usePendingCount.ts';
