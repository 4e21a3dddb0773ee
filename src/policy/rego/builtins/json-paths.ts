/** json.filter, json.remove and json.patch: documents edited along paths, immutably. */
import { RNumber, RObject, RSet, equal, fromJS, keyOf, typeName, type Value } from '../value.ts';
import { BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { arr, obj, typeError } from './operands.ts';

/** A prefix tree of paths; `end` marks a path that stops here (selecting the whole subtree). */
interface PathTree {
  end: boolean;
  children: Map<string, { segment: Value; tree: PathTree }>;
}

function splitPath(path: string): Value[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return [];
  return trimmed.split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function pathsOf(v: Value): Value[][] {
  let items: Iterable<Value>;
  if (Array.isArray(v)) items = v;
  else if (v instanceof RSet) items = v.values();
  else throw typeError(2, 'one of {set, array}', v);
  const out: Value[][] = [];
  for (const p of items) {
    if (typeof p === 'string') out.push(splitPath(p));
    else if (Array.isArray(p)) out.push(p);
    else {
      throw new BuiltinTypeError(
        `operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`,
      );
    }
  }
  return out;
}

function buildTree(paths: Value[][]): PathTree {
  const root: PathTree = { end: false, children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const segment of path) {
      const k = segmentKey(segment);
      let next = node.children.get(k);
      if (!next) node.children.set(k, (next = { segment, tree: { end: false, children: new Map() } }));
      node = next.tree;
    }
    node.end = true;
  }
  return root;
}

/** Segments "1" and 1 address the same array index; keys compare by canonical key. */
function segmentKey(segment: Value): string {
  return keyOf(segment);
}

function arrayIndex(segment: Value, length: number): number | undefined {
  let i: number | undefined;
  if (segment instanceof RNumber) i = segment.toSafeInteger();
  else if (typeof segment === 'string' && /^(0|[1-9][0-9]*)$/.test(segment)) i = Number(segment);
  return i !== undefined && i >= 0 && i < length ? i : undefined;
}

function filterValue(v: Value, tree: PathTree): Value {
  if (tree.end) return v;
  if (v instanceof RObject) {
    const out = new RObject();
    for (const { segment, tree: sub } of tree.children.values()) {
      const child = v.get(segment);
      if (child !== undefined) out.set(segment, filterValue(child, sub));
    }
    return out;
  }
  if (Array.isArray(v)) {
    const picked = new Map<number, PathTree>();
    for (const { segment, tree: sub } of tree.children.values()) {
      const i = arrayIndex(segment, v.length);
      if (i !== undefined) picked.set(i, sub);
    }
    return [...picked.keys()].sort((a, b) => a - b).map((i) => filterValue(v[i]!, picked.get(i)!));
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const { segment, tree: sub } of tree.children.values()) {
      if (v.has(segment)) out.add(filterValue(segment, sub));
    }
    return out;
  }
  return v;
}

function removeValue(v: Value, tree: PathTree): Value {
  if (v instanceof RObject) {
    const out = new RObject();
    for (const [k, child] of v.entries()) {
      const node = tree.children.get(segmentKey(k));
      if (!node) out.set(k, child);
      else if (!node.tree.end) out.set(k, removeValue(child, node.tree));
    }
    return out;
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((child, i) => {
      const node = tree.children.get(segmentKey(RNumber.int(i))) ?? tree.children.get(String(i));
      if (!node) out.push(child);
      else if (!node.tree.end) out.push(removeValue(child, node.tree));
    });
    return out;
  }
  if (v instanceof RSet) {
    const out = new RSet();
    for (const child of v.values()) {
      const node = tree.children.get(segmentKey(child));
      if (!node) out.add(child);
      else if (!node.tree.end) out.add(removeValue(child, node.tree));
    }
    return out;
  }
  return v;
}

// ---- json.patch (RFC 6902) -------------------------------------------------------------------

class PatchFailure extends Error {}

