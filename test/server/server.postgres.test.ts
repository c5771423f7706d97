import { serverTests } from './serverTests.ts';
import { postgresTarget } from './support.ts';

serverTests(postgresTarget());
