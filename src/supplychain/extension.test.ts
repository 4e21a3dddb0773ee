import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushBlob, pushManifest, pushTestImage, startSupplyChainRegistry, trustDocument } from './testing/supplychain-registry.ts';
import { buildSimpleSigning } from './cosign/simple-signing.ts';
import { cosignTag } from './shared/digest.ts';

describe('supply-chain extension lifecycle', () => {
  it('applies the trust file, keeps results across a restart, and lets an API change survive an unchanged file', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'wharf-sc-life-'));
    const keys = generateKeyPairSync('ed25519');
    const trustFile = join(folder, 'trust.json');
    await writeFile(trustFile, JSON.stringify({ cosign: { keys: [{ name: 'release', publicKey: keys.publicKey.export({ format: 'pem', type: 'spki' }).toString() }] } }));
    const dataDir = join(folder, 'data');
    let registry = await startSupplyChainRegistry({ trustFile }, dataDir);
    let imageDigest: string;
    try {
      const image = await pushTestImage(registry.url, 'life/app', 'v1');
      imageDigest = image.digest;
      const payload = buildSimpleSigning(image.digest, 'localhost/life/app');
      const layer = await pushBlob(registry.url, 'life/app', payload);
      const config = await pushBlob(registry.url, 'life/app', '{}');
      await pushManifest(registry.url, 'life/app', cosignTag(image.digest, 'sig'), {
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...layer, annotations: { 'dev.cosignproject.cosign/signature': sign(null, payload, keys.privateKey).toString('base64') } }],
      });
      await registry.supplyChain.idle();
      const doc = await trustDocument(registry.url, 'life/app', image.digest);
      assert.equal(doc.signatures[0].verified, true, doc.signatures[0].reason);
      assert.match(doc.signatures[0].signer, /release/);
      const trust = await (await fetch(`${registry.url}/api/v1/trust`)).json() as any;
      assert.equal(trust.source, `file:${trustFile}`);
    } finally {
      await registry.close();
    }

    registry = await startSupplyChainRegistry({ trustFile }, dataDir);
    try {
      const service = registry.supplyChain.service;
      const stored = service.index.verdictsOf('life/app', imageDigest, service.trust.version);
      assert.equal(stored.length, 1, 'the verdict was stored, so serving the document needs no verification');
      assert.equal((await trustDocument(registry.url, 'life/app', imageDigest)).signed, true);
      const replaced = await fetch(`${registry.url}/api/v1/trust`, { method: 'PUT', body: JSON.stringify({ cosign: { keys: [] } }) });
      assert.equal(replaced.status, 200);
      await registry.supplyChain.idle();
      assert.equal((await trustDocument(registry.url, 'life/app', imageDigest)).signed, false);
      const same = await (await fetch(`${registry.url}/api/v1/trust`, { method: 'PUT', body: JSON.stringify({ cosign: { keys: [] } }) })).json() as any;
      assert.equal(same.changed, false);
    } finally {
      await registry.close();
    }

    registry = await startSupplyChainRegistry({ trustFile }, dataDir);
    try {
      const trust = await (await fetch(`${registry.url}/api/v1/trust`)).json() as any;
      assert.equal(trust.source, 'api', 'an unchanged trust file does not override the API change');
      assert.equal((await trustDocument(registry.url, 'life/app', imageDigest)).signed, false);
    } finally {
      await registry.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('is inert when disabled: no API and no indexing', async () => {
    const registry = await startSupplyChainRegistry({ enabled: false });
    try {
      const response = await fetch(`${registry.url}/api/v1/trust`);
      assert.equal(response.status, 404);
      await response.arrayBuffer();
    } finally {
      await registry.close();
    }
  });
});
