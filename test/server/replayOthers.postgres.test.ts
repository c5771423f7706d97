import { postgresTarget } from './support.ts';
import { replayOthersTests } from './replayOthers.ts';

replayOthersTests(postgresTarget());
