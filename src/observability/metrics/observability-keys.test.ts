import { it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../config/config.ts';

it('reads the metrics and tracing keys, defaulting to metrics on and tracing off', () => {
  const defaults = loadConfig({ env: {} });
  assert.deepEqual(defaults.metrics, { enabled: true, listen: '', token: '' });
  assert.deepEqual(defaults.tracing, { otlpEndpoint: '', serviceName: 'wharf' });
  const given = loadConfig({ env: { WHARF_METRICS_LISTEN: '[::1]:9464', WHARF_METRICS_TOKEN: ' t0ken ', WHARF_TRACING_OTLP_ENDPOINT: 'http://collector:4318' } });
  assert.deepEqual(given.metrics, { enabled: true, listen: '[::1]:9464', token: 't0ken' });
  assert.equal(given.tracing.otlpEndpoint, 'http://collector:4318/v1/traces', 'a collector\'s base address means its traces path');
});

it('refuses a metrics listener that is no HOST:PORT and an endpoint that is no http(s) URL, naming the key', () => {
  assert.throws(() => loadConfig({ env: { WHARF_METRICS_LISTEN: 'localhost' } }), /config key metrics\.listen .*HOST:PORT/);
  assert.throws(() => loadConfig({ env: { WHARF_METRICS_LISTEN: '127.0.0.1:70000' } }), /metrics\.listen/);
  assert.throws(() => loadConfig({ env: { WHARF_TRACING_OTLP_ENDPOINT: 'grpc://collector:4317' } }), /config key tracing\.otlpEndpoint .*http\(s\) URL/);
  assert.throws(() => loadConfig({ env: { WHARF_TRACING_OTLP_ENDPOINT: 'not a url' } }), /tracing\.otlpEndpoint/);
});
