/**
 * A subset of Go's text/template, enough for strings.render_template: text, {{.a.b}} fields,
 * $variables, pipelines with | , if/else if/else, range (with $i, $v :=), with, comments,
 * trim markers {{- -}}, and the functions and/or/not/len/index/eq/ne/lt/le/gt/ge/print/printf.
 * Errors are thrown as plain Errors (the caller turns them into built-in errors).
 */
import { RNumber, RObject, RSet, compare, equal, type Value } from '../value.ts';
import { goSprintf } from './go-fmt.ts';
import { toGoArg } from './strings-format.ts';
import type { WorkBudget } from './types.ts';

/** A missing map key renders like this in OPA's output. */
const MISSING = '<undefined>';

type TValue = Value | undefined;

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'print'; pipe: Pipe }
  | { kind: 'if' | 'with'; pipe: Pipe; then: Node[]; otherwise: Node[] }
  | { kind: 'range'; pipe: Pipe; keyVar?: string; valueVar?: string; body: Node[]; otherwise: Node[] };

interface Pipe {
  decl?: string[];
  commands: Operand[][];
}

type Operand =
  | { kind: 'dot'; fields: string[] }
  | { kind: 'var'; name: string; fields: string[] }
  | { kind: 'literal'; value: TValue }
  | { kind: 'func'; name: string }
  | { kind: 'sub'; pipe: Pipe; fields: string[] };

// ---- lexing ----------------------------------------------------------------------------------

interface Action {
  text?: string;
  action?: string;
}

function split(template: string): Action[] {
  const out: Action[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: template.slice(i) });
      break;
    }
    let text = template.slice(i, open);
    let start = open + 2;
    if (template.startsWith('- ', start) || template.startsWith('-\t', start) || template.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    const close = findClose(template, start);
    if (close < 0) throw new Error('template: unclosed action');
    let body = template.slice(start, close);
    let next = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(template.slice(next))!;
      next += m[0].length;
    }
    if (text) out.push({ text });
    body = body.trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) out.push({ action: body });
    i = next;
  }
  return out;
}

function findClose(s: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === '`') quote = c;
    else if (c === '}' && s[i + 1] === '}') return i;
  }
  return -1;
}

function tokenize(src: string): string[] {
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|=|\||\(|\)|,|[^\s|(),=]+)/gy;
  const out: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) out.push(m[1]!);
  if (re.lastIndex < src.trimEnd().length && out.join('') === '') throw new Error(`template: bad action ${src}`);
  return out;
}

// ---- parsing ---------------------------------------------------------------------------------

class Parser {
  private pos = 0;
  private readonly items: Action[];
  constructor(items: Action[]) {
    this.items = items;
  }

  parse(): Node[] {
    const [nodes, end] = this.list();
    if (end !== undefined) throw new Error(`template: unexpected {{${end}}}`);
    return nodes;
  }

  /** Parses nodes until {{end}}/{{else…}} (returned) or the end of input (undefined). */
  private list(): [Node[], string | undefined] {
    const nodes: Node[] = [];
    while (this.pos < this.items.length) {
      const item = this.items[this.pos++]!;
      if (item.text !== undefined) {
        nodes.push({ kind: 'text', text: item.text });
        continue;
      }
      const action = item.action!;
      const word = /^[a-z]+/.exec(action)?.[0];
      if (action === 'end' || word === 'else') return [nodes, action];
      if (word === 'if' || word === 'with') nodes.push(this.conditional(word, action.slice(word.length)));
      else if (word === 'range') nodes.push(this.range(action.slice(5)));
      else nodes.push({ kind: 'print', pipe: parsePipe(tokenize(action)) });
    }
    return [nodes, undefined];
  }

  private conditional(kind: 'if' | 'with', rest: string): Node {
    const pipe = parsePipe(tokenize(rest));
    const [then, end] = this.list();
    let otherwise: Node[] = [];
    if (end === undefined) throw new Error(`template: missing {{end}} for ${kind}`);
    if (end.startsWith('else')) {
      const tail = end.slice(4).trim();
      if (tail.startsWith('if ') || tail.startsWith('with ')) {
        const w = tail.startsWith('if ') ? 'if' : 'with';
        otherwise = [this.conditional(w, tail.slice(w.length))];
      } else {
        const [nodes, close] = this.list();
        if (close !== 'end') throw new Error(`template: missing {{end}} for ${kind}`);
        otherwise = nodes;
      }
    }
    return { kind, pipe, then, otherwise };
  }

