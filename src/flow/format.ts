/**
 * The flow file format (`flows/*.flow.json`): zod schemas, and the TypeScript types inferred
 * from them. `flows/flow.schema.json` is generated from `flowSchema` (see flowJsonSchema.ts),
 * so editors validate and complete exactly what the loader accepts.
 *
 * Names of variables are written without `$` in fields that name a variable (`variable`,
 * `outputVariable`, `list`, ...); expressions refer to them with `$` (`$task/title`).
 */
import { z } from 'zod';

/** What an activity does when it fails. */
export const ERROR_HANDLING = ['abort', 'customWithRollback', 'customWithoutRollback', 'continue'] as const;
export type ErrorHandling = (typeof ERROR_HANDLING)[number];

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name (letters, digits and _, without $)')
  .describe('A variable name, without $');

const expression = z.string().min(1, 'must be an expression').describe("An expression, e.g. $task/title != empty and $count > 3");

const entityName = z.string().min(1, 'name an entity').describe('An entity of the schema, e.g. Task');

const memberName = z.string().min(1, 'name an attribute or association').describe('An attribute or association of the entity');

const position = z
  .strictObject({ x: z.number(), y: z.number() })
  .describe('Where the editor draws the node');

// ---------------------------------------------------------------------------------------------
// Data types

const primitive = <T extends string>(type: T, description: string) =>
  z.strictObject({ type: z.literal(type) }).describe(description);

/** A value's type: primitives, an enumeration, an object of an entity or a list of them. */
export const dataTypeSchema = z
  .discriminatedUnion('type', [
    primitive('string', 'Text'),
    primitive('integer', 'A whole number'),
    primitive('decimal', 'A number'),
    primitive('boolean', 'true or false'),
    primitive('datetime', 'A date and time (ISO 8601, UTC)'),
    z.strictObject({ type: z.literal('enum'), values: z.array(z.string().min(1, 'an enumeration value is a non-empty string')).min(1, 'give at least one value') }).describe('One of the values'),
    z
      .strictObject({ type: z.literal('object'), entity: entityName })
      .describe('An object of the entity (System.SynchronizationFailure and System.Error are built in)'),
    z.strictObject({ type: z.literal('list'), entity: entityName }).describe('A list of objects of the entity'),
  ])
  .meta({ id: 'FlowDataType' });
export type DataType = z.infer<typeof dataTypeSchema>;

/** A flow's return type: a data type or nothing. */
export const returnTypeSchema = z
  .union([dataTypeSchema, primitive('nothing', 'The flow returns no value')])
  .meta({ id: 'FlowReturnType' });
export type ReturnType = z.infer<typeof returnTypeSchema>;

// ---------------------------------------------------------------------------------------------
// Database constraints (the model's Constraint, with expressions as values)

export const COMPARISON_OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'startsWith'] as const;

/** A constraint of a Retrieve: as the model's Constraint, but every value is an expression. */
export type FlowConstraint =
  | { and: FlowConstraint[] }
  | { or: FlowConstraint[] }
  | { not: FlowConstraint }
  | { attribute: string; op: (typeof COMPARISON_OPS)[number]; value: string | string[] };

export const constraintSchema: z.ZodType<FlowConstraint> = z
  .lazy(() =>
    z.union([
      z.strictObject({ and: z.array(constraintSchema).min(1, 'give at least one condition') }),
      z.strictObject({ or: z.array(constraintSchema).min(1, 'give at least one condition') }),
      z.strictObject({ not: constraintSchema }),
      z.strictObject({
        attribute: memberName,
        op: z.enum(COMPARISON_OPS),
        value: z
          .union([expression, z.array(expression)])
          .describe('An expression; a list of expressions for "in"'),
      }),
    ]),
  )
  .meta({ id: 'FlowConstraint' });

const sortSchema = z
  .array(z.strictObject({ attribute: memberName, direction: z.enum(['asc', 'desc']).optional().describe('Default asc') }))
  .describe('Sort order, first key first');
export type SortKey = { attribute: string; direction?: 'asc' | 'desc' };

const countSchema = z.union([z.number().int().nonnegative(), expression]);

// ---------------------------------------------------------------------------------------------
// Activities

const values = z.record(z.string(), expression).describe('Member name -> expression');

