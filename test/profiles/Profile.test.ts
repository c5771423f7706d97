import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { defineProfiles } from '../../src/profiles/Profile.ts';
import { profileJsonSchemaText } from '../../src/profiles/profileJsonSchema.ts';

describe('defineProfiles', () => {
  it('fills defaults and accepts a profiles file', () => {
    const [p] = defineProfiles({ profiles: [{ name: 'GetTasks', entities: { include: ['Task'] } }] });
    expect(p).toEqual({
      name: 'GetTasks',
      direction: 'both',
      entities: { include: ['Task'] },
      globalExclusions: true,
      autoExclusions: false,
      excludedSteps: [],
      triggers: [],
    });
  });

  it('names each bad field', () => {
    let error: ValidationError | undefined;
    try {
      defineProfiles([
        { name: 'ok', entities: { include: ['Task'] } },
        { name: '1bad', direction: 'sideways', entities: { include: [] }, excludedSteps: ['NoFun'], triggers: [{ kind: 'periodic', delaySeconds: 0 }, { kind: 'hourly' }], extra: 1 },
      ]);
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const paths = error!.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'profiles[1].name',
        'profiles[1].direction',
        'profiles[1].entities.include',
        'profiles[1].excludedSteps[0]',
        'profiles[1].triggers[0].delaySeconds',
        'profiles[1].triggers[1].kind',
        'profiles[1]',
      ]),
    );
    expect(error!.message).toContain('profiles[1].triggers[0].delaySeconds');
  });

  it('refuses two profiles of one name', () => {
    expect(() => defineProfiles([{ name: 'a', entities: { exclude: [] } }, { name: 'a', entities: { exclude: [] } }])).toThrow(
      'profiles[1].name: a profile named "a" is already defined',
    );
  });

  it('keeps flows/profile.schema.json equal to the generated JSON Schema', () => {
    expect(readFileSync(new URL('../../flows/profile.schema.json', import.meta.url), 'utf8')).toBe(profileJsonSchemaText());
  });
});
