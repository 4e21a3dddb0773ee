import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrkDuration, parseWrkReport } from './wrk.ts';

// Shaped like wrk 4.1's output with --latency; the numbers are made up for the test.
function report(extraLines: string[] = []): string {
  return [
    'Running 10s test @ http://127.0.0.1:5000/v2/bench/manifest/manifests/latest',
    '  2 threads and 64 connections',
    '  Thread Stats   Avg      Stdev     Max   +/- Stdev',
    '    Latency     1.50ms  600.00us  20.00ms   90.00%',
    '    Req/Sec    20.00k     1.00k   22.00k    70.00%',
    '  Latency Distribution',
    '     50%    1.40ms',
    '     75%    1.70ms',
    '     90%    2.10ms',
    '     99%    3.25ms',
    '  400000 requests in 10.00s, 300.00MB read',
    ...extraLines,
    'Requests/sec:  39990.12',
    'Transfer/sec:     30.00MB',
  ].join('\n');
}

test('parseWrkDuration converts every wrk unit to milliseconds', () => {
  assert.equal(parseWrkDuration('812.00us'), 0.812);
  assert.equal(parseWrkDuration('3.25ms'), 3.25);
  assert.equal(parseWrkDuration('1.50s'), 1500);
  assert.equal(parseWrkDuration('2.00m'), 120_000);
  assert.throws(() => parseWrkDuration('fast'), /unrecognised/);
});

test('parseWrkReport reads requests/s, the 99th percentile and the request count', () => {
  assert.deepEqual(parseWrkReport(report()), { requestsPerSecond: 39990.12, p99Milliseconds: 3.25, totalRequests: 400000 });
});

test('parseWrkReport rejects runs where the server answered errors', () => {
  assert.throws(() => parseWrkReport(report(['  Non-2xx or 3xx responses: 17'])), /17 non-2xx/);
});

test('parseWrkReport tolerates a few teardown read errors but not dropped requests', () => {
  assert.equal(parseWrkReport(report(['  Socket errors: connect 0, read 12, write 0, timeout 0'])).totalRequests, 400000);
  assert.throws(() => parseWrkReport(report(['  Socket errors: connect 0, read 0, write 0, timeout 900'])), /socket errors/);
});

test('parseWrkReport refuses output without the --latency distribution', () => {
  assert.throws(() => parseWrkReport('Requests/sec: 10\n'), /could not parse/);
});
