import { serverTests } from './serverTests.ts';
import { pgliteTarget } from './support.ts';

serverTests(pgliteTarget());
