import { describe, expect, it } from 'vitest';
import { byteSize, countGroups, exportFileName, kindLabel, runDuration, startedText } from '../src/run/journalRows.ts';

describe('the sync journal view\'s text', () => {
  it('groups counts per entity in the order met, the totals of * as all entities', () => {
    expect(
      countGroups([
        { entity: 'Project', direction: 'download', count: 2 },
        { entity: 'Task', direction: 'download', count: 3 },
        { entity: 'Project', direction: 'upload', count: 1 },
        { entity: '*', direction: 'removed', count: 4 },
      ]),
    ).toEqual([
      { entity: 'Project', parts: ['download 2', 'upload 1'] },
      { entity: 'Task', parts: ['download 3'] },
      { entity: 'all entities', parts: ['removed 4'] },
    ]);
    expect(countGroups([])).toEqual([]);
  });

  it('says how long a run took in ms, s or min', () => {
    const at = (ms: number) => ({ startedAt: '2025-01-01T10:00:00.000Z', endedAt: new Date(Date.parse('2025-01-01T10:00:00.000Z') + ms).toISOString() });
    expect(runDuration(at(0))).toBe('0 ms');
    expect(runDuration(at(692))).toBe('692 ms');
    expect(runDuration(at(1400))).toBe('1.4 s');
    expect(runDuration(at(125_000))).toBe('2 min 5 s');
    expect(runDuration({ startedAt: 'nonsense', endedAt: 'nonsense' })).toBe('?');
  });

  it('sizes bytes in B, kB and MB', () => {
    expect([0, 812, 1234, 3_400_000].map(byteSize)).toEqual(['0 B', '812 B', '1.2 kB', '3.4 MB']);
  });

  it('gives the date only for entries of another day', () => {
    const now = new Date(2025, 2, 10, 15, 0, 0);
    expect(startedText(new Date(2025, 2, 10, 9, 5, 7).toISOString(), now)).toBe('09:05:07');
    expect(startedText(new Date(2025, 2, 9, 9, 5, 7).toISOString(), now)).toBe('2025-03-09 09:05:07');
  });

  it('names kinds and export files', () => {
    expect(['synchronize', 'namedSync', 'ghostCleaning', 'profile'].map((k) => kindLabel(k as never))).toEqual(['Synchronize', 'Named sync', 'Ghost cleaning', 'Profile']);
    expect(exportFileName('alice', new Date('2025-03-10T15:04:05.000Z'))).toBe('syncflow-journal-alice-2025-03-10T15-04-05.json');
    expect(exportFileName('../x y', new Date('2025-03-10T15:04:05.000Z'))).toBe('syncflow-journal-.._x_y-2025-03-10T15-04-05.json');
  });
});
