/**
 * `$latestError` is scoped to an error handler's path (issue 15, defect 3): the validator reports it
 * anywhere else, so the editor, `syncflow validate` / `run` and the editor's save all say so.
 */
import { describe, expect, it } from 'vitest';
import { demoSchema } from '../../src/demo/schema.ts';
import { validateFlow } from '../../src/flow/validateFlow.ts';
import { activity, linear } from './support/flows.ts';

const problemsOf = (flow: unknown) => validateFlow(flow, { schema: demoSchema }).problems;
const log = (id: string, message: string) => activity(id, { type: 'logMessage', message });
const risky = (errorHandling?: 'continue' | 'customWithoutRollback') =>
  activity('sync', { type: 'synchronize', mode: 'unsynchronized' }, errorHandling ? { errorHandling } : {});

describe('$latestError scope', () => {
  it('is a problem on a normal path, with its position', () => {
    expect(problemsOf(linear([risky(), log('report', "'failed: ' + $latestError/message")]))).toEqual([
      {
        path: 'nodes[2].activity.message',
        nodeId: 'report',
        message: expect.stringContaining("$latestError exists only in an error handler's path"),
        position: 13,
      },
    ]);
  });

  it('is fine on an error handler path, and after an activity that continues on error', () => {
    const handled = linear([risky('customWithoutRollback')], {
      nodes: [log('showError', '$latestError/message'), { id: 'failed', type: 'end' }],
      edges: [
        { from: 'sync', to: 'showError', errorHandler: true },
        { from: 'showError', to: 'failed' },
      ],
    });
    expect(problemsOf(handled)).toEqual([]);
    expect(problemsOf(linear([risky('continue'), log('report', '$latestError/message')]))).toEqual([]);
  });

  it('is a problem where the error path merges back into a path that never failed', () => {
    const merged = linear([risky('customWithoutRollback'), { id: 'join', type: 'merge' }, log('after', '$latestError/type')], {
      nodes: [log('showError', '$latestError/message')],
      edges: [
        { from: 'sync', to: 'showError', errorHandler: true },
        { from: 'showError', to: 'join' },
      ],
    });
    expect(problemsOf(merged).map((p) => [p.nodeId, p.message.slice(0, 40)])).toEqual([['after', "$latestError exists only in an error han"]]);
  });
});
