import type { ExcludedStep } from './Profile.ts';

/** The optional steps of a profile run; upload and entity download are its core and always run. */
export type OptionalStep = 'preparation' | 'remoteConflicts' | 'syncDeletes' | 'shared' | 'attachments' | 'cleanup';

export interface StepMapping {
  module: ExcludedStep;
  /** The steps of our pipeline it leaves out; empty when the module has no counterpart here. */
  steps: readonly OptionalStep[];
  /** What leaving it out means here, or why it is not applicable. */
  note: string;
}

/**
 * Each SmartSync module mapped onto our pipeline (SPEC §5). A module without a counterpart is
 * accepted and reported "not applicable" in every run's journal entry, never silently ignored.
 */
export const STEP_MAPPINGS: Readonly<Record<ExcludedStep, StepMapping>> = {
  NoPreparation: { module: 'NoPreparation', steps: ['preparation'], note: 'skips the preparation: asking the server who the token belongs to (authentication and user refresh)' },
  NoRemoteConflicts: { module: 'NoRemoteConflicts', steps: ['remoteConflicts'], note: 'skips reconciling SynchronizationFailures with those the server still has open: one resolved or dismissed elsewhere keeps the profile refused until a full sync' },
  NoSyncDeletes: { module: 'NoSyncDeletes', steps: ['syncDeletes'], note: 'local deletions stay marked (not uploaded) and objects deleted on the server stay on the device' },
  NoEntityImages: { module: 'NoEntityImages', steps: [], note: 'not applicable: the schema has no image files (file entities are attachments)' },
  NoSyncShared: { module: 'NoSyncShared', steps: ['shared'], note: "downloads only the user's own objects (owner), not those readable through a sharing rule" },
  NoDocuments: { module: 'NoDocuments', steps: [], note: 'not applicable: there is no cloud document storage' },
  NoAttachments: { module: 'NoAttachments', steps: ['attachments'], note: 'file contents of file entities are neither uploaded nor downloaded' },
  NoExchange: { module: 'NoExchange', steps: [], note: 'not applicable: there is no Exchange synchronization' },
  OnlyCoreModules: {
    module: 'OnlyCoreModules',
    steps: ['preparation', 'remoteConflicts', 'syncDeletes', 'shared', 'attachments', 'cleanup'],
    note: 'only upload and entity download run',
  },
  NoCleanup: { module: 'NoCleanup', steps: ['cleanup'], note: 'local objects that no longer match the sync configuration stay on the device' },
};

export interface StepPlan {
  /** The optional steps that run. */
  runs: ReadonlySet<OptionalStep>;
  /** One line per excluded module: what it left out, or that it is not applicable. */
  report: Array<{ what: string; reason: string }>;
}

/**
 * The optional steps a profile runs, given its excluded modules.
 *
 * @example
 * stepPlan(['NoCleanup', 'NoExchange']).runs.has('cleanup'); // false
 */
export function stepPlan(excluded: readonly ExcludedStep[]): StepPlan {
  const runs = new Set<OptionalStep>(['preparation', 'remoteConflicts', 'syncDeletes', 'shared', 'attachments', 'cleanup']);
  const report: StepPlan['report'] = [];
  for (const module of excluded) {
    const mapping = STEP_MAPPINGS[module];
    for (const step of mapping.steps) runs.delete(step);
    report.push({ what: `module ${module}`, reason: mapping.steps.length ? `excluded: ${mapping.note}` : mapping.note });
  }
  return { runs, report };
}
