import { afterCommitBatchTests } from './afterCommitBatch.ts';
import { postgresTarget } from './support.ts';

afterCommitBatchTests(postgresTarget());
