import { fromPromise } from 'xstate';
import type { SyncContext } from '../SyncContext.ts';
import type { SyncResult } from '../types.ts';
import { downloadRefreshedFiles } from '../steps/downloadFiles.ts';
import { uploadFiles, type FileUploadOutcome } from '../steps/uploadFiles.ts';
import { workingState, type SyncMachineContext } from './shared.ts';

type ObjectRefs = ReadonlyArray<{ entity: string; id: string }>;

/**
 * The file phase shared by the three Synchronize machines: an `uploadingFiles` state after the
 * objects' upload (contents go only once their object is on the server), and, in the modes
 * that refresh, a `downloadingFiles` state after the refresh.
 */

/** Uploads pending file contents: of `only` these objects (selected mode), or all. */
export const uploadPendingFiles = fromPromise<FileUploadOutcome, { sync: SyncContext; only: ObjectRefs | null }>(
  ({ input, signal }) => uploadFiles(input.sync, input.only, signal),
);

/** Downloads the changed contents of refreshed objects. */
export const downloadRefreshedContents = fromPromise<number, { sync: SyncContext; objects: ObjectRefs }>(
  ({ input, signal }) => downloadRefreshedFiles(input.sync, input.objects, signal),
);

/** The run's result after its file upload (`files` stays absent while no file moved). */
export function withUploadedFiles(result: SyncResult, outcome: FileUploadOutcome): SyncResult {
  if (outcome.uploaded === 0 && outcome.refused.length === 0) return result;
  const files = result.files ?? { uploaded: 0, downloaded: 0, refused: [] };
  // Refused contents are kept by failures, which count among the run's failures.
  const failures = [...result.failures, ...outcome.failures];
  return {
    ...result,
    failed: failures.length,
    failures,
    files: { ...files, uploaded: files.uploaded + outcome.uploaded, refused: [...files.refused, ...outcome.refused] },
  };
}

/** The run's result after its file download. */
export function withDownloadedFiles(result: SyncResult, downloaded: number): SyncResult {
  if (downloaded === 0) return result;
  const files = result.files ?? { uploaded: 0, downloaded: 0, refused: [] };
  return { ...result, files: { ...files, downloaded: files.downloaded + downloaded } };
}

/**
 * The `uploadingFiles` state (actor `uploadPendingFiles`, invoke id `uploadFiles`): uploads the
 * pending contents of `only(context)` (null: all of them), then goes to `next`.
 */
export function uploadingFilesState<C extends SyncMachineContext>(next: string, only: (context: C) => ObjectRefs | null) {
  return workingState({
    id: 'uploadFiles',
    src: 'uploadPendingFiles',
    input: (context: C) => ({ sync: context.sync, only: only(context) }),
    next,
    done: (context: C, outcome: FileUploadOutcome) => ({ result: withUploadedFiles(context.result, outcome) }),
  });
}

/**
 * The `downloadingFiles` state of the modes that refresh (actor `downloadRefreshedContents`,
 * invoke id `files`): downloads the changed contents of `objects(context)`, then goes to `next`.
 */
export function downloadingRefreshedFilesState<C extends SyncMachineContext>(next: string, objects: (context: C) => ObjectRefs) {
  return workingState({
    id: 'files',
    src: 'downloadRefreshedContents',
    input: (context: C) => ({ sync: context.sync, objects: objects(context) }),
    next,
    done: (context: C, downloaded: number) => ({ result: withDownloadedFiles(context.result, downloaded) }),
  });
}