function pointer(v: Value | undefined): Value[] {
  if (Array.isArray(v)) return v;
  if (typeof v !== 'string') throw new PatchFailure('path must be a string or array');
  if (v === '') return [];
  // OPA also accepts paths without the leading slash ("foo/d").
  return (v.startsWith('/') ? v.slice(1) : v)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function getAt(doc: Value, path: Value[]): Value {
  let cur = doc;
  for (const segment of path) {
    if (cur instanceof RObject) {
      const next = cur.get(segment);
      if (next === undefined) throw new PatchFailure('missing');
      cur = next;
    } else if (Array.isArray(cur)) {
      const i = arrayIndex(segment, cur.length);
      if (i === undefined) throw new PatchFailure('bad index');
      cur = cur[i]!;
    } else if (cur instanceof RSet) {
      const member = setMember(cur, segment);
      if (member === undefined) throw new PatchFailure('missing member');
      cur = member;
    } else throw new PatchFailure('not a container');
  }
  return cur;
}

function setMember(s: RSet, segment: Value): Value | undefined {
  if (s.has(segment)) return segment;
  if (typeof segment === 'string') {
    try {
      const parsed = fromJS(JSON.parse(segment));
      if (s.has(parsed)) return parsed;
    } catch {
      // not JSON: no such member
    }
  }
  return undefined;
}

/** Rebuilds `doc` with the container at `path` replaced by `edit(container, lastSegment)`. */
function editAt(doc: Value, path: Value[], edit: (parent: Value, last: Value) => Value): Value {
  if (path.length === 0) throw new PatchFailure('empty path');
  const [head, ...rest] = path;
  if (rest.length === 0) return edit(doc, head!);
  if (doc instanceof RObject) {
    const child = doc.get(head!);
    if (child === undefined) throw new PatchFailure('missing');
    const out = RObject.from(doc.entries());
    out.set(head!, editAt(child, rest, edit));
    return out;
  }
  if (Array.isArray(doc)) {
    const i = arrayIndex(head!, doc.length);
    if (i === undefined) throw new PatchFailure('bad index');
    const out = doc.slice();
    out[i] = editAt(doc[i]!, rest, edit);
    return out;
  }
  if (doc instanceof RSet) {
    const member = setMember(doc, head!);
    if (member === undefined) throw new PatchFailure('missing member');
    const out = RSet.from(doc.values());
    out.delete(member);
    out.add(editAt(member, rest, edit));
    return out;
  }
  throw new PatchFailure('not a container');
}

function addAt(doc: Value, path: Value[], value: Value): Value {
  if (path.length === 0) return value;
  return editAt(doc, path, (parent, last) => {
    if (parent instanceof RObject) {
      const out = RObject.from(parent.entries());
      out.set(last, value);
      return out;
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : arrayIndex(last, parent.length + 1);
      if (i === undefined) throw new PatchFailure('bad index');
      return [...parent.slice(0, i), value, ...parent.slice(i)];
    }
    if (parent instanceof RSet) {
      const key = typeof last === 'string' && !equal(last, value) ? setKeyFromText(last) : last;
      if (!equal(key, value)) throw new PatchFailure('set member must match its path');
      const out = RSet.from(parent.values());
      out.add(value);
      return out;
    }
    throw new PatchFailure('not a container');
  });
}

function setKeyFromText(text: string): Value {
  try {
    return fromJS(JSON.parse(text));
  } catch {
    return text;
  }
}

function removeAt(doc: Value, path: Value[]): Value {
  return editAt(doc, path, (parent, last) => {
    if (parent instanceof RObject) {
      if (!parent.has(last)) throw new PatchFailure('missing');
      const out = RObject.from(parent.entries());
      out.delete(last);
      return out;
    }
    if (Array.isArray(parent)) {
      const i = arrayIndex(last, parent.length);
      if (i === undefined) throw new PatchFailure('bad index');
      return [...parent.slice(0, i), ...parent.slice(i + 1)];
    }
    if (parent instanceof RSet) {
      const member = setMember(parent, last);
      if (member === undefined) throw new PatchFailure('missing member');
      const out = RSet.from(parent.values());
      out.delete(member);
      return out;
    }
    throw new PatchFailure('not a container');
  });
}

function applyOperation(doc: Value, op: RObject): Value {
  const kind = op.get('op');
  const path = pointer(op.get('path'));
  const value = op.get('value');
  switch (kind) {
    case 'add':
      if (value === undefined) throw new PatchFailure('missing value');
      return addAt(doc, path, value);
    case 'remove':
      return removeAt(doc, path);
    case 'replace':
      if (value === undefined) throw new PatchFailure('missing value');
      getAt(doc, path);
      return addAt(path.length ? removeAt(doc, path) : doc, path, value);
    case 'move': {
      const from = pointer(op.get('from'));
      const moved = getAt(doc, from);
      return addAt(from.length ? removeAt(doc, from) : doc, path, moved);
    }
    case 'copy':
      return addAt(doc, path, getAt(doc, pointer(op.get('from'))));
    case 'test':
      if (value === undefined || !equal(getAt(doc, path), value)) throw new PatchFailure('test failed');
      return doc;
  }
  throw new PatchFailure(`unknown op ${String(kind)}`);
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'json.filter',
    args: ['object[any: any]', 'any<array[any<string, array[any]>], set[any<string, array[any]>]>'],
    result: 'any',
    fn: (args) => filterValue(obj(args, 0), buildTree(pathsOf(args[1]!))),
  },
  {
    name: 'json.remove',
    args: ['object[any: any]', 'any<array[any<string, array[any]>], set[any<string, array[any]>]>'],
    result: 'any',
    fn: (args) => removeValue(obj(args, 0), buildTree(pathsOf(args[1]!))),
  },
  {
    name: 'json.patch',
    args: ['any', 'array[object[string: any]]'],
    result: 'any',
    fn: (args, ctx) => {
      let doc: Value = args[0]!;
      try {
        for (const op of arr(args, 1)) {
          if (!(op instanceof RObject)) return undefined;
          // Each operation copies the containers along its path, the document's top level at least.
          ctx.budget?.charge(1 + (Array.isArray(doc) ? doc.length : doc instanceof RObject || doc instanceof RSet ? doc.size : 0));
          doc = applyOperation(doc, op);
        }
      } catch (e) {
        if (e instanceof PatchFailure) return undefined;
        throw e;
      }
      return doc;
    },
  },
];
