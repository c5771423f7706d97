import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ValidationError, type Problem } from '../errors.ts';
import { defineProfiles, EXCLUDED_STEPS, type ProfileInput, type Profile, type ProfileTrigger } from './Profile.ts';

/** A parsed element in document order (fast-xml-parser's preserveOrder form). */
type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

// Resco's SyncAction values, and the spellings Woodford writes for "both".
const SYNC_ACTIONS: Record<string, Profile['direction']> = {
  DownSync: 'download',
  UpSync: 'upload',
  FullSync: 'both',
  UpDownSync: 'both',
  Sync: 'both',
};
// Resco's trigger actions: PeriodicSync (Delay), AppStart, RecordChange (Entity), and Online.
const TRIGGER_ACTIONS = ['PeriodicSync', 'AppStart', 'RecordChange', 'Online'] as const;

/** The largest SmartSync.xml accepted (a setup file is a few KB; this bounds the parser's work). */
export const MAX_SMARTSYNC_XML = 1_000_000;

/**
 * Reads Resco's SmartSync.xml (seed 003) into profiles. The format:
 *
 * ```xml
 * <SmartSyncSetup>
 *   <SmartSync Name="GetTasks" SyncAction="DownSync" SyncMethod="Default" GlobalExclusions="true" AutoExclusions="true"
 *              ExcludedModules="NoCleanup NoDocuments">            <!-- optional, space or comma separated -->
 *     <Description>retrieve tasks from the server every 5 minutes</Description>
 *     <Entities Mode="Include">                                    <!-- Mode="Exclude" for a black list -->
 *       <Entity Name="task" WithRelated="false" Deep="false"></Entity>
 *     </Entities>
 *   </SmartSync>
 *   <Trigger Launch="GetTasks" Delay="300" Action="PeriodicSync"></Trigger>
 *   <Trigger Launch="GetTasks" Action="RecordChange" Entity="task" Delay="2"></Trigger>  <!-- Delay: debounce -->
 * </SmartSyncSetup>
 * ```
 *
 * Entity names stay as written: the runtime resolves them against the app's schema (case-
 * insensitively, so Resco's logical name `task` is the entity `Task`). `WithRelated="true"`
 * adds the entities the listed one refers to, `Deep="true"` their references too. Malformed
 * XML, unknown elements and attributes, and bad values are ValidationErrors whose path names
 * the element, e.g. `SmartSyncSetup/SmartSync[GetTasks]/Entities/Entity[1]@Foo`.
 *
 * @example
 * const profiles = importSmartSyncXml(readFileSync('SmartSync.xml', 'utf8'));
 */
export function importSmartSyncXml(xml: string): Profile[] {
  if (typeof xml !== 'string') throw ValidationError.at('SmartSync.xml', 'must be text');
  if (xml.length > MAX_SMARTSYNC_XML) throw ValidationError.at('SmartSync.xml', `is over ${MAX_SMARTSYNC_XML} characters`);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw ValidationError.at(`SmartSync.xml:${line}:${col}`, `malformed XML: ${msg}`);
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: true,
    processEntities: true,
    ignoreDeclaration: true,
    commentPropName: '#comment',
  });
  const doc = parser.parse(xml) as XmlNode[];
  const problems: Problem[] = [];
  const roots = elements(doc, 'SmartSync.xml', problems);
  if (roots.length !== 1 || roots[0].name !== 'SmartSyncSetup') {
    throw ValidationError.at('SmartSync.xml', 'the document must have one root element <SmartSyncSetup>');
  }
  const root = roots[0];
  const at = 'SmartSyncSetup';
  checkAttributes(root, at, [], problems);

  const profiles: Array<ProfileInput & { triggers: ProfileTrigger[] }> = [];
  const triggers: Array<{ node: Element; at: string }> = [];
  let triggerCount = 0;
  for (const child of elements(root.children, at, problems)) {
    if (child.name === 'SmartSync') profiles.push(readSmartSync(child, `${at}/SmartSync[${child.attrs.Name ?? profiles.length + 1}]`, problems));
    else if (child.name === 'Trigger') triggers.push({ node: child, at: `${at}/Trigger[${++triggerCount}]` });
    else problems.push({ path: `${at}/${child.name}`, message: `unknown element <${child.name}> (expected <SmartSync> or <Trigger>)` });
  }
  for (const { node, at: where } of triggers) {
    checkAttributes(node, where, ['Launch', 'Action', 'Delay', 'Entity'], problems);
    checkNoChildren(node, where, problems);
    const target = profiles.find((p) => p.name === node.attrs.Launch);
    if (!node.attrs.Launch) problems.push({ path: `${where}@Launch`, message: 'names the SmartSync profile to run' });
    else if (!target) problems.push({ path: `${where}@Launch`, message: `no <SmartSync Name="${node.attrs.Launch}"> is defined` });
    const trigger = readTrigger(node, where, problems);
    if (trigger && target) target.triggers.push(trigger);
  }
  if (problems.length) throw new ValidationError(problems);
  try {
    return defineProfiles(profiles);
  } catch (e) {
    // Name the element rather than the JSON path the profile would have had.
    if (e instanceof ValidationError) {
      throw new ValidationError(
        e.problems.map((p) => {
          const i = Number(/^profiles\[(\d+)\]/.exec(p.path)?.[1]);
          const name = Number.isInteger(i) ? profiles[i]?.name : undefined;
          return { path: `${at}/SmartSync[${name ?? '?'}] ${p.path.replace(/^profiles\[\d+\]\.?/, '')}`.trim(), message: p.message };
        }),
      );
    }
    throw e;
  }
}

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}