export const activitySchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('createObject'),
        entity: entityName,
        values: values.optional(),
        outputVariable: variableName,
        commit: z.boolean().optional().describe('Commit the new object at once'),
      })
      .describe('Creates an uncommitted object'),
    z
      .strictObject({
        type: z.literal('changeObject'),
        variable: variableName,
        values,
        commit: z.boolean().optional().describe('Commit the object at once'),
      })
      .describe('Changes members of an object (uncommitted until a commit)'),
    z
      .strictObject({ type: z.literal('commit'), variables: z.array(variableName).min(1, 'choose the variables to commit') })
      .describe('Writes objects (or lists) to the offline database, in one transaction'),
    z
      .strictObject({ type: z.literal('rollback'), variables: z.array(variableName).min(1, 'choose the variables to roll back') })
      .describe('Reverts the uncommitted changes of objects (or lists)'),
    z
      .strictObject({ type: z.literal('delete'), variables: z.array(variableName).min(1, 'choose the variables to delete') })
      .describe('Deletes objects (or lists) from the offline database'),
    z
      .strictObject({
        type: z.literal('retrieve'),
        source: z.discriminatedUnion('from', [
          z.strictObject({
            from: z.literal('database'),
            entity: entityName,
            where: constraintSchema.optional(),
            sort: sortSchema.optional(),
            first: z.boolean().optional().describe('Retrieve only the first object (or empty)'),
            limit: countSchema.optional(),
            offset: countSchema.optional(),
          }),
          z.strictObject({
            from: z.literal('association'),
            variable: variableName,
            association: z
              .string()
              .min(1, 'name the association to follow')
              .describe('An association of the variable\'s entity ("project": one object), or "Entity/association" for the objects referring to it (a list)'),
          }),
        ]),
        outputVariable: variableName,
      })
      .describe('Retrieves objects from the offline database or over an association'),
    z
      .strictObject({
        type: z.literal('listOperation'),
        list: variableName,
        operation: z.discriminatedUnion('op', [
          z.strictObject({ op: z.literal('filter'), expression: expression.describe('A condition on $currentObject') }),
          z.strictObject({ op: z.literal('find'), expression: expression.describe('A condition on $currentObject') }),
          z.strictObject({ op: z.literal('sort'), by: sortSchema }),
          z.strictObject({ op: z.literal('head') }),
          z.strictObject({ op: z.literal('tail') }),
        ]),
        outputVariable: variableName,
      })
      .describe('Filters, sorts or picks from a list (the list itself is not changed)'),
    z
      .strictObject({
        type: z.literal('aggregateList'),
        list: variableName,
        function: z.enum(['count', 'sum', 'average', 'min', 'max']),
        attribute: memberName.optional().describe('Required except for count'),
        outputVariable: variableName,
      })
      .describe('Counts a list, or sums / averages / finds the min or max of an attribute'),
    z
      .strictObject({ type: z.literal('createList'), entity: entityName, outputVariable: variableName })
      .describe('Creates an empty list'),
    z
      .strictObject({
        type: z.literal('changeList'),
        list: variableName,
        operation: z.enum(['add', 'remove', 'clear', 'set']),
        value: expression.optional().describe('An object or a list (not for clear)'),
      })
      .describe('Adds to, removes from, clears or replaces a list variable'),
    z
      .strictObject({
        type: z.literal('createVariable'),
        variable: variableName,
        variableType: dataTypeSchema,
        value: expression.optional().describe('Initial value; empty (or an empty list) if absent'),
      })
      .describe('Creates a variable'),
    z
      .strictObject({ type: z.literal('changeVariable'), variable: variableName, value: expression })
      .describe('Assigns a new value to a variable'),
    z
      .strictObject({
        type: z.literal('callFlow'),
        flow: z.string().min(1, 'name the flow to call').describe('The name of the flow to call'),
        parameters: values.optional().describe('Parameter name -> expression'),
        outputVariable: variableName.optional(),
      })
      .describe('Runs another flow (sharing this flow\'s uncommitted work) and keeps its return value'),
    z
      .strictObject({
        type: z.literal('callJavaScriptAction'),
        action: z.string().min(1, 'name the JavaScript action to call').describe('The name the app registered the action under'),
        arguments: values.optional().describe('Argument name -> expression'),
        outputVariable: variableName.optional(),
        returnType: dataTypeSchema.optional().describe('The type of the result, when known'),
      })
      .describe('Calls a JavaScript action registered by the app (may be async)'),
    z
      .strictObject({
        type: z.literal('logMessage'),
        level: z.enum(['debug', 'info', 'warning', 'error']).optional(),
        message: expression,
      })
      .describe('Writes a message to the log'),
    z
      .strictObject({
        type: z.literal('showMessage'),
        messageType: z.enum(['info', 'warning', 'error']).optional(),
        message: expression,
      })
      .describe('Shows a message to the user (through the app\'s handler)'),
    z
      .strictObject({
        type: z.literal('synchronize'),
        mode: z.enum(['all', 'unsynchronized', 'selected']),
        variables: z.array(variableName).optional().describe('Objects and lists to synchronize (mode selected)'),
      })
      .describe('Synchronizes the offline database with the server'),
    z
      .strictObject({ type: z.literal('listSynchronizationFailures'), outputVariable: variableName })
      .describe('Retrieves the SynchronizationFailures (a list of System.SynchronizationFailure)'),
    z
      .strictObject({
        type: z.literal('retrySynchronizationFailure'),
        variable: variableName,
        outputVariable: variableName.optional().describe('true if the server applied the change'),
      })
      .describe('Asks the server to apply a failed change again'),
    z
      .strictObject({ type: z.literal('dismissSynchronizationFailure'), variable: variableName })
      .describe('Dismisses a SynchronizationFailure'),
    z
      .strictObject({
        type: z.literal('reSync'),
        sync: z.string().min(1, 'name the sync to run').describe('The name (or id) of a defined sync down or sync up'),
        outputVariable: variableName.optional().describe('The number of records the run transferred (Integer)'),
      })
      .describe('Runs a named sync incrementally: only what changed since its last run (full the first time)'),
    z
      .strictObject({
        type: z.literal('cleanResyncGhosts'),
        sync: z.string().min(1, 'name the sync whose ghosts to clean').describe('The name (or id) of a defined sync down'),
        outputVariable: variableName.optional().describe('The number of local objects removed (Integer)'),
      })
      .describe('Removes local objects of a named sync down that the server no longer has or that no longer match'),
    z
      .strictObject({
        type: z.literal('runProfile'),
        profile: z.string().min(1, 'name the sync profile to run').describe('The name of a sync profile the app defines (SmartSync)'),
        outputVariable: variableName.optional().describe('The run\'s summary: outcome and counts (System.ProfileRun)'),
      })
      .describe('Runs a sync profile now; a refused or skipped run fails the activity with profile_refused (error handling applies)'),
  ])
  .meta({ id: 'FlowActivity' });
