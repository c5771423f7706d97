import { inputDefectTests } from './inputDefects.ts';
import { postgresTarget } from './support.ts';

inputDefectTests(postgresTarget());
