/**
 * The supply chain's third-party parsers and ciphers load on first use, not when `wharf serve`
 * imports its modules: start-up stays as fast as before they were adopted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LAZY_LIBRARIES = ['@noble/ciphers', 'cbor2', 'yauzl', 'packageurl-js', 'semver', '@renovatebot/pep440'];

/** Imports `modules` in a fresh Node process, optionally runs `use`, and lists the packages it resolved. */
function packagesLoaded(modules: string[], use = ''): string[] {
  const urls = modules.map((path) => new URL(path, import.meta.url).href);
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); seen.add(result.url); return result; } });
    const loaded = await Promise.all(${JSON.stringify(urls)}.map((url) => import(url)));
    ${use}
    console.log(JSON.stringify([...seen].map((url) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(url)?.[1]).filter(Boolean)));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 30_000 });
  return [...new Set(JSON.parse(output.trim().split('\n').at(-1)!) as string[])];
}

describe('supply-chain libraries load on first use', () => {
  it('importing the server and the supply-chain service loads none of them', () => {
    const loaded = packagesLoaded(['../cli/serve.ts', './supplychain-service.ts', './extension.ts']);
    assert.ok(loaded.includes('pino'), `the probe sees packages that do load: ${loaded.join(', ')}`);
    assert.deepEqual(loaded.filter((name) => LAZY_LIBRARIES.includes(name)), []);
  });
  it('using a parser loads its library then', () => {
    const loaded = packagesLoaded(['./sbom/purl.ts'], 'loaded[0].parsePurl("pkg:npm/left-pad@1.3.0");');
    assert.ok(loaded.includes('packageurl-js'), loaded.join(', '));
    assert.ok(!loaded.includes('cbor2'), loaded.join(', '));
  });
});
