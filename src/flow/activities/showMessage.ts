import { printable } from './shared.ts';
import { activityKind } from './ActivityKind.ts';

/**
 * Show message: evaluates the message and delivers it to the app's handler
 * (`host.showMessage`, awaited: a dialog may wait for the user) and to observers.
 */
export const showMessage = activityKind({
  type: 'showMessage',
  check(a, c) {
    printable(c, 'activity.message', c.expression('activity.message', a.message));
  },
  async run(a, r) {
    const text = String((await r.evaluate(a.message)) ?? '');
    const messageType = a.messageType ?? 'info';
    r.emit({ type: 'message', nodeId: r.nodeId, messageType, text });
    await r.host.showMessage?.({ type: messageType, text });
  },
});
