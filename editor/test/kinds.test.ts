import { describe, expect, it } from 'vitest';
import { ACTIVITIES } from '../../src/flow/activities/index.ts';
import { ACTIVITY_KINDS, humanize } from '../src/flow/kinds.ts';

describe('palette labels', () => {
  it('reads camelCase names as words, keeping product names', () => {
    expect(humanize('listSynchronizationFailures')).toBe('List synchronization failures');
    expect(humanize('callJavaScriptAction')).toBe('Call JavaScript action');
    expect(humanize('reSync')).toBe('reSync');
    expect(humanize('cleanResyncGhosts')).toBe('Clean resync ghosts');
    expect(humanize('runProfile')).toBe('Run profile');
  });

  it('labels every interpreter activity, each label once', () => {
    const labels = ACTIVITY_KINDS.map((k) => k.label);
    expect(ACTIVITY_KINDS.map((k) => k.type)).toEqual(Object.keys(ACTIVITIES));
    expect(new Set(labels).size).toBe(labels.length);
    expect(ACTIVITY_KINDS.find((k) => k.type === 'runProfile')).toMatchObject({ label: 'Run profile', description: expect.stringContaining('sync profile') });
  });
});
