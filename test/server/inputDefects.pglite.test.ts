import { inputDefectTests } from './inputDefects.ts';
import { pgliteTarget } from './support.ts';

inputDefectTests(pgliteTarget());
