/** The table of every built-in function, by name. */
import type { BuiltinDecl } from './types.ts';
// Values & core built-ins.
import { builtins as operators } from './operators.ts';
import { builtins as aggregates } from './aggregates.ts';
import { builtins as collections } from './collections.ts';
import { builtins as objects } from './objects.ts';
import { builtins as jsonPaths } from './json-paths.ts';
import { builtins as strings } from './strings.ts';
import { builtins as stringsFormat } from './strings-format.ts';
import { builtins as regex } from './regex.ts';
import { builtins as glob } from './glob.ts';
import { builtins as typeChecks } from './type-checks.ts';
import { builtins as encoding } from './encoding.ts';
import { builtins as encodingJson } from './encoding-json.ts';
import { builtins as semver } from './semver.ts';
import { builtins as units } from './units.ts';
import { builtins as graph } from './graph.ts';
import { builtins as jsonschema } from './jsonschema.ts';
import { builtins as sleep } from './sleep.ts';
import { builtins as http } from './http.ts';
// Time, crypto, net and friends (another owner's files).
import { builtins as time } from './time.ts';
import { builtins as crypto } from './crypto.ts';
import { builtins as net } from './net.ts';
import { builtins as uuid } from './uuid.ts';
import { builtins as rand } from './rand.ts';
import { builtins as jwt } from './jwt.ts';
import { builtins as uri } from './uri.ts';
import { builtins as x509 } from './x509.ts';

const categories: BuiltinDecl[][] = [
  operators,
  aggregates,
  collections,
  objects,
  jsonPaths,
  strings,
  stringsFormat,
  regex,
  glob,
  typeChecks,
  encoding,
  encodingJson,
  semver,
  units,
  graph,
  jsonschema,
  sleep,
  http,
  time,
  crypto,
  net,
  uuid,
  rand,
  jwt,
  uri,
  x509,
];

function buildTable(): ReadonlyMap<string, BuiltinDecl> {
  const table = new Map<string, BuiltinDecl>();
  for (const list of categories) {
    for (const decl of list) {
      if (table.has(decl.name)) throw new Error(`built-in ${decl.name} declared twice`);
      table.set(decl.name, decl);
    }
  }
  return table;
}

export const BUILTINS: ReadonlyMap<string, BuiltinDecl> = buildTable();
