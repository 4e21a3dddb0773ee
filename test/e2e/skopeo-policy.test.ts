// Real clients against real policies: skopeo pushes and pulls that policies deny or allow.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createToolSandbox, missingToolReason, skopeo, type ToolSandbox } from './container-tools.ts';
import { REPO_ROOT, startWharf, type RunningRegistry } from './harness.ts';
import { buildUmociImage, initLayout } from './oci-layout.ts';
import { targetRegistryKind } from './target-registry.ts';

const skip = targetRegistryKind() !== 'wharf' ? 'policies are Wharf\'s own' : missingToolReason(['skopeo', 'umoci']) ?? false;
const PULL_FREEZE = 'package wharf.freeze\n\ndeny contains {"msg": "pulls from frozen/ are suspended", "code": "FROZEN"} if startswith(input.artifact.repository, "frozen/")\n';

describe('skopeo against policies', { skip }, () => {
  let sandbox: ToolSandbox;
  let wharf: RunningRegistry;
  let layout: string;
  const put = async (name: string, body: unknown) => {
    const response = await fetch(`${wharf.url}/api/v1/policies/${name}`, { method: 'PUT', body: JSON.stringify(body) });
    assert.equal(response.status, 201, await response.text());
  };
  const push = (target: string) => skopeo(sandbox, ['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${wharf.host}/${target}`]);

  before(async () => {
    wharf = await startWharf();
    sandbox = await createToolSandbox();
    layout = join(sandbox.dir, 'layout');
    await initLayout(sandbox, layout);
    await buildUmociImage(sandbox, layout, 'v1', 'amd64');
    const noLatest = await readFile(join(REPO_ROOT, 'policies', 'no-latest', 'policy.rego'), 'utf8');
    await put('no-latest', { package: 'wharf.policies.no_latest', modules: [{ file: 'no-latest.rego', source: noLatest }], binding: { points: ['push'] } });
    await put('freeze', { package: 'wharf.freeze', modules: [{ file: 'freeze.rego', source: PULL_FREEZE }], binding: { points: ['pull'] } });
  });
  after(async () => {
    await wharf?.stop();
    await sandbox?.dispose();
  });

  it('refuses a push of :latest with the policy\'s reason, and accepts a versioned tag', async () => {
    await assert.rejects(push('team/app:latest'), /denied.*latest/is);
    await push('team/app:1.0.0');
    const tags = await (await fetch(`${wharf.url}/v2/team/app/tags/list`)).json() as { tags: string[] };
    assert.deepEqual(tags.tags, ['1.0.0'], 'the refused tag was not stored');
  });

  it('refuses pulls that a pull policy denies, and serves the rest', async () => {
    await push('frozen/app:1.0.0');
    await assert.rejects(skopeo(sandbox, ['inspect', '--tls-verify=false', `docker://${wharf.host}/frozen/app:1.0.0`]), /denied|suspended/i);
    await assert.rejects(skopeo(sandbox, ['copy', '--src-tls-verify=false', `docker://${wharf.host}/frozen/app:1.0.0`, `oci:${join(sandbox.dir, 'out')}:x`]), /denied|suspended/i);
    const inspected = JSON.parse(await skopeo(sandbox, ['inspect', '--tls-verify=false', `docker://${wharf.host}/team/app:1.0.0`]));
    assert.match(inspected.Digest, /^sha256:/);
  });
});
