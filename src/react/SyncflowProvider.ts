import { createContext, createElement, useContext, type ReactNode } from 'react';
import type { Runtime } from '../runtime/Runtime.ts';

const RuntimeContext = createContext<Runtime | null>(null);

/**
 * Gives the components below it a runtime (`createRuntime`); the hooks of `syncflow/react` read it.
 *
 * @example
 * const runtime = await createRuntime({ schema, serverUrl, token });
 * createRoot(el).render(<SyncflowProvider runtime={runtime}><App /></SyncflowProvider>);
 */
export function SyncflowProvider(props: { runtime: Runtime; children?: ReactNode }): ReactNode {
  return createElement(RuntimeContext.Provider, { value: props.runtime }, props.children);
}

/** The provider's runtime; throws when a hook is used outside a SyncflowProvider. */
export function useRuntime(): Runtime {
  const runtime = useContext(RuntimeContext);
  if (!runtime) throw new Error('syncflow/react: wrap the app in <SyncflowProvider runtime={runtime}>');
  return runtime;
}
