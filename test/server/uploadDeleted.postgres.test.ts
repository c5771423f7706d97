import { postgresTarget } from './support.ts';
import { uploadDeletedTests } from './uploadDeleted.ts';

uploadDeletedTests(postgresTarget());
