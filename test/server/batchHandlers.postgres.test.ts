import { batchHandlerTests } from './batchHandlers.ts';
import { postgresTarget } from './support.ts';

batchHandlerTests(postgresTarget());
