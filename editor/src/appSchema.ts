/**
 * The app whose flows the editor edits and runs: the demo app (`src/demo/schema.ts`), the one
 * `npm start` serves. Flows are validated against it in the page and on save.
 */
export { demoSchema as appSchema } from '../../src/demo/schema.ts';
