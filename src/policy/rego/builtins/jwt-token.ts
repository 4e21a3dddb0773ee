/** Compact JWS tokens: splitting and decoding the sections as OPA does. */
import { RObject, type Value } from '../value.ts';
import { typeError } from './operands.ts';
import { BuiltinError } from './types.ts';
import { EncodingError, goBase64Decode } from './crypto-pem.ts';
import { parseJSONValue } from './jwt-json.ts';

export interface Token {
  header: string;
  payload: string;
  signature: string;
}

/** Splits a compact JWS into its three sections (RFC 7519 §7.2 steps 1–2). */
export function splitToken(v: Value): Token {
  if (typeof v !== 'string') throw typeError(1, 'string', v);
  if (!v.includes('.')) throw new BuiltinError('encoded JWT had no period separators');
  const parts = v.split('.');
  if (parts.length !== 3) throw new BuiltinError(`encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0]!, payload: parts[1]!, signature: parts[2]! };
}

/** OPA's base64url.decode: tolerates missing padding, as RFC 7515 appendix C allows. */
export function base64UrlDecode(s: string): Buffer {
  if (!s.endsWith('=')) {
    switch (s.length % 4) {
      case 2: s += '=='; break;
      case 3: s += '='; break;
      case 1: throw new EncodingError(`illegal base64url string: ${s}`);
    }
  }
  return goBase64Decode(s, true, true);
}

function decodeSection(what: string, text: string): Buffer {
  try {
    return base64UrlDecode(text);
  } catch (e) {
    throw new BuiltinError(`JWT ${what} had invalid encoding: ${(e as Error).message}`);
  }
}

/** A JSON object from decoded text, with OPA's messages. */
export function jsonObject(text: string): RObject {
  let v: Value;
  try {
    v = parseJSONValue(text);
  } catch (e) {
    throw new BuiltinError(`invalid JSON: ${(e as Error).message}`);
  }
  if (!(v instanceof RObject)) throw new BuiltinError('decoded JSON type was not an Object');
  return v;
}

/** The decoded header; JWE tokens (with "enc") are rejected. */
export function decodeHeader(token: Token): RObject {
  const text = decodeSection('header', token.header).toString('utf8');
  let header: RObject;
  try {
    header = jsonObject(text);
  } catch (e) {
    throw new BuiltinError(`bad JWT header: ${(e as Error).message}`);
  }
  if (header.has('enc')) throw new BuiltinError('JWT is a JWE object, which is not supported');
  return header;
}

export function decodeSignature(token: Token): Buffer {
  return decodeSection('signature', token.signature);
}

export function decodePayloadText(token: Token): string {
  return decodeSection('payload', token.payload).toString('utf8');
}