  private range(rest: string): Node {
    const tokens = tokenize(rest);
    let keyVar: string | undefined;
    let valueVar: string | undefined;
    const declAt = tokens.indexOf(':=');
    let pipeTokens = tokens;
    if (declAt >= 0) {
      const vars = tokens.slice(0, declAt).filter((t) => t !== ',');
      if (vars.length === 1) valueVar = vars[0];
      else [keyVar, valueVar] = vars;
      pipeTokens = tokens.slice(declAt + 1);
    }
    const pipe = parsePipe(pipeTokens);
    const [body, end] = this.list();
    let otherwise: Node[] = [];
    if (end === undefined) throw new Error('template: missing {{end}} for range');
    if (end === 'else') {
      const [nodes, close] = this.list();
      if (close !== 'end') throw new Error('template: missing {{end}} for range');
      otherwise = nodes;
    }
    return { kind: 'range', pipe, keyVar, valueVar, body, otherwise };
  }
}

function parsePipe(tokens: string[]): Pipe {
  const pipe: Pipe = { commands: [] };
  let rest = tokens;
  const declAt = rest.indexOf(':=') >= 0 ? rest.indexOf(':=') : rest.indexOf('=');
  if (declAt > 0 && rest.slice(0, declAt).every((t) => t.startsWith('$') || t === ',')) {
    pipe.decl = rest.slice(0, declAt).filter((t) => t !== ',');
    rest = rest.slice(declAt + 1);
  }
  let command: Operand[] = [];
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i]!;
    if (t === '|') {
      pipe.commands.push(command);
      command = [];
    } else if (t === '(') {
      let depth = 1;
      let j = i + 1;
      for (; j < rest.length && depth > 0; j++) {
        if (rest[j] === '(') depth++;
        else if (rest[j] === ')') depth--;
      }
      const inner = parsePipe(rest.slice(i + 1, j - 1));
      const after = rest[j] && rest[j]!.startsWith('.') ? rest[j]!.split('.').slice(1) : [];
      if (after.length) j++;
      command.push({ kind: 'sub', pipe: inner, fields: after });
      i = j - 1;
    } else command.push(parseOperand(t));
  }
  if (command.length) pipe.commands.push(command);
  if (pipe.commands.length === 0) throw new Error('template: missing value for command');
  return pipe;
}

function parseOperand(t: string): Operand {
  if (t === '.') return { kind: 'dot', fields: [] };
  if (t.startsWith('.')) return { kind: 'dot', fields: t.slice(1).split('.') };
  if (t.startsWith('$')) {
    const [name, ...fields] = t.split('.');
    return { kind: 'var', name: name!, fields };
  }
  if (t.startsWith('"')) return { kind: 'literal', value: JSON.parse(t) as string };
  if (t.startsWith('`')) return { kind: 'literal', value: t.slice(1, -1) };
  if (t === 'true' || t === 'false') return { kind: 'literal', value: t === 'true' };
  if (t === 'nil') return { kind: 'literal', value: null };
  const n = RNumber.tryParse(t, true);
  if (n) return { kind: 'literal', value: n };
  return { kind: 'func', name: t };
}

// ---- evaluation ------------------------------------------------------------------------------

type Scope = Map<string, TValue>;

function field(v: TValue, name: string): TValue {
  if (v instanceof RObject) return v.get(name);
  if (v === undefined) return undefined;
  throw new Error(`template: can't evaluate field ${name} in type ${goTypeName(v)}`);
}

function goTypeName(v: Value): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof RNumber) return 'json.Number';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

function truthy(v: TValue): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (v instanceof RNumber) return v.sign() !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof RObject || v instanceof RSet) return v.size > 0;
  return true;
}

/** Go's %v for the JSON-like values the template sees. */
export function goPrint(v: TValue): string {
  if (v === undefined) return MISSING;
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || v instanceof RNumber) return String(v);
  if (Array.isArray(v)) return '[' + v.map(goPrint).join(' ') + ']';
  if (v instanceof RSet) return '[' + v.sorted().map(goPrint).join(' ') + ']';
  return 'map[' + v.sortedEntries().map(([k, x]) => goPrint(k) + ':' + goPrint(x)).join(' ') + ']';
}

