import type { Schema } from '../model/schema.ts';
import type { LocalStore } from '../store/LocalStore.ts';
import type { SyncClient } from '../transport/SyncClient.ts';
import type { SyncConfig, SyncPhase } from './types.ts';

export interface Progress {
  phase: SyncPhase;
  entity: string | null;
  done: number;
  total: number | null;
}

/**
 * What every pipeline step needs: the local store, the protocol client and a way to report.
 * The steps (upload, download, refresh, files) are shared by the Synchronize machines, the
 * named incremental syncs and the sync profiles, so none of them forks the pipeline.
 */
export interface SyncContext {
  schema: Schema;
  store: LocalStore;
  client: SyncClient;
  config: SyncConfig;
  onProgress?: (progress: Progress) => void;
}
