import { pgliteTarget } from './support.ts';
import { uploadDeletedTests } from './uploadDeleted.ts';

uploadDeletedTests(pgliteTarget());
