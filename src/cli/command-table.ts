/**
 * Every `wharf` command and subcommand with the flags it accepts. This table is the one source of
 * both the flags a command parses (see `parseOptions`) and its `--help`, so help cannot forget a
 * flag. Loading it loads nothing else: `wharf --help` stays fast.
 */

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The placeholder shown in help for a string flag's value. */
  readonly value?: string;
  readonly help: string;
}

/** What a command reads or changes, told in its help (item: "which data folder or server"). */
export type Target =
  | 'wharf'       // a Wharf: its server (--server) or its data folder (--data-dir)
  | 'serve'       // the data folder it serves
  | 'registry'    // any OCI registry named in a reference
  | 'files'       // local files only
  | 'credentials' // the login file
  | 'migrate';    // a data folder's SQLite databases, read, into the PostgreSQL database of --to

export interface SubcommandSpec {
  /** Positional arguments, as shown after the command's name. */
  readonly args: string;
  readonly summary: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  readonly target: Target;
  /** More lines for the help, after the flags. */
  readonly notes?: string;
}

export interface CommandSpec {
  readonly summary: string;
  /** The command itself, when it runs without a subcommand (`wharf serve`, `wharf vulns REF`). */
  readonly self?: SubcommandSpec;
  readonly subcommands?: Readonly<Record<string, SubcommandSpec>>;
}

const json: FlagSpec = { type: 'boolean', help: 'print JSON instead of a table' };

/** Where an administration command acts: a server, or a data folder. */
export const TARGET_FLAGS = {
  server: { type: 'string', value: 'URL', help: 'act on the running Wharf at URL through its /api/v1 API (credentials: `wharf login URL`, or WHARF_USERNAME/WHARF_PASSWORD); default $WHARF_SERVER' },
  'data-dir': { type: 'string', value: 'DIR', help: 'act on the data folder DIR directly (default $WHARF_DATA, else ./wharf-data); it must exist' },
  data: { type: 'string', value: 'DIR', help: 'older spelling of --data-dir (a folder, never a data document: see --data-file)' },
  config: { type: 'string', value: 'FILE', help: 'read the data folder from this YAML config file (as wharf serve does)' },
} as const satisfies Record<string, FlagSpec>;

const admin = (args: string, summary: string, flags: Record<string, FlagSpec> = {}, notes?: string): SubcommandSpec => ({
  args, summary, flags: { ...flags, ...TARGET_FLAGS }, target: 'wharf', ...(notes ? { notes } : {}),
});

const passwordStdin: FlagSpec = { type: 'boolean', help: 'read the password from standard input (else a prompt)' };
const principalFlags = {
  user: { type: 'string', value: 'USER', help: 'the user whose role it is' },
  team: { type: 'string', value: 'TEAM', help: 'the team whose role it is' },
} as const satisfies Record<string, FlagSpec>;
const scopeFlags = {
  namespace: { type: 'string', multiple: true, value: 'GLOB', help: 'only repositories in these namespaces (repeatable)' },
  repository: { type: 'string', multiple: true, value: 'GLOB', help: 'only these repositories (repeatable)' },
  'artifact-type': { type: 'string', multiple: true, value: 'GLOB', help: 'only artifacts of these types (repeatable)' },
} as const satisfies Record<string, FlagSpec>;
const dataFile: FlagSpec = { type: 'string', value: 'FILE', help: 'the policy\'s data document (JSON or YAML object, read as data.*); not the data folder (--data-dir)' };

const registryCommon = {
  'plain-http': { type: 'boolean', help: 'use plain HTTP (loopback registries always do)' },
  json,
} as const satisfies Record<string, FlagSpec>;
const tufCommon = {
  root: { type: 'string', value: 'FILE', help: 'the namespace\'s root, when the metadata folder has no trusted root yet' },
  'metadata-dir': { type: 'string', value: 'DIR', help: 'trusted TUF metadata folder (default $XDG_CACHE_HOME/wharf/tuf/HOST/NAMESPACE)' },
  expires: { type: 'string', value: 'DAYS', help: 'targets metadata lifetime in days (default 365)' },
  'root-expires': { type: 'string', value: 'DAYS', help: 'root lifetime in days (default 365)' },
  out: { type: 'string', value: 'FILE', help: 'write the signed metadata to FILE (for more signatures) instead of publishing' },
} as const satisfies Record<string, FlagSpec>;
const TUF_SERVER_NOTE = 'Talks to a running Wharf (--server URL, WHARF_SERVER or `wharf login`), which holds the online snapshot and timestamp keys; a data folder is refused.';
const regoVersion: FlagSpec = { type: 'boolean', help: 'parse Rego v0 (no `if`/`contains` required)' };

