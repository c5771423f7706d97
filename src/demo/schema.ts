import { defineSchema } from '../model/schema.ts';

/**
 * The demo app's data model: projects, their tasks, and file attachments on tasks.
 * Shared by the demo server (`npm start`), the examples in flows/ and the tests.
 */
export const demoSchema = defineSchema({
  entities: {
    Project: {
      attributes: {
        name: { type: 'string', required: true, maxLength: 200 },
        archived: { type: 'boolean' },
      },
    },
    Task: {
      attributes: {
        title: { type: 'string', required: true, maxLength: 500 },
        done: { type: 'boolean' },
        priority: { type: 'enum', values: ['low', 'normal', 'high'] },
        estimate: { type: 'decimal' },
        /** Calculated by the server's before-commit handler: the title's word count. */
        words: { type: 'integer' },
        due: { type: 'datetime' },
        /** The user the task is assigned to: gives that user read access. */
        assignee: { type: 'string', maxLength: 100 },
      },
      associations: { project: { target: 'Project' } },
    },
    Attachment: {
      file: true,
      attributes: {
        name: { type: 'string', required: true, maxLength: 255 },
        size: { type: 'integer' },
      },
      associations: { task: { target: 'Task', required: true } },
    },
  },
});
