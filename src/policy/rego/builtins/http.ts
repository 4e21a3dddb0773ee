/**
 * http.send: Wharf evaluates policies without network access, so the call validates its request
 * object exactly as OPA does (those errors are part of the language's contract) and then fails
 * with a clear built-in error. Declaring it also lets policies mock it (`with http.send as f`).
 */
import { RObject, type Value } from '../value.ts';
import { BuiltinError, BuiltinTypeError, type BuiltinDecl } from './types.ts';
import { obj } from './operands.ts';

const REQUIRED = ['method', 'url'];
const ALLOWED = new Set([
  'method', 'url', 'body', 'raw_body', 'headers', 'enable_redirect', 'force_json_decode', 'force_yaml_decode',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache',
  'force_cache', 'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts',
  'cache_ignored_headers',
]);

function quotedSet(names: string[]): string {
  return '{' + names.sort().map((n) => JSON.stringify(n)).join(', ') + '}';
}

function validateRequest(req: RObject): void {
  const unknown = [...req.keys()].filter((k) => typeof k !== 'string' || !ALLOWED.has(k)).map(String);
  if (unknown.length) throw new BuiltinTypeError(`invalid request parameters(s): ${quotedSet(unknown)}`);
  const missing = REQUIRED.filter((k) => !req.has(k));
  if (missing.length) throw new BuiltinTypeError(`missing required request parameters(s): ${quotedSet(missing)}`);
}

export const builtins: BuiltinDecl[] = [
  {
    name: 'http.send',
    args: ['object[string: any]'],
    result: 'object[any: any]',
    nondeterministic: true,
    fn: (args: Value[]) => {
      validateRequest(obj(args, 0));
      throw new BuiltinError('network access is not available to Wharf policies');
    },
  },
];