/** The child elements of a node list; text between elements is not part of the format. */
function elements(nodes: XmlNode[], at: string, problems: Problem[]): Element[] {
  const out: Element[] = [];
  for (const node of nodes) {
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || name === '#comment') continue;
    if (name === '#text') {
      problems.push({ path: at, message: `unexpected text "${String(node['#text']).slice(0, 40)}"` });
      continue;
    }
    out.push({ name, attrs: node[':@'] ?? {}, children: (node[name] as XmlNode[]) ?? [] });
  }
  return out;
}

function textOf(node: Element): string {
  return node.children.map((c) => (c['#text'] === undefined ? '' : String(c['#text']))).join('');
}

function checkAttributes(node: Element, at: string, known: readonly string[], problems: Problem[]): void {
  for (const name of Object.keys(node.attrs)) {
    if (!known.includes(name)) {
      problems.push({
        path: `${at}@${name}`,
        message: `unknown attribute "${name}" on <${node.name}>${known.length ? ` (expected ${known.join(', ')})` : ''}`,
      });
    }
  }
}

function checkNoChildren(node: Element, at: string, problems: Problem[]): void {
  for (const child of elements(node.children, at, problems)) {
    problems.push({ path: `${at}/${child.name}`, message: `unknown element <${child.name}> inside <${node.name}>` });
  }
}

function bool(node: Element, name: string, at: string, problems: Problem[]): boolean | undefined {
  const value = node.attrs[name];
  if (value === undefined) return undefined;
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  problems.push({ path: `${at}@${name}`, message: `must be true or false, not "${value}"` });
  return undefined;
}

function readSmartSync(node: Element, at: string, problems: Problem[]): ProfileInput & { triggers: ProfileTrigger[] } {
  checkAttributes(node, at, ['Name', 'SyncAction', 'SyncMethod', 'GlobalExclusions', 'AutoExclusions', 'ExcludedModules'], problems);
  const { Name: name, SyncAction: action, SyncMethod: method } = node.attrs;
  if (!name) problems.push({ path: `${at}@Name`, message: 'a SmartSync needs a Name' });
  const direction = action === undefined ? 'both' : SYNC_ACTIONS[action];
  if (!direction) problems.push({ path: `${at}@SyncAction`, message: `must be one of ${Object.keys(SYNC_ACTIONS).join(', ')}, not "${action}"` });
  // Woodford writes SyncMethod="Default" (incremental where possible); that is the only method we have.
  if (method !== undefined && method !== 'Default') problems.push({ path: `${at}@SyncMethod`, message: `only "Default" is supported, not "${method}"` });
  const excludedSteps: string[] = [];
  for (const step of (node.attrs.ExcludedModules ?? '').split(/[\s,;]+/).filter(Boolean)) {
    if ((EXCLUDED_STEPS as readonly string[]).includes(step)) excludedSteps.push(step);
    else problems.push({ path: `${at}@ExcludedModules`, message: `unknown module "${step}" (expected ${EXCLUDED_STEPS.join(', ')})` });
  }
  let description: string | undefined;
  let entities: ProfileInput['entities'] | undefined;
  for (const child of elements(node.children, at, problems)) {
    const where = `${at}/${child.name}`;
    if (child.name === 'Description') {
      checkAttributes(child, where, [], problems);
      description = textOf(child);
    } else if (child.name === 'ExcludedModules') {
      // The element form: <ExcludedModules><Module Name="NoCleanup"/></ExcludedModules>.
      checkAttributes(child, where, [], problems);
      for (const [i, m] of elements(child.children, where, problems).entries()) {
        const mAt = `${where}/${m.name}[${i + 1}]`;
        if (m.name !== 'Module') problems.push({ path: mAt, message: `unknown element <${m.name}> (expected <Module Name="...">)` });
        checkAttributes(m, mAt, ['Name'], problems);
        const step = m.attrs.Name ?? '';
        if ((EXCLUDED_STEPS as readonly string[]).includes(step)) excludedSteps.push(step);
        else problems.push({ path: `${mAt}@Name`, message: `unknown module "${step}" (expected ${EXCLUDED_STEPS.join(', ')})` });
      }
    } else if (child.name === 'Entities') {
      entities = readEntities(child, where, problems);
    } else {
      problems.push({ path: where, message: `unknown element <${child.name}> (expected <Description>, <Entities> or <ExcludedModules>)` });
    }
  }
  if (!entities) problems.push({ path: `${at}/Entities`, message: 'a SmartSync needs an <Entities> element' });
  return {
    name: name ?? '',
    ...(description ? { description } : {}),
    direction: direction ?? 'both',
    entities: entities ?? { exclude: [] },
    globalExclusions: bool(node, 'GlobalExclusions', at, problems) ?? true,
    autoExclusions: bool(node, 'AutoExclusions', at, problems) ?? false,
    excludedSteps: excludedSteps as ProfileInput['excludedSteps'],
    triggers: [],
  };
}

