import { afterCommitBatchTests } from './afterCommitBatch.ts';
import { pgliteTarget } from './support.ts';

afterCommitBatchTests(pgliteTarget());
