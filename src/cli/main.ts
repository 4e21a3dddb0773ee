/**
 * The `wharf` command. Each subcommand lives in its own module, loaded only when used, so that
 * `wharf serve` starts without loading the policy engine and vice versa.
 */
const USAGE = `Usage: wharf <command> [options]

Commands:
  serve     serve the registry (default settings: 127.0.0.1:5000, ./wharf-data)
  policy    eval|test|check Rego policies; push|list|rm|decisions|simulate|quarantine enforced ones
  namespace set|show the labels, quota and budget of a namespace (facts policies read)
  keygen    write a cosign-compatible encrypted key pair
  sign      sign an image (cosign format; --referrer for an OCI 1.1 referrer)
  verify    verify an image's signatures against a key or a trust configuration
  attest    attach a signed in-toto attestation
  attach    attach an SBOM (wharf attach sbom REF FILE)
  sbom      list the components of an image's SBOMs
  vulns     show an image's vulnerabilities; vulns import loads OSV records
  user      add|passwd|admin|rm|list users
  team      create|rm|list|add|remove teams and their members
  member    set|rm|list roles of users and teams in namespaces
  robot     create|list|revoke robot accounts (--grant REPOS:ACTIONS, --capability admission)
  issuer    add|list|rm trusted OIDC issuers
  token     rotate-key: start signing registry tokens with a new key
  migrate   --to postgres://…: move the data folder's metadata and policies into PostgreSQL
  help      show this help

Run "wharf <command> --help" for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serveCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  policy: async () => async (argv: string[]) => {
    const admin = await import('./policy-admin.ts');
    if (argv[0] !== undefined && admin.POLICY_ADMIN_COMMANDS.has(argv[0])) return admin.policyAdminCommand('policy', argv);
    return (await import('./policy.ts')).runPolicyCommand(argv);
  },
  namespace: async () => async (argv: string[]) => (await import('./policy-admin.ts')).policyAdminCommand('namespace', argv),
  keygen: async () => (await import('./supplychain.ts')).keygenCommand,
  sign: async () => (await import('./supplychain.ts')).signCommand,
  verify: async () => (await import('./supplychain.ts')).verifyCommand,
  attest: async () => (await import('./supplychain.ts')).attestCommand,
  attach: async () => (await import('./supplychain.ts')).attachCommand,
  sbom: async () => (await import('./supplychain.ts')).sbomCommand,
  vulns: async () => (await import('./supplychain.ts')).vulnsCommand,
  ...Object.fromEntries(['user', 'team', 'member', 'robot', 'issuer', 'token'].map((group) => [
    group, async () => { const { identityCommand } = await import('./identity.ts'); return (argv: string[]) => identityCommand(group, argv); },
  ])),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`wharf: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    // Usage mistakes (unknown flags) are the user's, not a crash: say what was wrong, no stack.
    const err = error as { code?: string; message?: string };
    if (typeof err?.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`wharf: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`wharf: ${err?.message ?? String(error)}`);
    process.exitCode = 1;
  },
);
