/** The React binding of the run store. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { RunState, RunStore } from './runStore.ts';

export const RunContext = createContext<RunStore | null>(null);

export function useRunStore(): RunStore {
  const store = useContext(RunContext);
  if (!store) throw new Error('useRun outside <RunContext.Provider>');
  return store;
}

export function useRun<T>(selector: (state: RunState) => T): T {
  return useStore(useRunStore(), selector);
}
