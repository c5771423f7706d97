import { pgliteTarget } from './support.ts';
import { uploadPathTests } from './uploadPaths.ts';

uploadPathTests(pgliteTarget());