export const COMMAND_TABLE: Readonly<Record<string, CommandSpec>> = {
  serve: {
    summary: 'serve the registry (default settings: 127.0.0.1:5000, ./wharf-data)',
    self: {
      args: '', target: 'serve',
      summary: 'Serves the registry; prints `wharf listening on URL` when ready; SIGTERM/SIGINT stop it gracefully.',
      flags: {
        listen: { type: 'string', value: 'HOST:PORT', help: 'address to serve on (config key listen, WHARF_LISTEN)' },
        'data-dir': { type: 'string', value: 'DIR', help: 'data folder, made if missing (config key data, WHARF_DATA)' },
        data: { type: 'string', value: 'DIR', help: 'same as --data-dir' },
        config: { type: 'string', value: 'FILE', help: 'YAML config file (WHARF_CONFIG)' },
        'log-level': { type: 'string', value: 'LEVEL', help: 'trace|debug|info|warn|error|silent (config key log.level, WHARF_LOG_LEVEL)' },
        'tls-cert': { type: 'string', value: 'FILE', help: 'PEM certificate chain: serve HTTPS (config key tls.cert, WHARF_TLS_CERT)' },
        'tls-key': { type: 'string', value: 'FILE', help: 'PEM private key of --tls-cert (config key tls.key, WHARF_TLS_KEY)' },
        'allow-anonymous': { type: 'boolean', help: 'allow anonymous full access on a non-loopback address (config key auth.allowAnonymous)' },
      },
      notes: 'Every other setting comes from the --config file or WHARF_* variables (README: Configuration reference).',
    },
  },
  login: {
    summary: 'store credentials for a Wharf server, used by --server',
    self: {
      args: 'URL', target: 'credentials',
      summary: 'Checks the credentials against the server and stores them in $XDG_CONFIG_HOME/wharf/credentials.json (~/.config/wharf/…, mode 0600); the server becomes the default of administration commands.',
      flags: {
        username: { type: 'string', short: 'u', value: 'NAME', help: 'user name (default $WHARF_USERNAME, else a prompt)' },
        'password-stdin': passwordStdin,
      },
      notes: 'The password may also come from $WHARF_PASSWORD.',
    },
  },
  logout: {
    summary: 'forget the stored credentials of a Wharf server',
    self: { args: '[URL]', target: 'credentials', summary: 'Removes the stored credentials of URL (default: the default server).', flags: {} },
  },
  migrate: {
    summary: 'copy a data folder\'s SQLite metadata, policies and identities into PostgreSQL (--to postgres://…)',
    self: {
      args: '', target: 'migrate',
      summary: 'Copies the registry metadata (repositories, blob links, manifests byte for byte, tags, referrers, upload sessions) the policies, decision log, quarantines and namespace settings, and the identities (users, teams, robots, issuers, refresh tokens, token-signing keys, audit trail) into an empty PostgreSQL database, in one transaction. Blobs stay in the data folder.',
      flags: {
        to: { type: 'string', value: 'URL', help: 'postgres://USER:PASSWORD@HOST:PORT/DATABASE to copy into (must hold no registry yet)' },
        'data-dir': { type: 'string', value: 'DIR', help: 'data folder whose databases are copied (config key data, WHARF_DATA)' },
        data: { type: 'string', value: 'DIR', help: 'same as --data-dir' },
        config: { type: 'string', value: 'FILE', help: 'read the data folder from this YAML config file (WHARF_CONFIG)' },
      },
      notes: 'Stop the server first; afterwards start it with metadata.postgres.url (WHARF_METADATA_POSTGRES_URL) set to the URL.',
    },
  },
  policy: {
    summary: 'eval|test|check Rego policies; push|list|rm|decisions|simulate|quarantine enforced ones',
    subcommands: {
      eval: {
        args: 'QUERY', target: 'files', summary: 'Evaluates a Rego query over local files, as `opa eval` does.',
        flags: {
          data: { type: 'string', short: 'd', multiple: true, value: 'FILE_OR_DIR', help: '.rego modules and JSON/YAML data documents (repeatable; opa\'s -d)' },
          input: { type: 'string', short: 'i', value: 'FILE', help: 'the input document (JSON or YAML)' },
          'v0-compatible': regoVersion,
          format: { type: 'string', short: 'f', value: 'json|pretty', help: 'output format (default json)' },
        },
      },
      test: {
        args: 'PATH...', target: 'files', summary: 'Runs the Rego tests (test_* rules) in PATH, as `opa test` does.',
        flags: { 'v0-compatible': regoVersion, verbose: { type: 'boolean', short: 'v', help: 'list every test and its output' } },
      },
      check: {
        args: 'PATH...', target: 'files', summary: 'Parses and compiles the Rego modules in PATH, as `opa check` does.',
        flags: { 'v0-compatible': regoVersion },
      },
      push: admin('PATH... | --from-oci REPOSITORY:TAG', 'Stores (or updates) an enforced policy; a running server applies it within a second.', {
        name: { type: 'string', value: 'NAME', help: 'the policy\'s name' },
        package: { type: 'string', value: 'PKG', help: 'the Rego package defining deny/quarantine' },
        point: { type: 'string', multiple: true, value: 'push|pull|admission', help: 'enforcement points (repeatable; default push)' },
        ...scopeFlags,
        mode: { type: 'string', value: 'enforce|audit', help: 'enforce (default) or only record decisions' },
        'data-file': dataFile,
        'from-oci': { type: 'string', value: 'REPOSITORY:TAG', help: 'load an OPA bundle pushed into this Wharf instead of PATHs' },
        description: { type: 'string', value: 'TEXT', help: 'a description' },
      }),
      list: admin('', 'Lists the stored policies.', { json }),
      rm: admin('NAME', 'Removes a policy.'),
      decisions: admin('', 'Shows the decision log, newest first.', {
        point: { type: 'string', value: 'push|pull|admission', help: 'only this enforcement point' },
        denied: { type: 'boolean', help: 'only denials' },
        repository: { type: 'string', value: 'NAME', help: 'only this repository' },
        policy: { type: 'string', value: 'NAME', help: 'only decisions of this policy' },
        limit: { type: 'string', value: 'N', help: 'at most N decisions (default 100)' },
        json,
      }),
      simulate: admin('PATH...', 'Evaluates a policy against stored artifacts without enforcing it.', {
        package: { type: 'string', value: 'PKG', help: 'the Rego package defining deny/quarantine' },
        point: { type: 'string', multiple: true, value: 'push|pull|admission', help: 'the points the policy would be bound to (repeatable; default push); each is judged as enforcement would' },
        'data-file': dataFile,
        ...scopeFlags,
        json,
      }),
      quarantine: admin('[release REPOSITORY@DIGEST]', 'Lists quarantined artifacts; release lifts the quarantine of one.', { json }),
    },
  },
  namespace: {
    summary: 'set|show the labels, quota and budget of a namespace (facts policies read)',
    subcommands: {
      set: admin('NAMESPACE', 'Sets facts of a namespace (unnamed ones keep their value).', {
        label: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'a label (repeatable)' },
        quota: { type: 'string', value: 'SIZE', help: 'storage quota, e.g. 50GiB' },
        budget: { type: 'string', value: 'AMOUNT', help: 'monthly budget' },
        price: { type: 'string', value: 'AMOUNT', help: 'price per GiB and month' },
        currency: { type: 'string', value: 'CODE', help: 'ISO 4217 currency, e.g. EUR' },
      }),
      show: admin('NAMESPACE', 'Shows the facts of a namespace as JSON.'),
    },
  },
  keygen: {
    summary: 'write a cosign-compatible encrypted key pair',
    self: {
      args: '', target: 'files', summary: 'Writes PREFIX.key and PREFIX.pub in cosign\'s format (password from COSIGN_PASSWORD or a prompt).',
      flags: {
        'output-key-prefix': { type: 'string', value: 'PREFIX', help: 'file name prefix (default cosign)' },
        force: { type: 'boolean', help: 'overwrite existing files' },
      },
    },
  },
  sign: {
    summary: 'sign an image (cosign format; --referrer for an OCI 1.1 referrer)',
    self: {
      args: 'REF', target: 'registry', summary: 'Signs the image REF in cosign\'s format (tag scheme, or an OCI 1.1 referrer).',
      flags: {
        key: { type: 'string', value: 'FILE', help: 'cosign private key (password from COSIGN_PASSWORD or a prompt)' },
        referrer: { type: 'boolean', help: 'attach as an OCI 1.1 referrer instead of a sha256-….sig tag' },
        annotations: { type: 'string', short: 'a', multiple: true, value: 'KEY=VALUE', help: 'annotation to sign (repeatable)' },
        ...registryCommon,
      },
    },
  },
  verify: {
    summary: 'verify an image\'s signatures against a key or a trust configuration',
    self: {
      args: 'REF', target: 'registry', summary: 'Verifies REF\'s signatures; exits 0 only if verified, and prints the signer.',
      flags: {
        key: { type: 'string', value: 'FILE', help: 'cosign public key' },
        trust: { type: 'string', value: 'FILE', help: 'a Wharf trust configuration (JSON)' },
        'trusted-root': { type: 'string', value: 'FILE', help: 'Sigstore trusted_root.json for keyless verification' },
        'certificate-identity': { type: 'string', value: 'ID', help: 'expected keyless signer identity' },
        'certificate-identity-regexp': { type: 'string', value: 'REGEX', help: 'expected keyless signer identity, as a regular expression' },
        'certificate-oidc-issuer': { type: 'string', value: 'URL', help: 'expected OIDC issuer of the keyless signer' },
        'certificate-oidc-issuer-regexp': { type: 'string', value: 'REGEX', help: 'expected OIDC issuer, as a regular expression' },
        attestations: { type: 'boolean', help: 'verify attestations instead of signatures' },
        ...registryCommon,
      },
    },
  },
  attest: {
    summary: 'attach a signed in-toto attestation',
    self: {
      args: 'REF', target: 'registry', summary: 'Attaches a signed in-toto attestation (DSSE) to REF.',
      flags: {
        predicate: { type: 'string', value: 'FILE', help: 'the predicate document' },
        type: { type: 'string', value: 'TYPE', help: 'slsaprovenance1|spdxjson|cyclonedx|vuln|custom|URI (default custom)' },
        key: { type: 'string', value: 'FILE', help: 'cosign private key' },
        referrer: { type: 'boolean', help: 'attach as an OCI 1.1 referrer instead of a sha256-….att tag' },
        ...registryCommon,
      },
    },
  },
  attach: {
    summary: 'attach an SBOM (wharf attach sbom REF FILE)',
    subcommands: {
      sbom: {
        args: 'REF FILE', target: 'registry', summary: 'Attaches a CycloneDX or SPDX JSON SBOM to REF.',
        flags: { 'tag-scheme': { type: 'boolean', help: 'use a sha256-….sbom tag instead of an OCI 1.1 referrer' }, ...registryCommon },
      },
    },
  },
  sbom: {
    summary: 'list the components of an image\'s SBOMs',
    self: { args: 'REF', target: 'registry', summary: 'Lists the components of the SBOMs attached to REF.', flags: { ...registryCommon } },
  },
  vulns: {
    summary: 'show an image\'s vulnerabilities; vulns import loads OSV records',
    self: {
      args: 'REF', target: 'registry', summary: 'Shows REF\'s vulnerabilities: Wharf\'s stored findings, or matched locally against --db.',
      flags: { db: { type: 'string', value: 'OSV-PATH', help: 'match locally against these OSV records (folder, .zip, .jsonl, .json)' }, ...registryCommon },
    },
    subcommands: {
      import: {
        args: 'PATH', target: 'registry', summary: 'Loads OSV records (folder, .zip, .jsonl, .json, OSV YAML) into a Wharf.',
        flags: { registry: { type: 'string', value: 'URL', help: 'the Wharf to load them into (default http://127.0.0.1:5000)' }, ...registryCommon },
      },
    },
  },
  model: {
    summary: 'push|pull|inspect AI models as OCI artifacts (CNCF ModelPack)',
    subcommands: {
      push: {
        args: 'DIR REF', target: 'registry',
        summary: 'Packs DIR as a ModelPack artifact (one layer per file, config from the files\' headers, README.md as model card) and pushes it; blobs the registry has are skipped, an interrupted push resumes.',
        flags: {
          concurrency: { type: 'string', value: 'N', help: 'files uploaded at once (default 4)' },
          'chunk-size': { type: 'string', value: 'BYTES', help: 'upload chunk size (default: sized to each file)' },
          state: { type: 'string', value: 'FILE', help: 'where the resume state is kept (default: in DIR)' },
          ...registryCommon,
        },
      },
      pull: {
        args: 'REF DIR', target: 'registry',
        summary: 'Fetches the model\'s files into DIR, each in parallel Range streams, digests verified, partial files resumed.',
        flags: {
          include: { type: 'string', multiple: true, value: 'GLOB', help: 'only files whose path matches (repeatable)' },
          streams: { type: 'string', value: 'N', help: 'Range streams per file (default 4)' },
          concurrency: { type: 'string', value: 'N', help: 'files fetched at once (default 2)' },
          ...registryCommon,
        },
      },
      inspect: {
        args: 'REF', target: 'registry',
        summary: 'Prints files, parameters, formats, licences and code findings, without downloading weights.',
        flags: { ...registryCommon },
      },
    },
  },
  user: {
    summary: 'add|passwd|admin|rm|list users',
    subcommands: {
      add: admin('NAME', 'Adds a user (password from a prompt or --password-stdin).', {
        admin: { type: 'boolean', help: 'make the user an administrator' }, 'password-stdin': passwordStdin,
      }),
      passwd: admin('NAME', 'Changes a user\'s password.', { 'password-stdin': passwordStdin }),
      admin: admin('NAME true|false', 'Grants or withdraws administrator rights.'),
      rm: admin('NAME', 'Removes a user.'),
      list: admin('', 'Lists users.', { json }),
    },
  },
  team: {
    summary: 'create|rm|list|add|remove teams and their members',
    subcommands: {
      create: admin('NAME', 'Creates a team.'),
      rm: admin('NAME', 'Removes a team.'),
      list: admin('', 'Lists teams and their members.', { json }),
      add: admin('TEAM USER', 'Adds a user to a team.'),
      remove: admin('TEAM USER', 'Removes a user from a team.'),
    },
  },
  member: {
    summary: 'set|rm|list roles of users and teams in namespaces',
    subcommands: {
      set: admin('NAMESPACE ROLE (--user USER | --team TEAM)', 'Gives a user or team a role (reader, writer, maintainer, admin) in a namespace.', { ...principalFlags }),
      rm: admin('NAMESPACE (--user USER | --team TEAM)', 'Removes a role.', { ...principalFlags }),
      list: admin('[NAMESPACE]', 'Lists roles.', { json }),
    },
  },
  robot: {
    summary: 'create|list|revoke robot accounts',
    subcommands: {
      create: admin('NAME', 'Creates a robot account; its secret is shown once.', {
        grant: { type: 'string', multiple: true, value: 'REPOS:ACTIONS', help: 'what it may do, e.g. \'team-a/*:pull,push\' (repeatable)' },
        capability: { type: 'string', multiple: true, value: 'NAME', help: 'a capability beyond repositories: admission (answer admission reviews for every repository)' },
        expires: { type: 'string', value: 'DAYS', help: 'expire after DAYS days' },
        json,
      }),
      list: admin('', 'Lists robot accounts.', { json }),
      revoke: admin('NAME', 'Revokes a robot account.'),
    },
  },
  issuer: {
    summary: 'add|list|rm trusted OIDC issuers',
    subcommands: {
      add: admin('NAME', 'Trusts an OIDC issuer and maps claims to grants.', {
        issuer: { type: 'string', value: 'URL', help: 'the issuer (iss)' },
        audience: { type: 'string', value: 'AUD', help: 'the audience tokens must carry' },
        'jwks-file': { type: 'string', value: 'FILE', help: 'the issuer\'s keys (JWKS) from a file' },
        'jwks-url': { type: 'string', value: 'URL', help: 'the issuer\'s keys (JWKS) from a URL' },
        rule: { type: 'string', multiple: true, value: "'CLAIM=PATTERN,... => GRANTS'", help: 'a claim rule (repeatable)' },
        'rules-file': { type: 'string', value: 'FILE', help: 'claim rules as a JSON array' },
      }),
      list: admin('', 'Lists trusted issuers.', { json }),
      rm: admin('NAME', 'Removes an issuer.'),
    },
  },
  token: {
    summary: 'rotate-key: start signing registry tokens with a new key',
    subcommands: {
      'rotate-key': admin('', 'Starts signing registry tokens with a new key (tokens of the old key stay valid until they expire).'),
    },
  },
  tuf: {
    summary: 'keygen|init|add-key|rotate|delegate|sign|publish|verify a namespace\'s TUF repository',
    subcommands: {
      keygen: {
        args: 'FILE', target: 'files', summary: 'Writes a TUF ed25519 key pair: FILE (private, 0600) and FILE.pub.',
        flags: { force: { type: 'boolean', help: 'overwrite existing files' } },
      },
      init: admin('NAMESPACE', 'Creates the namespace\'s TUF repository: root and top-level targets signed with the team\'s keys, the registry\'s online keys for snapshot and timestamp.', {
        'root-key': { type: 'string', multiple: true, value: 'FILE', help: 'a root key file (repeatable; made when missing)' },
        'root-threshold': { type: 'string', value: 'N', help: 'root signatures needed (default 1)' },
        'targets-key': { type: 'string', multiple: true, value: 'FILE', help: 'a top-level targets key file (repeatable; made when missing)' },
        'targets-threshold': { type: 'string', value: 'N', help: 'targets signatures needed (default 1)' },
        ...tufCommon,
        'root-out': { type: 'string', value: 'FILE', help: 'where to write the root clients start from (default NAMESPACE.root.json)' },
      }, `The root is also stored as this machine\'s trusted root (--metadata-dir). ${TUF_SERVER_NOTE}`),
      'add-key': admin('NAMESPACE', 'Adds a key to the root or top-level targets role (a new root version).', {
        role: { type: 'string', value: 'root|targets', help: 'the role that gets the key' },
        key: { type: 'string', multiple: true, value: 'FILE', help: 'the new key (made when missing)' },
        threshold: { type: 'string', value: 'N', help: 'the role\'s new threshold (default: unchanged)' },
        'root-key': { type: 'string', multiple: true, value: 'FILE', help: 'root keys that sign the new root (old and new threshold)' },
        'targets-key': { type: 'string', multiple: true, value: 'FILE', help: 'targets keys that re-sign top-level targets (role targets)' },
        ...tufCommon,
      }, TUF_SERVER_NOTE),
      rotate: admin('NAMESPACE', 'Replaces keys of a role (a new root version); snapshot and timestamp get a new key of the registry\'s.', {
        role: { type: 'string', value: 'root|targets|snapshot|timestamp', help: 'the role whose keys change' },
        key: { type: 'string', multiple: true, value: 'FILE', help: 'a key the role gets (root, targets)' },
        'remove-key': { type: 'string', multiple: true, value: 'FILE|KEYID', help: 'a key the role loses (root, targets)' },
        threshold: { type: 'string', value: 'N', help: 'the role\'s new threshold (default: unchanged)' },
        'root-key': { type: 'string', multiple: true, value: 'FILE', help: 'root keys that sign the new root (old and new threshold)' },
        'targets-key': { type: 'string', multiple: true, value: 'FILE', help: 'the new targets keys, to re-sign top-level targets (role targets)' },
        ...tufCommon,
      }, TUF_SERVER_NOTE),
      delegate: admin('NAMESPACE ROLE', 'Delegates REPOSITORY:TAG paths to a role held by a team\'s or a CI identity\'s keys.', {
        path: { type: 'string', multiple: true, value: 'GLOB', help: 'paths delegated, e.g. \'team-a/app:*\' (repeatable; * stays within a path segment)' },
        key: { type: 'string', multiple: true, value: 'FILE', help: 'the role\'s key (repeatable; FILE.pub suffices unless its first metadata is signed here)' },
        threshold: { type: 'string', value: 'N', help: 'signatures the role needs (default 1)' },
        bins: { type: 'string', value: 'N', help: 'hand the role\'s paths on to N hash bins (a power of two), for large namespaces' },
        terminating: { type: 'boolean', help: 'clients look no further than this role for its paths' },
        'targets-key': { type: 'string', multiple: true, value: 'FILE', help: 'top-level targets keys that sign the delegation' },
        ...tufCommon,
      }, TUF_SERVER_NOTE),
      sign: {
        args: 'FILE', target: 'files', summary: 'Adds signatures to the metadata of a batch file written with --out.',
        flags: {
          key: { type: 'string', multiple: true, value: 'FILE', help: 'a key to sign with (repeatable)' },
          role: { type: 'string', multiple: true, value: 'ROLE', help: 'sign only this role\'s metadata (repeatable; default all)' },
        },
      },
      publish: admin('NAMESPACE [REPOSITORY:TAG...]', 'Records pushed artifacts as targets of a role (signed with its keys), or uploads a batch file.', {
        role: { type: 'string', value: 'ROLE', help: 'the role that signs the targets (targets, or a delegated role)' },
        key: { type: 'string', multiple: true, value: 'FILE', help: 'the role\'s key (repeatable)' },
        metadata: { type: 'string', multiple: true, value: 'FILE', help: 'upload a batch file instead (from --out and wharf tuf sign)' },
        ...tufCommon,
      }, TUF_SERVER_NOTE),
      verify: {
        args: 'REGISTRY/REPOSITORY:TAG', target: 'registry',
        summary: 'Runs the TUF client workflow against the registry, then checks that the manifest it serves for the tag is the target TUF names; exits 0 only then.',
        notes: 'TUF metadata comes from REGISTRY\'s /api/v1/tuf/ (HTTPS; plain HTTP only on loopback), with Wharf credentials when authentication is on (WHARF_USERNAME/WHARF_PASSWORD or `wharf login`).',
        flags: {
          root: { type: 'string', value: 'FILE', help: 'the namespace\'s root, when the metadata folder has no trusted root yet' },
          'metadata-dir': { type: 'string', value: 'DIR', help: 'trusted metadata folder (default $XDG_CACHE_HOME/wharf/tuf/HOST/NAMESPACE)' },
          json,
        },
      },
    },
  },
  query: {
    summary: 'ask usage telemetry (pulls, pushes, decisions, storage) in pipe SQL',
    self: admin('QUERY', 'Runs a pipe-SQL usage query, as in \'FROM pulls |> WHERE time > now() - INTERVAL 7 DAY |> AGGREGATE count(*) AS pulls GROUP BY repository\' (docs/queries.md).', {
      format: { type: 'string', value: 'table|json|csv', help: 'how to print the rows (default table)' },
    }, 'Through --server, you see rows of the repositories you may pull; on a data folder, everything.'),
  },
  version: {
    summary: 'print the version (also wharf --version)',
    self: { args: '', target: 'files', summary: 'Prints Wharf\'s version.', flags: {} },
  },
};

/** parseArgs options for a subcommand's flags, `--help` included. */
export function parseOptions(flags: Readonly<Record<string, FlagSpec>>): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = { type: flag.type, ...(flag.short ? { short: flag.short } : {}), ...(flag.multiple ? { multiple: true } : {}) };
  }
  options.help = { type: 'boolean', short: 'h' };
  return options;
}

/** The spec of `wharf COMMAND SUBCOMMAND` (or of the command itself when it has no such subcommand). */
export function specOf(command: string, subcommand: string | undefined): SubcommandSpec | undefined {
  const spec = COMMAND_TABLE[command];
  if (!spec) return undefined;
  if (subcommand !== undefined && spec.subcommands?.[subcommand]) return spec.subcommands[subcommand];
  return spec.self;
}
