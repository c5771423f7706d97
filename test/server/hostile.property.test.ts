import { hostileRequestTests } from './hostileRequests.ts';
import { pgliteTarget, postgresTarget } from './support.ts';

// One body, both storages: a few hundred requests each in `npm test`, thousands in `npm run soak`.
hostileRequestTests(pgliteTarget(), { runs: 420, soakRuns: 5000 });
hostileRequestTests(postgresTarget(), { runs: 420, soakRuns: 5000 });
