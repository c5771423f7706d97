import { pgliteTarget } from './support.ts';
import { replayOthersTests } from './replayOthers.ts';

replayOthersTests(pgliteTarget());