export type Activity = z.infer<typeof activitySchema>;
export type ActivityType = Activity['type'];
export type ActivityOf<T extends ActivityType> = Extract<Activity, { type: T }>;

// ---------------------------------------------------------------------------------------------
// Nodes and edges

const nodeBase = {
  id: z.string().min(1, 'a node needs an id').describe('Unique in the flow'),
  caption: z.string().optional(),
  position: position.optional(),
  parent: z.string().min(1).optional().describe('The loop this node is inside of'),
};

export const nodeSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ ...nodeBase, type: z.literal('start') }).describe('Where the flow begins (exactly one)'),
    z
      .strictObject({
        ...nodeBase,
        type: z.literal('end'),
        returnValue: expression.optional().describe('Required when the flow returns a value'),
      })
      .describe('Ends the flow'),
    z
      .strictObject({
        ...nodeBase,
        type: z.literal('activity'),
        activity: activitySchema,
        errorHandling: z.enum(ERROR_HANDLING).optional().describe('Default abort'),
      })
      .describe('Does one thing'),
    z
      .strictObject({ ...nodeBase, type: z.literal('decision'), expression: expression.describe('A boolean or enumeration') })
      .describe('Chooses the outgoing edge whose case equals the value'),
    z.strictObject({ ...nodeBase, type: z.literal('merge') }).describe('Joins paths'),
    z
      .strictObject({
        ...nodeBase,
        type: z.literal('loop'),
        list: variableName.describe('The list to iterate over'),
        iterator: variableName.describe('The variable holding the current object'),
      })
      .describe(
        'Runs its body (the nodes whose parent is this loop, starting at the one without incoming edges) once per object',
      ),
    z.strictObject({ ...nodeBase, type: z.literal('break') }).describe('Leaves the enclosing loop'),
    z.strictObject({ ...nodeBase, type: z.literal('continue') }).describe('Goes on with the next object of the enclosing loop'),
  ])
  .meta({ id: 'FlowNode' });
export type FlowNode = z.infer<typeof nodeSchema>;
export type NodeType = FlowNode['type'];
export type NodeOf<T extends NodeType> = Extract<FlowNode, { type: T }>;

export const edgeSchema = z
  .strictObject({
    id: z.string().min(1).optional(),
    from: z.string().min(1),
    to: z.string().min(1),
    case: z
      .union([z.boolean(), z.string(), z.null()])
      .optional()
      .describe('From a decision: the value this edge is taken for (null: empty)'),
    errorHandler: z.boolean().optional().describe('The path taken when the activity fails (custom error handling)'),
  })
  .meta({ id: 'FlowEdge' });
export type FlowEdge = z.infer<typeof edgeSchema>;

export const parameterSchema = z.strictObject({ name: variableName, type: dataTypeSchema });
export type FlowParameter = z.infer<typeof parameterSchema>;

/** A whole flow file. */
export const flowSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'must start with a letter and use letters, digits, _, . and -'),
    description: z.string().optional(),
    parameters: z.array(parameterSchema).optional(),
    returnType: returnTypeSchema.optional().describe('Default: nothing'),
    nodes: z.array(nodeSchema),
    edges: z.array(edgeSchema),
    annotations: z
      .array(
        z.strictObject({
          id: z.string().min(1).max(100),
          text: z.string().max(10_000),
          position: position.optional(),
        }),
      )
      .optional()
      .describe('Free-text notes on the canvas, saved with the flow; they do not affect a run'),
  })
  .meta({
    title: 'syncflow flow',
    description: 'A syncflow flow: parameters, nodes (start, end, activity, decision, merge, loop, break, continue) and edges',
  });
export type Flow = z.infer<typeof flowSchema>;
