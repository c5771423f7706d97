/** The React binding of the editor store: a context holding the store, and a selector hook. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { AppInfo } from '../api.ts';
import type { EditorState, EditorStore } from './editorStore.ts';

export const EditorContext = createContext<EditorStore | null>(null);

export function useEditorStore(): EditorStore {
  const store = useContext(EditorContext);
  if (!store) throw new Error('useEditor outside <EditorContext.Provider>');
  return store;
}

/**
 * @example
 * const flow = useEditor((s) => s.flow);
 */
export function useEditor<T>(selector: (state: EditorState) => T): T {
  return useStore(useEditorStore(), selector);
}

/** For selectors that build a new object or array: compared shallowly. */
export function useEditorShallow<T>(selector: (state: EditorState) => T): T {
  return useStore(useEditorStore(), useShallow(selector));
}

/** The app's schema and profiles: the editor page shows only once they are loaded. */
export function useApp(): AppInfo {
  const app = useEditor((s) => s.app);
  if (!app) throw new Error('useApp before the app is loaded');
  return app;
}
