import { defineSchema } from 'syncflow';

/** The task list's data model, shared by the server (syncflow.config.ts) and the page (src/). */
export const schema = defineSchema({
  entities: {
    Task: {
      attributes: {
        title: { type: 'string', required: true, maxLength: 200 },
        done: { type: 'boolean' },
        /** Calculated by the server: the title's word count. */
        words: { type: 'integer' },
      },
    },
  },
});
