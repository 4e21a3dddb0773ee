/**
 * io.jwt.decode_verify: signature verification plus OPA's constraints (cert/secret, alg, iss,
 * aud, time). Any failed check yields [false, {}, {}]; malformed input is an error.
 */
import { createSecretKey } from 'node:crypto';
import { RNumber, RObject, type Value } from '../value.ts';
import { BuiltinError } from './types.ts';
import { KeyError, verificationKeys, type VerificationKey } from './jwt-keys.ts';
import { jwsVerify } from './jwt-jws.ts';
import { decodeHeader, decodePayloadText, decodeSignature, jsonObject, splitToken } from './jwt-token.ts';

interface Constraints {
  keys: VerificationKey[] | undefined;
  secret: string;
  alg: string;
  iss: string;
  aud: string;
  /** Seconds since the epoch, as a float (OPA compares in float64). */
  timeSeconds: number;
}

function timeFromValue(v: Value): number {
  if (!(v instanceof RNumber)) throw new BuiltinError('token time constraint: must be a number');
  const t = v.toNumber();
  if (!Number.isFinite(t)) throw new BuiltinError('token time constraint: unvalid float64');
  if (t < 0) throw new BuiltinError('token time constraint: must not be negative');
  return t;
}

function stringConstraint(name: string, v: Value): string {
  if (typeof v !== 'string') throw new BuiltinError(`${name} constraint: must be a string`);
  return v;
}

function parseConstraints(o: RObject, nowNs: bigint): Constraints {
  const c: Constraints = { keys: undefined, secret: '', alg: '', iss: '', aud: '', timeSeconds: -1 };
  let timeNs = -1;
  for (const [k, v] of o.sortedEntries()) {
    switch (k) {
      case 'cert':
        if (typeof v !== 'string') throw new BuiltinError('cert constraint: must be a string');
        try {
          c.keys = verificationKeys(v);
        } catch (e) {
          if (e instanceof KeyError) throw new BuiltinError(e.message);
          throw e;
        }
        break;
      case 'secret': c.secret = stringConstraint('secret', v); break;
      case 'alg': c.alg = stringConstraint('alg', v); break;
      case 'iss': c.iss = stringConstraint('iss', v); break;
      case 'aud': c.aud = stringConstraint('aud', v); break;
      case 'time': timeNs = timeFromValue(v); break;
      default:
        throw new BuiltinError(`unknown token validation constraint: ${typeof k === 'string' ? k : String(k)}`);
    }
  }
  if (timeNs === -1) timeNs = timeFromValue(RNumber.of(nowNs));
  c.timeSeconds = timeNs / 1e9;
  const keyKinds = (c.keys !== undefined ? 1 : 0) + (c.secret !== '' ? 1 : 0);
  if (keyKinds > 1) throw new BuiltinError('duplicate key constraints');
  if (keyKinds < 1) throw new BuiltinError('no key constraint');
  return c;
}

interface Header {
  alg: string;
  kid: string;
  cty: string;
  valid: boolean;
}

/** Reads the registered header parameters; RFC 7515 makes unknown critical parameters fatal. */
function parseHeader(header: RObject): Header {
  const h: Header = { alg: '', kid: '', cty: '', valid: true };
  const crit = new Set<string>();
  const unknown: string[] = [];
  for (const [k, v] of header.entries()) {
    const name = k as string;
    if (name === 'alg' || name === 'kid' || name === 'typ' || name === 'cty') {
      if (typeof v !== 'string') throw new BuiltinError(`${name}: must be a string`);
      if (name !== 'typ') h[name] = v;
    } else if (name === 'crit') {
      if (!Array.isArray(v)) throw new BuiltinError('crit: must be a list');
      for (const x of v) if (typeof x === 'string') crit.add(x);
      if (crit.size === 0) throw new BuiltinError('crit: must be a nonempty list');
    } else {
      unknown.push(name);
    }
  }
  h.valid = h.alg !== '' && !unknown.some((u) => crit.has(u));
  return h;
}

function signatureVerifies(c: Constraints, h: Header, data: Buffer, signature: Buffer): boolean {
  if (c.keys !== undefined) {
    if (h.kid !== '') {
      const byKid = c.keys.find((k) => k.kid === h.kid);
      if (byKid !== undefined) return jwsVerify(byKid.key, h.alg, data, signature);
    }
    return c.keys.some((k) => (k.alg === '' || k.alg === h.alg) && jwsVerify(k.key, h.alg, data, signature));
  }
  return jwsVerify(createSecretKey(Buffer.from(c.secret, 'utf8')), h.alg, data, signature);
}

function validAudience(aud: Value, wanted: string): boolean {
  if (typeof aud === 'string') return aud === wanted;
  return Array.isArray(aud) && aud.some((x) => x === wanted);
}

/** Checks iss, aud, exp and nbf; false when a claim rules the token out. */
function claimsValid(payload: RObject, c: Constraints): boolean {
  if (c.iss !== '') {
    const iss = payload.get('iss');
    if (iss === undefined || iss !== c.iss) return false;
  }
  const aud = payload.get('aud');
  if (aud !== undefined ? !validAudience(aud, c.aud) : c.aud !== '') return false;
  const exp = payload.get('exp');
  if (exp !== undefined) {
    if (!(exp instanceof RNumber)) throw new BuiltinError('exp value must be a number');
    if (!(c.timeSeconds < exp.toNumber())) return false;
  }
  const nbf = payload.get('nbf');
  if (nbf !== undefined) {
    if (!(nbf instanceof RNumber)) throw new BuiltinError('nbf value must be a number');
    if (c.timeSeconds < nbf.toNumber()) return false;
  }
  return true;
}

export function decodeVerify(jwt: Value, constraintsObject: RObject, nowNs: bigint): Value {
  const unverified = (): Value => [false, new RObject(), new RObject()];
  const c = parseConstraints(constraintsObject, nowNs);
  let current: Value = jwt;
  for (;;) {
    const token = splitToken(current);
    const header = decodeHeader(token);
    const h = parseHeader(header);
    if (!h.valid) return unverified();
    if (c.alg !== '' && c.alg !== h.alg) return unverified();
    const signature = decodeSignature(token);
    const data = Buffer.from(`${token.header}.${token.payload}`, 'latin1');
    if (!signatureVerifies(c, h, data, signature)) return unverified();
    const payloadText = decodePayloadText(token);
    if (h.cty.toUpperCase() === 'JWT') {
      current = payloadText; // nested token: verify it with the same constraints
      continue;
    }
    const payload = jsonObject(payloadText);
    return claimsValid(payload, c) ? [true, header, payload] : unverified();
  }
}
