/** How the canvas draws one node of a flow: its kind's shape, a summary, and its problems. */
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { Activity, FlowNode } from '../../../src/flow/format.ts';
import type { FlowProblem } from '../../../src/flow/validateFlow.ts';
import { activityLabel, humanize } from '../flow/kinds.ts';
import type { RunState } from '../run/runStore.ts';

export interface FlowNodeData extends Record<string, unknown> {
  node: FlowNode;
  problems: FlowProblem[];
  run?: RunState['nodeStates'][string];
  /** A breakpoint is set on the node (the step debugger pauses before it). */
  breakpoint?: boolean;
  /** The debugger is paused before this node. */
  paused?: boolean;
  /** A loop's box, sized around its body. */
  size?: { width: number; height: number };
}

export type CanvasNode = Node<FlowNodeData, 'flow'>;

/** `$name`, or `?` while the name is not filled in. */
const v = (name: string | undefined) => (name ? `$${name}` : '?');
const vars = (names: readonly string[] | undefined) => (names ?? []).map(v).join(', ');

/** One line saying what an activity does. */
export function summary(a: Activity): string {
  switch (a.type) {
    case 'synchronize':
      return a.mode === 'selected' ? `selected: ${vars(a.variables) || '(none)'}` : a.mode === 'all' ? 'all objects' : 'unsynchronized objects';
    case 'createObject':
      return `${a.entity || '?'} → ${v(a.outputVariable)}`;
    case 'changeObject':
      return `${v(a.variable)}: ${Object.keys(a.values ?? {}).join(', ')}`;
    case 'commit':
    case 'rollback':
    case 'delete':
      return vars(a.variables);
    case 'retrieve':
      return `${a.source.from === 'database' ? a.source.entity || '?' : `${v(a.source.variable)}/${a.source.association}`} → ${v(a.outputVariable)}`;
    case 'logMessage':
    case 'showMessage':
      return a.message;
    case 'changeVariable':
      return `${v(a.variable)} = ${a.value}`;
    case 'createVariable':
      return `${v(a.variable)}${a.value ? ` = ${a.value}` : ''}`;
    case 'callFlow':
      return `${a.flow}${a.outputVariable ? ` → $${a.outputVariable}` : ''}`;
    case 'callJavaScriptAction':
      return `${a.action}${a.outputVariable ? ` → $${a.outputVariable}` : ''}`;
    default:
      return 'outputVariable' in a && a.outputVariable ? `→ $${a.outputVariable}` : 'variable' in a && typeof a.variable === 'string' ? v(a.variable) : '';
  }
}

/** A free-text annotation on the canvas (not a step of the flow). */
export function NoteView({ data, selected }: NodeProps<Node<{ id: string; text: string }, 'note'>>) {
  return (
    <div className={`note${selected ? ' selected' : ''}`} data-testid={`note-${data.id}`} role="note">
      {data.text || <span className="muted">Empty note: type its text in the properties</span>}
    </div>
  );
}

export function FlowNodeView({ data, selected }: NodeProps<CanvasNode>) {
  const { node, problems } = data;
  const hasIn = node.type !== 'start';
  const hasOut = node.type !== 'end' && node.type !== 'break' && node.type !== 'continue';
  let title: string;
  let detail = '';
  switch (node.type) {
    case 'activity':
      title = activityLabel(String(node.activity?.type));
      try {
        detail = summary(node.activity);
      } catch {
        detail = ''; // an activity the format does not know (its problems say why)
      }
      break;
    case 'decision':
      title = node.caption ?? 'Decision';
      detail = node.expression;
      break;
    case 'loop':
      title = node.caption ?? 'Loop';
      detail = `for ${v(node.iterator)} in ${v(node.list)}`;
      break;
    case 'end':
      title = 'End';
      detail = node.returnValue ?? '';
      break;
    default:
      title = node.caption ?? humanize(String(node.type));
  }
  const classes = ['fnode', `fnode-${node.type}`, problems.length ? 'has-problems' : '', selected ? 'selected' : '', data.run ? `run-${data.run}` : '', node.parent ? 'in-loop' : '', data.paused ? 'paused' : '']
    .filter(Boolean)
    .join(' ');
  const handling = node.type === 'activity' && node.errorHandling && node.errorHandling !== 'abort' ? node.errorHandling : null;
  return (
    <div className={classes} data-testid={`node-${node.id}`} data-run={data.run} data-breakpoint={data.breakpoint || undefined} data-paused={data.paused || undefined} style={data.size} title={problems.map((p) => p.message).join('\n') || undefined}>
      {data.breakpoint && <span className="breakpoint-dot" title="Breakpoint: the debugger pauses before this node" aria-label="breakpoint" />}
      {hasIn && <Handle type="target" position={Position.Left} id="in" />}
      {/* Where an error-handler edge from above arrives: straight down, not curled back under its source. */}
      {hasIn && <Handle type="target" position={Position.Top} id="in-top" className="handle-in-top" isConnectable={false} />}
      {node.type === 'decision' && <div className="diamond" />}
      <div className="fnode-body">
        {node.type === 'activity' && node.caption && <div className="fnode-caption">{node.caption}</div>}
        <div className="fnode-title">{title}</div>
        {detail && <div className="fnode-detail mono">{detail}</div>}
        {handling && <div className="fnode-handling">on error: {humanize(handling).toLowerCase()}</div>}
      </div>
      {hasOut && <Handle type="source" position={Position.Right} id="out" />}
      {node.type === 'activity' && <Handle type="source" position={Position.Bottom} id="error" className="handle-error" title="error handler" />}
      {problems.length > 0 && (
        <>
          <span className="badge" data-testid={`node-problems-${node.id}`} aria-label={`${problems.length} problem(s)`}>
            {problems.length}
          </span>
          <div className="fnode-problem" data-testid={`node-problem-${node.id}`}>
            {problems[0].message}
          </div>
        </>
      )}
    </div>
  );
}