const FUNCS: Record<string, (args: TValue[]) => TValue> = {
  and: (a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
  not: (a) => !truthy(a[0]),
  len: ([x]) => {
    if (typeof x === 'string') return RNumber.int(new TextEncoder().encode(x).length);
    if (Array.isArray(x)) return RNumber.int(x.length);
    if (x instanceof RObject || x instanceof RSet) return RNumber.int(x.size);
    throw new Error('template: len of unsupported type');
  },
  index: ([x, ...keys]) => {
    let cur = x;
    for (const k of keys) {
      if (Array.isArray(cur) && k instanceof RNumber) cur = cur[k.toSafeInteger() ?? -1];
      else if (cur instanceof RObject) cur = cur.get(k ?? null);
      else throw new Error("template: can't index item");
    }
    return cur;
  },
  eq: ([a, ...rest]) => rest.some((b) => equal(a ?? null, b ?? null)),
  ne: ([a, b]) => !equal(a ?? null, b ?? null),
  lt: ([a, b]) => compare(a ?? null, b ?? null) < 0,
  le: ([a, b]) => compare(a ?? null, b ?? null) <= 0,
  gt: ([a, b]) => compare(a ?? null, b ?? null) > 0,
  ge: ([a, b]) => compare(a ?? null, b ?? null) >= 0,
  print: (a) => a.map(goPrint).join(''),
  println: (a) => a.map(goPrint).join(' ') + '\n',
  printf: ([f, ...rest]) => goSprintf(typeof f === 'string' ? f : '', rest.map((x) => toGoArg(x ?? null)), rendering?.budget),
};

function evalOperand(op: Operand, dot: TValue, scope: Scope): TValue {
  switch (op.kind) {
    case 'dot':
      return op.fields.reduce(field, dot);
    case 'var': {
      if (!scope.has(op.name)) throw new Error(`template: undefined variable: ${op.name}`);
      return op.fields.reduce(field, scope.get(op.name));
    }
    case 'literal':
      return op.value;
    case 'sub':
      return op.fields.reduce(field, evalPipe(op.pipe, dot, scope));
    case 'func': {
      const f = FUNCS[op.name];
      if (!f) throw new Error(`template: function "${op.name}" not defined`);
      return f([]);
    }
  }
}

function evalPipe(pipe: Pipe, dot: TValue, scope: Scope): TValue {
  let prev: TValue;
  let first = true;
  for (const command of pipe.commands) {
    const [head, ...rest] = command;
    let result: TValue;
    if (head?.kind === 'func') {
      const f = FUNCS[head.name];
      if (!f) throw new Error(`template: function "${head.name}" not defined`);
      const args = rest.map((o) => evalOperand(o, dot, scope));
      if (!first) args.push(prev);
      result = f(args);
    } else {
      if (!first) throw new Error('template: non-function in pipeline');
      if (rest.length > 0) throw new Error("template: can't give argument to non-function");
      result = evalOperand(head!, dot, scope);
    }
    prev = result;
    first = false;
  }
  if (pipe.decl) for (const name of pipe.decl) scope.set(name, prev);
  return prev;
}

/**
 * The budget of the rendering under way (rendering is synchronous), and the output's length:
 * nested ranges can write far more than the template and its values hold.
 */
let rendering: { budget: WorkBudget | undefined; length: number } | undefined;

function write(out: string[], text: string): void {
  out.push(text);
  if (rendering) {
    rendering.length += text.length;
    rendering.budget?.grew(text.length + 1, rendering.length, 'strings.render_template');
  }
}

function run(nodes: Node[], dot: TValue, scope: Scope, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        write(out, node.text);
        break;
      case 'print': {
        const v = evalPipe(node.pipe, dot, scope);
        if (!node.pipe.decl) write(out, goPrint(v));
        break;
      }
      case 'if':
      case 'with': {
        const v = evalPipe(node.pipe, dot, new Map(scope));
        if (truthy(v)) run(node.then, node.kind === 'with' ? v : dot, new Map(scope), out);
        else run(node.otherwise, dot, new Map(scope), out);
        break;
      }
      case 'range': {
        const v = evalPipe(node.pipe, dot, new Map(scope));
        const entries: [Value, Value][] = Array.isArray(v)
          ? v.map((x, i) => [RNumber.int(i), x])
          : v instanceof RObject
            ? v.sortedEntries()
            : v instanceof RSet
              ? v.sorted().map((x, i) => [RNumber.int(i), x])
              : [];
        if (entries.length === 0) run(node.otherwise, dot, new Map(scope), out);
        for (const [k, x] of entries) {
          const inner = new Map(scope);
          if (node.keyVar) inner.set(node.keyVar, k);
          if (node.valueVar) inner.set(node.valueVar, x);
          run(node.body, x, inner, out);
        }
        break;
      }
    }
  }
}

export function renderTemplate(template: string, vars: RObject, budget?: WorkBudget): string {
  const nodes = new Parser(split(template)).parse();
  const out: string[] = [];
  const outer = rendering;
  rendering = { budget, length: 0 };
  try {
    run(nodes, vars, new Map<string, TValue>([['$', vars]]), out);
  } finally {
    rendering = outer;
  }
  return out.join('');
}
