/**
 * Compile-time checks OPA performs after name resolution:
 *  - calls: unknown functions, wrong arity, and operand types that are certainly wrong
 *    (literals and nested built-in results checked against the built-in's declared types);
 *  - recursion: a rule that depends on itself, directly or through other rules.
 */
import type { Body, Term } from '../ast.ts';
import { walkExpr, walkTerm } from '../ast.ts';
import { BUILTINS } from '../builtins/index.ts';
import type { RegoErrorDetail } from '../errors.ts';
import type { CompiledRule, TreeNode } from './tree.ts';

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';
const ALL_KINDS: Kind[] = ['null', 'boolean', 'number', 'string', 'array', 'object', 'set'];

/** Built-ins OPA has that this engine leaves out; calls to them compile (and can be mocked). */
const KNOWN_UNIMPLEMENTED = new Set(['http.send', 'net.lookup_ip_addr']);
const SPECIAL = new Set(['print', 'walk', 'trace', 'rego.metadata.chain', 'rego.metadata.rule', 'opa.runtime', 'rego.parse_module']);

/** Top-level kinds a declared type admits (`any<string, array[x]>` → string, array). */
export function kindsOf(type: string): Set<Kind> {
  const t = type.trim();
  if (t === 'any') return new Set(ALL_KINDS);
  if (t.startsWith('any<') && t.endsWith('>')) {
    const out = new Set<Kind>();
    for (const part of splitTopLevel(t.slice(4, -1))) for (const k of kindsOf(part)) out.add(k);
    return out;
  }
  const base = t.replace(/\[.*$/, '') as Kind;
  return ALL_KINDS.includes(base) ? new Set([base]) : new Set(ALL_KINDS);
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<' || c === '[') depth++;
    else if (c === '>' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** The kind a term certainly has, when it can be known without evaluation. */
function staticKind(t: Term): Kind | undefined {
  switch (t.kind) {
    case 'null': return 'null';
    case 'boolean': return 'boolean';
    case 'number': return 'number';
    case 'string':
    case 'template': return 'string';
    case 'array':
    case 'arraycompr': return 'array';
    case 'object':
    case 'objectcompr': return 'object';
    case 'set':
    case 'setcompr': return 'set';
    case 'call': {
      const decl = BUILTINS.get(t.name);
      if (!decl || t.infix === '-' || t.infix === '&' || t.infix === '|') return undefined;
      const kinds = kindsOf(decl.result);
      return kinds.size === 1 ? [...kinds][0] : undefined;
    }
    default:
      return undefined;
  }
}

export function checkCalls(terms: Term[], bodies: Body[], functionArity: Map<string, number>, errors: RegoErrorDetail[]): void {
  const visit = (t: Term): void => {
    if (t.kind !== 'call') return;
    const name = t.name;
    if (functionArity.has(name) || SPECIAL.has(name) || KNOWN_UNIMPLEMENTED.has(name)) return;
    const decl = BUILTINS.get(name);
    if (!decl) {
      // A call into `data` may name a function of a module that is not loaded, as in OPA.
      errors.push({ code: 'rego_type_error', message: `undefined function ${name}`, location: t.loc });
      return;
    }
    const n = decl.args.length;
    if (t.args.length !== n && t.args.length !== n + 1) {
      errors.push({ code: 'rego_type_error', message: `${name}: arity mismatch\n\thave: (${t.args.map(describe).join(', ')})\n\twant: (${decl.args.join(', ')})`, location: t.loc });
      return;
    }
    for (let i = 0; i < n; i++) {
      const kind = staticKind(t.args[i]);
      if (kind === undefined || kindsOf(decl.args[i]).has(kind)) continue;
      errors.push({
        code: 'rego_type_error',
        message: `${name}: invalid argument(s)\n\thave: (${t.args.slice(0, n).map(describe).join(', ')})\n\twant: (${decl.args.join(', ')})`,
        location: t.loc,
      });
      return;
    }
  };
  for (const t of terms) walkTerm(t, visit);
  for (const b of bodies) for (const e of b) walkExpr(e, visit);
}

function describe(t: Term): string {
  return staticKind(t) ?? 'any';
}

// ---- recursion -------------------------------------------------------------------------------

/** Reports every cycle of rule dependencies (`p` uses `q` uses `p`). */
export function checkRecursion(root: TreeNode, errors: RegoErrorDetail[]): void {
  const ruleNodes: TreeNode[] = [];
  const collect = (n: TreeNode) => {
    if (n.rules.length || n.defaultRule) ruleNodes.push(n);
    for (const c of n.children.values()) collect(c);
  };
  collect(root);
  const deps = new Map<TreeNode, Set<TreeNode>>();
  for (const node of ruleNodes) {
    const out = new Set<TreeNode>();
    for (const rule of [...node.rules, ...(node.defaultRule ? [node.defaultRule] : [])]) collectDeps(root, rule, out);
    deps.set(node, out);
  }
  const state = new Map<TreeNode, 'visiting' | 'done'>();
  const stack: TreeNode[] = [];
  const reported = new Set<TreeNode>();
  const dfs = (n: TreeNode) => {
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const s = state.get(d);
      if (s === 'visiting') {
        if (!reported.has(d)) {
          reported.add(d);
          const cycle = stack.slice(stack.indexOf(d)).concat(d).map(name);
          errors.push({ code: 'rego_recursion_error', message: `rule ${name(d)} is recursive: ${cycle.join(' -> ')}`, location: d.rules[0]?.loc ?? d.defaultRule?.loc });
        }
      } else if (s === undefined) dfs(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of ruleNodes) if (!state.has(n)) dfs(n);
}

function name(n: TreeNode): string {
  return ['data', ...n.path].join('.');
}

function collectDeps(root: TreeNode, rule: CompiledRule, out: Set<TreeNode>): void {
  const visit = (t: Term): void => {
    if (t.kind === 'ref' && t.head.kind === 'var' && t.head.name === 'data') addRefDeps(root, t.path, out);
    if (t.kind === 'call' && t.name.startsWith('data.')) addRefDeps(root, t.name.split('.').slice(1).map((v) => ({ kind: 'string', value: v, loc: t.loc }) as Term), out);
  };
  const terms = [...rule.keyPath, ...(rule.key ? [rule.key] : []), ...(rule.args ?? [])];
  for (const c of rule.clauses) {
    terms.push(c.value);
    for (const e of c.body) walkExpr(e, visit);
  }
  for (const t of terms) walkTerm(t, visit);
}

/**
 * A ref depends on the rule node it reaches, or on every rule below the node where it stops.
 * A dynamic element (`data[x].allow`) may be any child, so each child is followed.
 */
function addRefDeps(root: TreeNode, path: Term[], out: Set<TreeNode>, from = 0): void {
  let node = root;
  for (let i = from; i < path.length; i++) {
    if (node.rules.length || node.defaultRule) {
      out.add(node);
      return;
    }
    const p = path[i];
    if (p.kind === 'string') {
      const child = node.children.get(p.value);
      if (!child) return;
      node = child;
      continue;
    }
    // Other constants never name a rule (rule names are strings).
    if (p.kind === 'number' || p.kind === 'boolean' || p.kind === 'null') return;
    for (const child of node.children.values()) addRefDeps(child, path, out, i + 1);
    return;
  }
  const all = (n: TreeNode) => {
    if (n.rules.length || n.defaultRule) out.add(n);
    else for (const c of n.children.values()) all(c);
  };
  all(node);
}
