/**
 * `test_` rules, as `opa test` runs them: a test passes when its rule evaluates to true
 * (any value other than false), fails when undefined or false, and errors on run-time errors.
 */
import type { CompiledPolicy } from '../compiler/index.ts';
import type { TreeNode } from '../compiler/tree.ts';
import { RegoError } from '../errors.ts';
import type { Compiled, EvalOptions } from '../index.ts';

export interface TestResult {
  /** `data.pkg.test_name` */
  name: string;
  outcome: 'pass' | 'fail' | 'error';
  /** Error message when outcome is `error`. */
  error?: string;
  durationMs: number;
  /** Output of `print` calls made by the test. */
  output: string[];
}

export function listTests(policy: CompiledPolicy): string[] {
  const out: string[] = [];
  const visit = (node: TreeNode) => {
    if (node.name.startsWith('test_') && node.rules.length && !node.isFunction) out.push(['data', ...node.path].join('.'));
    for (const child of node.children.values()) visit(child);
  };
  visit(policy.root);
  return out;
}

export function runTest(compiled: Compiled, name: string, options: EvalOptions): TestResult {
  const output: string[] = [];
  const started = performance.now();
  try {
    const results = compiled.prepare(name).eval({ ...options, print: (m) => output.push(m) });
    const value = results[0]?.expressions[0]?.value;
    const passed = results.length > 0 && value !== false;
    return { name, outcome: passed ? 'pass' : 'fail', durationMs: performance.now() - started, output };
  } catch (e) {
    const error = e instanceof RegoError ? e.message : String(e);
    return { name, outcome: 'error', error, durationMs: performance.now() - started, output };
  }
}
