/**
 * Go's net/url.Parse, reproduced for its acceptance rules and error texts (OPA's uri.* built-ins
 * and the URIs of X.509 certificates are defined by it). Works on the string's UTF-8 bytes as
 * Go does, but string slicing is safe because every delimiter is ASCII.
 */
import { RObject, type Value } from '../value.ts';

export class URLError extends Error {}

type Mode = 'path' | 'host' | 'zone' | 'userPassword' | 'queryComponent' | 'fragment';

export interface GoURL {
  scheme: string;
  opaque: string;
  hasUser: boolean;
  host: string;
  path: string;
  rawPath: string;
  omitHost: boolean;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
  rawFragment: string;
}

const isAlnum = (c: string): boolean => /^[A-Za-z0-9]$/.test(c);
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/** Go's shouldEscape: whether a byte must be percent-encoded in the given URL part. */
function shouldEscape(c: string, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  if ((mode === 'host' || mode === 'zone') && "!$&'()*+,;=:[]<>\"".includes(c)) return false;
  if ('-_.~'.includes(c)) return false;
  if ('$&+,/:;=?@'.includes(c)) {
    switch (mode) {
      case 'path': return c === '?';
      case 'userPassword': return c === '@' || c === '/' || c === '?' || c === ':';
      case 'queryComponent': return true;
      case 'fragment': return false;
      default: break;
    }
  }
  if (mode === 'fragment' && '!()*'.includes(c)) return false;
  return true;
}

const goQuote = (s: string): string => JSON.stringify(s);

/** Go's unescape: validates and decodes percent-escapes (hosts may only escape non-ASCII). */
function unescape(s: string, mode: Mode): string {
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) {
        throw new URLError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      if (mode === 'host' && parseInt(s[i + 1]!, 16) < 8 && s.slice(i, i + 3) !== '%25') {
        throw new URLError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      i += 3;
    } else {
      if ((mode === 'host' || mode === 'zone') && c.charCodeAt(0) < 0x80 && shouldEscape(c, mode)) {
        throw new URLError(`invalid character ${goQuote(c)} in host name`);
      }
      i++;
    }
  }
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else if (raw[i] === 0x2b && mode === 'queryComponent') {
      bytes.push(0x20);
    } else {
      bytes.push(raw[i]!);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's escape for a URL part. */
export function escape(s: string, mode: Mode): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && !shouldEscape(c, mode) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function splitScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return ['', raw];
      continue;
    }
    if (c === ':') {
      if (i === 0) throw new URLError('missing protocol scheme');
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ['', raw];
  }
  return ['', raw];
}

const validOptionalPort = (p: string): boolean => p === '' || /^:[0-9]*$/.test(p);

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) throw new URLError("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new URLError(`invalid port ${goQuote(colonPort)} after host`);
    const zone = host.slice(0, close).indexOf('%25');
    if (zone >= 0) {
      return unescape(host.slice(0, zone), 'host') + unescape(host.slice(zone, close), 'zone') + unescape(host.slice(close), 'host');
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) {
      const colonPort = host.slice(colon);
      if (!validOptionalPort(colonPort)) throw new URLError(`invalid port ${goQuote(colonPort)} after host`);
    }
  }
  return unescape(host, 'host');
}

const validUserinfo = (s: string): boolean => /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);

function parseAuthority(authority: string, u: GoURL): void {
  const at = authority.lastIndexOf('@');
  u.host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (at < 0) return;
  const userinfo = authority.slice(0, at);
  if (!validUserinfo(userinfo)) throw new URLError('net/url: invalid userinfo');
  for (const part of userinfo.split(':').slice(0, 2)) unescape(part, 'userPassword');
  u.hasUser = true;
}

function setPath(u: GoURL, p: string): void {
  u.path = unescape(p, 'path');
  u.rawPath = escape(u.path, 'path') === p ? '' : p;
}

function parseWithoutFragment(raw: string, u: GoURL): void {
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new URLError('net/url: invalid control character in URL');
  if (raw === '*') {
    u.path = '*';
    return;
  }
  let rest: string;
  [u.scheme, rest] = splitScheme(raw);
  u.scheme = u.scheme.toLowerCase();
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) [rest, u.rawQuery] = [rest.slice(0, q), rest.slice(q + 1)];
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest; // a rootless path such as mailto:user@example.com
      return;
    }
    if (rest.split('/')[0]!.includes(':')) throw new URLError('first path segment in URL cannot contain colon');
  }
  if ((u.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) [authority, rest] = [authority.slice(0, slash), authority.slice(slash)];
    parseAuthority(authority, u);
  } else if (u.scheme !== '' && rest.startsWith('/')) {
    u.omitHost = true;
  }
  setPath(u, rest);
}

/** Go's url.Parse; errors read `parse "<url>": <reason>` like Go's *url.Error. */
export function parseURL(raw: string): GoURL {
  const u: GoURL = {
    scheme: '', opaque: '', hasUser: false, host: '', path: '', rawPath: '', omitHost: false, forceQuery: false,
    rawQuery: '', fragment: '', rawFragment: '',
  };
  const hash = raw.indexOf('#');
  const main = hash < 0 ? raw : raw.slice(0, hash);
  try {
    parseWithoutFragment(main, u);
  } catch (e) {
    if (e instanceof URLError) throw new URLError(`parse ${goQuote(main)}: ${e.message}`);
    throw e;
  }
  if (hash >= 0) {
    const frag = raw.slice(hash + 1);
    try {
      u.fragment = unescape(frag, 'fragment');
    } catch (e) {
      if (e instanceof URLError) throw new URLError(`parse ${goQuote(raw)}: ${e.message}`);
      throw e;
    }
    u.rawFragment = escape(u.fragment, 'fragment') === frag ? '' : frag;
  }
  return u;
}

/** Go's URL.Hostname and URL.Port. */
export function splitHostPort(host: string): { hostname: string; port: string } {
  const colon = host.lastIndexOf(':');
  let hostname = host;
  let port = '';
  if (colon >= 0 && !host.slice(colon).includes(']')) {
    hostname = host.slice(0, colon);
    port = host.slice(colon + 1);
  }
  if (hostname.startsWith('[')) hostname = hostname.slice(1, hostname.includes(']') ? hostname.indexOf(']') : undefined);
  return { hostname, port };
}

/** The encoding/json form of a Go *url.URL (a struct with exported fields). */
export function goURLJSON(raw: string): Value {
  let u: GoURL;
  try {
    u = parseURL(raw);
  } catch {
    return null;
  }
  return RObject.from([
    ['Scheme', u.scheme], ['Opaque', u.opaque], ['User', u.hasUser ? new RObject() : null], ['Host', u.host],
    ['Path', u.path], ['RawPath', u.rawPath], ['OmitHost', u.omitHost], ['ForceQuery', u.forceQuery],
    ['RawQuery', u.rawQuery], ['Fragment', u.fragment], ['RawFragment', u.rawFragment],
  ]);
}
