import { batchHandlerTests } from './batchHandlers.ts';
import { pgliteTarget } from './support.ts';

batchHandlerTests(pgliteTarget());
