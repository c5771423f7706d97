import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { importSmartSyncXml } from '../../src/profiles/importSmartSyncXml.ts';
import { seed003SmartSyncXml } from '../support/smartSyncSeed.ts';

function problemsOf(xml: string): Array<{ path: string; message: string }> {
  try {
    importSmartSyncXml(xml);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).problems;
  }
  throw new Error('expected a ValidationError');
}

describe('importSmartSyncXml', () => {
  it("loads seed 003's example as it is", () => {
    expect(importSmartSyncXml(seed003SmartSyncXml())).toEqual([
      {
        name: 'GetTasks',
        description: 'retrieve tasks from the server every 5 minutes',
        direction: 'download',
        entities: { include: ['task'] },
        globalExclusions: true,
        autoExclusions: true,
        excludedSteps: [],
        triggers: [{ kind: 'periodic', delaySeconds: 300 }],
      },
    ]);
  });

  it('reads every trigger kind, excluded modules, an exclude list and related entities', () => {
    const [up, both] = importSmartSyncXml(`<?xml version="1.0"?>
      <SmartSyncSetup>
        <!-- uploads -->
        <SmartSync Name="Push" SyncAction="UpSync" ExcludedModules="NoCleanup, NoExchange">
          <Entities><Entity Name="Task" WithRelated="true"/><Entity Name="Attachment" Deep="true"/></Entities>
        </SmartSync>
        <SmartSync Name="Everything" SyncAction="FullSync" GlobalExclusions="false">
          <ExcludedModules><Module Name="OnlyCoreModules"/></ExcludedModules>
          <Entities Mode="Exclude"><Entity Name="Project"/></Entities>
        </SmartSync>
        <Trigger Launch="Push" Action="AppStart"/>
        <Trigger Launch="Push" Action="RecordChange" Entity="Task" Delay="2"/>
        <Trigger Launch="Everything" Action="Online"/>
        <Trigger Launch="Everything" Action="PeriodicSync" Delay="60"/>
      </SmartSyncSetup>`);
    expect(up).toMatchObject({
      name: 'Push',
      direction: 'upload',
      entities: { include: ['Task+', 'Attachment++'] },
      excludedSteps: ['NoCleanup', 'NoExchange'],
      triggers: [{ kind: 'appStart' }, { kind: 'recordChange', entity: 'Task', debounceSeconds: 2 }],
    });
    expect(both).toMatchObject({
      direction: 'both',
      globalExclusions: false,
      autoExclusions: false,
      entities: { exclude: ['Project'] },
      excludedSteps: ['OnlyCoreModules'],
      triggers: [{ kind: 'online' }, { kind: 'periodic', delaySeconds: 60 }],
    });
  });

  it('rejects malformed XML with its line and column', () => {
    const [problem] = problemsOf('<SmartSyncSetup>\n<SmartSync Name="a">\n</SmartSyncSetup>');
    expect(problem.path).toMatch(/^SmartSync\.xml:3:\d+$/);
    expect(problem.message).toMatch(/malformed XML: .*SmartSync/);
    expect(problemsOf('not xml at all')[0].message).toMatch(/malformed XML|root element/);
    expect(problemsOf('<Other/>')[0].message).toBe('the document must have one root element <SmartSyncSetup>');
  });

  it('names the element of an unknown attribute or element', () => {
    const problems = problemsOf(`<SmartSyncSetup>
      <SmartSync Name="A" SyncAction="DownSync" Colour="red">
        <Entities><Entity Name="Task" Shiny="yes"/><Thing/></Entities>
        <Extra/>
      </SmartSync>
      <Bogus/>
      <Trigger Launch="A" Action="PeriodicSync" Delay="10" When="now"/>
    </SmartSyncSetup>`);
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'SmartSyncSetup/SmartSync[A]@Colour', message: expect.stringContaining('unknown attribute "Colour" on <SmartSync>') },
        { path: 'SmartSyncSetup/SmartSync[A]/Entities/Entity[1]@Shiny', message: expect.stringContaining('unknown attribute "Shiny" on <Entity>') },
        { path: 'SmartSyncSetup/SmartSync[A]/Entities/Thing[2]', message: 'unknown element <Thing> (expected <Entity>)' },
        { path: 'SmartSyncSetup/SmartSync[A]/Extra', message: expect.stringContaining('unknown element <Extra>') },
        { path: 'SmartSyncSetup/Bogus', message: expect.stringContaining('unknown element <Bogus>') },
        { path: 'SmartSyncSetup/Trigger[1]@When', message: expect.stringContaining('unknown attribute "When" on <Trigger>') },
      ]),
    );
  });

  it('rejects bad values naming the attribute', () => {
    const problems = problemsOf(`<SmartSyncSetup>
      <SmartSync Name="A" SyncAction="Sideways" GlobalExclusions="maybe" ExcludedModules="NoFun">
        <Entities/>
      </SmartSync>
      <Trigger Launch="B" Action="PeriodicSync" Delay="soon"/>
      <Trigger Launch="A" Action="Hourly"/>
      <Trigger Launch="A" Action="RecordChange"/>
    </SmartSyncSetup>`);
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'SmartSyncSetup/SmartSync[A]@SyncAction',
        'SmartSyncSetup/SmartSync[A]@GlobalExclusions',
        'SmartSyncSetup/SmartSync[A]@ExcludedModules',
        'SmartSyncSetup/SmartSync[A]/Entities',
        'SmartSyncSetup/Trigger[1]@Launch',
        'SmartSyncSetup/Trigger[1]@Delay',
        'SmartSyncSetup/Trigger[2]@Action',
        'SmartSyncSetup/Trigger[3]@Entity',
      ]),
    );
    expect(problems.find((p) => p.path.endsWith('@ExcludedModules'))!.message).toContain('unknown module "NoFun"');
  });

  it('names the SmartSync of a duplicate or invalid name', () => {
    const problems = problemsOf(`<SmartSyncSetup>
      <SmartSync Name="A"><Entities><Entity Name="Task"/></Entities></SmartSync>
      <SmartSync Name="A"><Entities><Entity Name="Task"/></Entities></SmartSync>
    </SmartSyncSetup>`);
    expect(problems).toEqual([{ path: 'SmartSyncSetup/SmartSync[A] name', message: 'a profile named "A" is already defined' }]);
  });
});
