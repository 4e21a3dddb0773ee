/**
 * Maven version ordering (the rules of Maven's ComparableVersion): versions split into numbers and
 * qualifiers at ".", "-" and digit/letter changes, "-" opening a nested list; qualifiers ordered
 * alpha < beta < milestone < rc < snapshot < (release) < sp < anything else; trailing zeros and
 * release qualifiers ("final", "ga") ignored.
 * Kept in Wharf: no maintained npm package implements ComparableVersion exactly (generic version
 * comparers such as compare-versions treat qualifiers as semver pre-releases, which orders "sp1"
 * and "-foo" wrongly); pinned by the ordering tests and the OSV EXPECTED-MATCHES.
 */
import { compareNumericStrings } from './semver.ts';

type Item = { kind: 'int'; value: string } | { kind: 'string'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

function stringItem(value: string, followedByDigit: boolean): Item {
  let text = value;
  if (followedByDigit && text.length === 1) text = ({ a: 'alpha', b: 'beta', m: 'milestone' } as Record<string, string>)[text] ?? text;
  return { kind: 'string', value: ALIASES[text] ?? text };
}

function parseItem(isDigit: boolean, text: string, followedByDigit = false): Item {
  return isDigit ? { kind: 'int', value: text.replace(/^0+(?=\d)/, '') } : stringItem(text, followedByDigit);
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return item.value === '0';
  if (item.kind === 'string') return item.value === '';
  return item.items.length === 0;
}

function normalise(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i]!;
    if (isNull(item)) list.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

export function parseMaven(version: string): Item {
  const text = version.trim().toLowerCase();
  const root: Item[] = [];
  const stack: Item[][] = [root];
  let list = root;
  let isDigit = false;
  let start = 0;
  const openSublist = () => { const sub: Item[] = []; list.push({ kind: 'list', items: sub }); list = sub; stack.push(sub); };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '.' || c === '-') {
      list.push(i === start ? { kind: 'int', value: '0' } : parseItem(isDigit, text.slice(start, i)));
      start = i + 1;
      if (c === '-') openSublist();
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) { list.push(stringItem(text.slice(start, i), true)); start = i; openSublist(); }
      isDigit = true;
    } else {
      if (isDigit && i > start) { list.push(parseItem(true, text.slice(start, i))); start = i; openSublist(); }
      isDigit = false;
    }
  }
  if (text.length > start) list.push(parseItem(isDigit, text.slice(start)));
  while (stack.length > 0) normalise(stack.pop()!);
  return { kind: 'list', items: root };
}

function qualifierKey(value: string): string {
  const index = QUALIFIERS.indexOf(value);
  return index >= 0 ? String(index) : `${QUALIFIERS.length}-${value}`;
}

function compareItems(a: Item | undefined, b: Item | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -compareItems(b, undefined);
  if (a.kind === 'int') {
    if (b === undefined) return a.value === '0' ? 0 : 1;
    return b.kind === 'int' ? compareNumericStrings(a.value, b.value) : 1;
  }
  if (a.kind === 'string') {
    if (b === undefined) { const key = qualifierKey(a.value); return key < RELEASE_INDEX ? -1 : key > RELEASE_INDEX ? 1 : 0; }
    if (b.kind === 'int' || b.kind === 'list') return -1;
    const left = qualifierKey(a.value), right = qualifierKey(b.value);
    return left < right ? -1 : left > right ? 1 : 0;
  }
  if (b === undefined) return a.items.length === 0 ? 0 : compareItems(a.items[0], undefined);
  if (b.kind === 'int') return -1;
  if (b.kind === 'string') return 1;
  for (let i = 0; i < Math.max(a.items.length, b.items.length); i++) {
    const result = compareItems(a.items[i], b.items[i]);
    if (result !== 0) return result;
  }
  return 0;
}

export function compareMaven(a: string, b: string): number | undefined {
  if (a.trim() === '' || b.trim() === '') return undefined;
  return compareItems(parseMaven(a), parseMaven(b));
}
