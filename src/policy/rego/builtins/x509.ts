/** crypto.x509.* built-ins: certificates, chains, certificate requests, key pairs and RSA keys. */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { RObject, fromJS, type Value } from '../value.ts';
import { obj, str } from './operands.ts';
import { BuiltinError, type BuiltinContext, type BuiltinDecl, type BuiltinFn } from './types.ts';
import { EncodingError, goBase64Decode, pemDecodeAll, pemDecodeFirst } from './crypto-pem.ts';
import { goPrivateKeyJSON, privateKeysFromPEM } from './crypto.ts';
import { DERError } from './x509-der.ts';
import { parseCertificateRequest, parseCertificates, type ParsedCertificate } from './x509-cert.ts';
import { verifyChain, verifyOptions } from './x509-verify.ts';

/** Runs parsing code, turning decoding and DER errors into built-in errors. */
function guarded<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof EncodingError || e instanceof DERError) throw new BuiltinError(e.message);
    throw e;
  }
}

function certsFromPEM(text: string): ParsedCertificate[] {
  const der: Buffer[] = [];
  for (const block of pemDecodeAll(text)) {
    if (block.type !== 'CERTIFICATE') throw new BuiltinError(`PEM block type is '${block.type}', expected CERTIFICATE`);
    der.push(block.bytes);
  }
  return parseCertificates(Buffer.concat(der));
}

/** OPA's getX509CertsFromString: PEM, or base64 of PEM, or base64 of DER. */
function certsFromString(input: string): ParsedCertificate[] {
  return guarded(() => {
    if (input.startsWith('-----BEGIN')) return certsFromPEM(input);
    const decoded = goBase64Decode(input);
    if (decoded.subarray(0, 10).toString('latin1') === '-----BEGIN') return certsFromPEM(decoded.toString('utf8'));
    return parseCertificates(decoded);
  });
}

const parseCerts: BuiltinFn = (args) => certsFromString(str(args, 0)).map((c) => c.json);

function parseAndVerify(input: string, options: RObject | undefined, ctx: BuiltinContext): Value {
  const invalid: Value = [false, []];
  let certs: ParsedCertificate[];
  try {
    certs = certsFromString(input);
  } catch {
    return invalid;
  }
  const opts = verifyOptions(options, ctx.nowNs);
  const chain = verifyChain(certs, opts);
  return chain === undefined ? invalid : [true, chain.map((c) => c.json)];
}

const parseAndVerifyCerts: BuiltinFn = (args, ctx) => parseAndVerify(str(args, 0), undefined, ctx);

const parseAndVerifyWithOptions: BuiltinFn = (args, ctx) => parseAndVerify(str(args, 0), obj(args, 1), ctx);

const parseCSR: BuiltinFn = (args) => {
  const input = str(args, 0);
  return guarded(() => {
    let bytes: Buffer = Buffer.from(input, 'utf8');
    if (!input.startsWith('-----BEGIN CERTIFICATE REQUEST-----')) bytes = goBase64Decode(input);
    const pem = pemDecodeFirst(bytes.toString('utf8'));
    if (pem !== undefined && pem.block.type !== 'CERTIFICATE REQUEST') {
      throw new BuiltinError('invalid PEM-encoded certificate signing request');
    }
    return parseCertificateRequest(pem !== undefined ? pem.block.bytes : bytes);
  });
};

/** A base64 argument that is not PEM is decoded first, as OPA does for key pairs. */
function pemText(input: string, type: string): string {
  if (input.startsWith('-----BEGIN ')) return input;
  const decoded = guarded(() => goBase64Decode(input));
  if (decoded.subarray(0, 11).toString('latin1') === '-----BEGIN ') return decoded.toString('utf8');
  return `-----BEGIN ${type}-----\n${decoded.toString('base64')}\n-----END ${type}-----\n`;
}

function keyPairPrivateKey(keyPem: string): KeyObject {
  const blocks = pemDecodeAll(keyPem);
  if (blocks.length === 0) throw new BuiltinError('tls: failed to find any PEM data in key input');
  const block = blocks.find((b) => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'));
  if (block === undefined) throw new BuiltinError('tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input');
  for (const type of ['pkcs1', 'pkcs8', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: block.bytes, format: 'der', type });
    } catch {
      // try the next encoding, as Go's parsePrivateKey does
    }
  }
  throw new BuiltinError('tls: failed to parse private key');
}

const parseKeyPair: BuiltinFn = (args) => {
  const certPem = pemText(str(args, 0), 'CERTIFICATE');
  const keyPem = pemText(str(args, 1), 'PRIVATE KEY');
  const certBlocks = pemDecodeAll(certPem).filter((b) => b.type === 'CERTIFICATE');
  if (certBlocks.length === 0) throw new BuiltinError('tls: failed to find any PEM data in certificate input');
  const key = keyPairPrivateKey(keyPem);
  const leaf = guarded(() => parseCertificates(certBlocks[0]!.bytes))[0]!;
  const certPublic = new X509Certificate(leaf.der).publicKey;
  const spkiOf = (k: KeyObject): string => k.export({ format: 'der', type: 'spki' }).toString('hex');
  if (spkiOf(createPublicKey(key)) !== spkiOf(certPublic)) {
    throw new BuiltinError('tls: private key does not match public key');
  }
  return RObject.from([
    ['Certificate', certBlocks.map((b) => b.bytes.toString('base64'))], ['PrivateKey', goPrivateKeyJSON(key)],
    ['SupportedSignatureAlgorithms', null], ['OCSPStaple', null], ['SignedCertificateTimestamps', null],
    ['Leaf', leaf.json],
  ]);
};

/** crypto.x509.parse_rsa_private_key: the first private key as a JWK. */
const parseRsaPrivateKey: BuiltinFn = (args) => {
  let input = str(args, 0);
  if (input === '') throw new BuiltinError('input PEM data was empty');
  if (!input.startsWith('-----BEGIN')) input = guarded(() => goBase64Decode(input)).toString('utf8');
  const keys = privateKeysFromPEM(input);
  if (keys.length === 0) return null;
  return fromJS(keys[0]!.export({ format: 'jwk' }));
};

export const builtins: BuiltinDecl[] = [
  { name: 'crypto.x509.parse_certificates', args: ['string'], result: 'array[object[string: any]]', fn: parseCerts },
  {
    name: 'crypto.x509.parse_and_verify_certificates', args: ['string'],
    result: 'array<boolean, array[object[string: any]]>',
    fn: parseAndVerifyCerts,
  },
  {
    name: 'crypto.x509.parse_and_verify_certificates_with_options', args: ['string', 'object[string: any]'],
    result: 'array<boolean, array[object[string: any]]>', fn: parseAndVerifyWithOptions,
  },
  { name: 'crypto.x509.parse_certificate_request', args: ['string'], result: 'object[string: any]', fn: parseCSR },
  { name: 'crypto.x509.parse_keypair', args: ['string', 'string'], result: 'object[string: any]', fn: parseKeyPair },
  { name: 'crypto.x509.parse_rsa_private_key', args: ['string'], result: 'object[string: any]', fn: parseRsaPrivateKey },
];
