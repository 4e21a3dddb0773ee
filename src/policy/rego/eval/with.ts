/**
 * `expr with target as value`: evaluates the expression in a derived state where input,
 * data paths or functions are replaced. Rule results cached outside are not reused inside.
 */
import type { Expr, Term, WithModifier } from '../ast.ts';
import { refToDotted } from '../ast.ts';
import { BUILTINS } from '../builtins/index.ts';
import { nodeAt } from '../compiler/tree.ts';
import { RObject, type Value } from '../value.ts';
import { EvalState, type FunctionMock } from './state.ts';
import { pathKey } from './docs.ts';
import type { Env, Evaluator, K, VK } from './evaluator.ts';

export function evalWith(ev: Evaluator, e: Expr, env: Env, k: K, vk?: VK): boolean {
  return withValues(ev, e, 0, [], env, k, vk);
}

function withValues(ev: Evaluator, e: Expr, i: number, values: (Value | FunctionMock)[], env: Env, k: K, vk?: VK): boolean {
  if (i === e.with.length) return runWith(ev, e, values, env, k, vk);
  const fn = functionReference(ev, e.with[i].value);
  if (fn && isFunctionTarget(ev, e.with[i].target)) {
    values[i] = { kind: 'function', name: fn };
    return withValues(ev, e, i + 1, values, env, k, vk);
  }
  return ev.evalTerm(e.with[i].value, env, (v) => {
    values[i] = v;
    return withValues(ev, e, i + 1, values, env, k, vk);
  });
}

function runWith(ev: Evaluator, e: Expr, values: (Value | FunctionMock)[], env: Env, k: K, vk?: VK): boolean {
  const outer = ev.state;
  const inner = derive(ev, outer, e.with, values);
  // The rest of the body runs in the outer state again.
  const restore = <T>(f: () => T): T => {
    ev.state = outer;
    try {
      return f();
    } finally {
      ev.state = inner;
    }
  };
  ev.state = inner;
  try {
    return ev.evalExprNoWith(e, env, () => restore(k), vk && ((v: Value) => restore(() => vk(v))));
  } finally {
    ev.state = outer;
  }
}

function derive(ev: Evaluator, outer: EvalState, mods: WithModifier[], values: (Value | FunctionMock)[]): EvalState {
  let input = outer.input;
  let data = outer.data;
  const overrides = new Map(outer.overrides);
  const mocks = new Map(outer.mocks);
  mods.forEach((mod, i) => {
    const value = values[i];
    const target = mod.target;
    const root = target.kind === 'ref' && target.head.kind === 'var' ? target.head.name : undefined;
    const path = target.kind === 'ref' ? target.path.map((p) => (p.kind === 'string' ? p.value : '')) : [];
    if (root === 'input' && !isMock(value)) {
      input = path.length === 0 ? value : setPath(input ?? new RObject(), path, value);
      return;
    }
    const fnName = targetFunctionName(ev, target);
    if (fnName !== undefined) {
      mocks.set(fnName, isMock(value) ? value : { kind: 'value', value });
      return;
    }
    if (root === 'data' && !isMock(value)) {
      overrides.set(pathKey(path), { path, value });
      data = path.length === 0 && value instanceof RObject ? value : (setPath(data, path, value) as RObject);
    }
  });
  return new EvalState(input, data, overrides, mocks);
}

function isMock(v: Value | FunctionMock): v is FunctionMock {
  return typeof v === 'object' && v !== null && 'kind' in v && (v.kind === 'value' || v.kind === 'function') && !(v instanceof RObject);
}

function isFunctionTarget(ev: Evaluator, target: Term): boolean {
  return targetFunctionName(ev, target) !== undefined;
}

/** The function a `with` target names (built-in or user function), if any. */
function targetFunctionName(ev: Evaluator, target: Term): string | undefined {
  const dotted = refToDotted(target);
  if (dotted === undefined) return undefined;
  if (dotted.startsWith('data.')) {
    const node = nodeAt(ev.policy.root, dotted.split('.').slice(1), false);
    return node?.isFunction ? dotted : undefined;
  }
  if (dotted === 'input' || dotted.startsWith('input.')) return undefined;
  // Any other name is a built-in, including ones this engine leaves out (http.send).
  return dotted;
}

/** A `with` value that names a function rather than a value. */
function functionReference(ev: Evaluator, value: Term): string | undefined {
  const dotted = refToDotted(value);
  if (dotted === undefined) return undefined;
  if (dotted.startsWith('data.')) {
    const node = nodeAt(ev.policy.root, dotted.split('.').slice(1), false);
    return node?.isFunction ? dotted : undefined;
  }
  const evaluatorBuiltins = ['opa.runtime', 'walk', 'trace', 'rego.metadata.chain', 'rego.metadata.rule', 'rego.parse_module'];
  return BUILTINS.has(dotted) || evaluatorBuiltins.includes(dotted) ? dotted : undefined;
}

/** A copy of `root` with `value` placed at `path` (intermediate objects created or copied). */
export function setPath(root: Value, path: string[], value: Value): Value {
  if (path.length === 0) return value;
  const out = new RObject();
  if (root instanceof RObject) for (const [key, v] of root.entries()) out.set(key, v);
  const child = root instanceof RObject ? root.get(path[0]) : undefined;
  out.set(path[0], setPath(child ?? new RObject(), path.slice(1), value));
  return out;
}
