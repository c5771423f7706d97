import { postgresTarget } from './support.ts';
import { uploadPathTests } from './uploadPaths.ts';

uploadPathTests(postgresTarget());
