import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SUPPLY_CHAIN_CONFIG, SUPPLY_CHAIN_KEYS, supplyChainSettings } from './supplychain-keys.ts';

describe('supply-chain configuration keys', () => {
  it('every default parses to itself and matches the nested defaults', () => {
    for (const [key, spec] of Object.entries(SUPPLY_CHAIN_KEYS)) {
      const parsed = spec.parse(spec.default);
      assert.deepEqual(parsed, { ok: true, value: spec.default }, key);
      const path = key.split('.').slice(1);
      const nested = path.reduce<unknown>((value, part) => (value as Record<string, unknown>)[part], DEFAULT_SUPPLY_CHAIN_CONFIG);
      assert.equal(nested, spec.default, key);
    }
  });
  it('parses environment-style strings and refuses nonsense with a reason', () => {
    assert.deepEqual(SUPPLY_CHAIN_KEYS['supplychain.sbom.maxBytes'].parse('2048'), { ok: true, value: 2048 });
    assert.equal(SUPPLY_CHAIN_KEYS['supplychain.sbom.maxBytes'].parse('10').ok, false);
    assert.deepEqual(SUPPLY_CHAIN_KEYS['supplychain.enabled'].parse('false'), { ok: true, value: false });
    assert.equal(SUPPLY_CHAIN_KEYS['supplychain.enabled'].parse('maybe').ok, false);
  });
  it('reads partial nested settings defensively', () => {
    const settings = supplyChainSettings({ supplychain: { sbom: { maxBytes: 4096 } } });
    assert.equal(settings.sbom.maxBytes, 4096);
    assert.equal(settings.sbom.maxComponents, DEFAULT_SUPPLY_CHAIN_CONFIG.sbom.maxComponents);
    assert.deepEqual(supplyChainSettings({}), DEFAULT_SUPPLY_CHAIN_CONFIG);
  });
});
