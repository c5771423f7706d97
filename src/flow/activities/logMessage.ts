import { printable } from './shared.ts';
import { activityKind } from './ActivityKind.ts';

/** Log message: evaluates the message and hands it to the host's log (and to observers). */
export const logMessage = activityKind({
  type: 'logMessage',
  check(a, c) {
    printable(c, 'activity.message', c.expression('activity.message', a.message));
  },
  async run(a, r) {
    const text = String((await r.evaluate(a.message)) ?? '');
    const level = a.level ?? 'info';
    r.host.log?.(level, text);
    r.emit({ type: 'log', nodeId: r.nodeId, level, text });
  },
});
