/** graph.reachable and graph.reachable_paths over adjacency objects {node: set|array of nodes}. */
import { RObject, RSet, type Value } from '../value.ts';
import { BuiltinTypeError, type BuiltinDecl, type WorkBudget } from './types.ts';
import { obj, typeError } from './operands.ts';

function neighbours(graph: RObject, node: Value): Value[] {
  const edges = graph.get(node);
  if (edges === undefined || edges === null) return [];
  if (edges instanceof RSet) return edges.sorted();
  if (Array.isArray(edges)) return edges;
  throw new BuiltinTypeError(`operand 1 must be object[any: any<array[any], set[any]>] but got object containing ${typeof edges}`);
}

function initialNodes(args: Value[]): Value[] {
  const v = args[1]!;
  if (v instanceof RSet) return v.sorted();
  if (Array.isArray(v)) return v;
  throw typeError(2, 'one of {array, set}', v);
}

function reachable(graph: RObject, initial: Value[]): RSet {
  const seen = new RSet();
  const queue = initial.filter((n) => graph.has(n));
  while (queue.length) {
    const node = queue.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const next of neighbours(graph, node)) if (!seen.has(next) && graph.has(next)) queue.push(next);
  }
  return seen;
}

/** Every maximal path from each initial node, ending at a leaf or where it would loop back. */
function reachablePaths(graph: RObject, initial: Value[], budget: WorkBudget | undefined): RSet {
  const paths = new RSet();
  const walk = (node: Value, path: Value[], onPath: RSet): void => {
    // Paths can be exponentially many in the size of the graph: each one counts.
    budget?.grew(path.length + onPath.size + 1, paths.size, 'graph.reachable_paths');
    const nextPath = [...path, node];
    // Edges to nodes the graph does not define end the path before them.
    const nexts = neighbours(graph, node).filter((n) => graph.has(n));
    if (nexts.length === 0) {
      paths.add(nextPath);
      return;
    }
    const inner = RSet.from(onPath.values());
    inner.add(node);
    for (const next of nexts) {
      if (inner.has(next)) paths.add(nextPath);
      else walk(next, nextPath, inner);
    }
  };
  for (const node of initial) if (graph.has(node)) walk(node, [], new RSet());
  return paths;
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'graph.reachable',
    args: ['object[any: any<array[any], set[any]>]', 'any<array[any], set[any]>'],
    result: 'set[any]',
    fn: (args) => reachable(obj(args, 0), initialNodes(args)),
  },
  {
    name: 'graph.reachable_paths',
    args: ['object[any: any<array[any], set[any]>]', 'any<array[any], set[any]>'],
    result: 'set[array[any]]',
    fn: (args, ctx) => reachablePaths(obj(args, 0), initialNodes(args), ctx.budget),
  },
];