/**
 * `WithRelated` and `Deep` are kept in the entity name list as markers the runtime expands
 * against the schema: `Task+` (with the entities Task refers to), `Task++` (transitively).
 */
function readEntities(node: Element, at: string, problems: Problem[]): ProfileInput['entities'] {
  checkAttributes(node, at, ['Mode'], problems);
  const mode = node.attrs.Mode ?? 'Include';
  if (mode !== 'Include' && mode !== 'Exclude') problems.push({ path: `${at}@Mode`, message: `must be Include or Exclude, not "${mode}"` });
  const names: string[] = [];
  for (const [i, child] of elements(node.children, at, problems).entries()) {
    const where = `${at}/${child.name}[${i + 1}]`;
    if (child.name !== 'Entity') {
      problems.push({ path: where, message: `unknown element <${child.name}> (expected <Entity>)` });
      continue;
    }
    checkAttributes(child, where, ['Name', 'WithRelated', 'Deep'], problems);
    checkNoChildren(child, where, problems);
    const name = child.attrs.Name;
    if (!name) {
      problems.push({ path: `${where}@Name`, message: 'an <Entity> needs a Name' });
      continue;
    }
    const related = bool(child, 'WithRelated', where, problems) ?? false;
    const deep = bool(child, 'Deep', where, problems) ?? false;
    names.push(deep ? `${name}++` : related ? `${name}+` : name);
  }
  if (mode === 'Include' && names.length === 0) problems.push({ path: at, message: 'an include list needs at least one <Entity>' });
  return mode === 'Exclude' ? { exclude: names } : { include: names };
}

function readTrigger(node: Element, at: string, problems: Problem[]): ProfileTrigger | null {
  const action = node.attrs.Action;
  const delayText = node.attrs.Delay;
  const delay = delayText === undefined ? undefined : Number(delayText);
  if (delayText !== undefined && (!/^\d+(\.\d+)?$/.test(delayText) || !Number.isFinite(delay))) {
    problems.push({ path: `${at}@Delay`, message: `must be a number of seconds, not "${delayText}"` });
    return null;
  }
  if (node.attrs.Entity !== undefined && action !== 'RecordChange') {
    problems.push({ path: `${at}@Entity`, message: 'only a RecordChange trigger names an Entity' });
  }
  switch (action as (typeof TRIGGER_ACTIONS)[number]) {
    case 'PeriodicSync':
      if (delay === undefined) problems.push({ path: `${at}@Delay`, message: 'a PeriodicSync trigger needs a Delay in seconds' });
      return delay === undefined ? null : { kind: 'periodic', delaySeconds: delay };
    case 'AppStart':
      if (delay !== undefined) problems.push({ path: `${at}@Delay`, message: 'an AppStart trigger has no Delay' });
      return { kind: 'appStart' };
    case 'Online':
      if (delay !== undefined) problems.push({ path: `${at}@Delay`, message: 'an Online trigger has no Delay' });
      return { kind: 'online' };
    case 'RecordChange':
      if (!node.attrs.Entity) {
        problems.push({ path: `${at}@Entity`, message: 'a RecordChange trigger names the Entity whose changes start it' });
        return null;
      }
      return { kind: 'recordChange', entity: node.attrs.Entity, ...(delay !== undefined ? { debounceSeconds: delay } : {}) };
    default:
      problems.push({ path: `${at}@Action`, message: `must be one of ${TRIGGER_ACTIONS.join(', ')}, not "${action ?? ''}"` });
      return null;
  }
}
