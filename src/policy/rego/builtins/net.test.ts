import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RNumber, RSet, toJSONText, type Value } from '../value.ts';
import type { BuiltinContext } from './types.ts';
import { builtins } from './net.ts';
import { formatIP, parseCIDR, parseIP } from './net-ip.ts';

const table = new Map(builtins.map((b) => [b.name, b]));
const ctx: BuiltinContext = { nowNs: 0n, cache: new Map(), strict: true };
const call = (name: string, ...args: Value[]): string => toJSONText(table.get(name)!.fn(args, ctx)!);
const merge = (...cidrs: string[]): string => call('net.cidr_merge', cidrs);

test('addresses parse and print like Go net.IP', () => {
  assert.equal(parseIP('01.2.3.4'), undefined); // leading zeros are rejected
  assert.equal(formatIP(parseIP('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIP(parseIP('::ffff:10.0.0.1')!), '10.0.0.1');
  assert.equal(formatIP(parseIP('fe80:0:1::')!), 'fe80:0:1::');
  assert.throws(() => parseCIDR('192.168.1.1/33'), /invalid CIDR address: 192.168.1.1\/33/);
});

test('cidr_contains and cidr_intersects handle networks and addresses in both families', () => {
  assert.equal(call('net.cidr_contains', '10.0.0.0/8', '10.1.0.0/24'), 'true');
  assert.equal(call('net.cidr_contains', '172.17.0.0/24', '172.17.0.0/16'), 'false');
  assert.equal(call('net.cidr_contains', '10.0.0.0/8', '::ffff:10.1.2.3'), 'true');
  assert.equal(call('net.cidr_contains', '2001:4860::/96', '2001:4860::/32'), 'false');
  assert.equal(call('net.cidr_intersects', 'fd1e:5bfe:8af3:9ddc::/64', 'fd1e:5bfe:8af3:9ddc:1111::/72'), 'true');
  assert.throws(() => call('net.cidr_contains', '10.0.0.0/8', 'nope'), /not a valid textual representation/);
});

test('cidr_contains_matches reports keys of matching pairs', () => {
  assert.equal(
    call('net.cidr_contains_matches', [['1.1.2.0/24', RNumber.of(1)], '1.1.1.0/24'], ['1.1.1.1', '1.1.2.1']),
    '[[0,1],[1,0]]',
  );
  assert.throws(
    () => call('net.cidr_contains_matches', ['1.1.1.0/24'], RSet.from([[], '1.1.1.1'])),
    /operand 2: element must be string or non-empty array/,
  );
});

test('cidr_merge joins adjacent and nested networks', () => {
  assert.equal(merge('192.0.2.112/30', '192.0.2.116/31', '192.0.2.118/31'), '["192.0.2.112/29"]');
  assert.equal(merge('192.0.2.112/31', '192.0.2.116/31', '192.0.2.118/31'), '["192.0.2.112/31","192.0.2.116/30"]');
  assert.equal(merge('192.0.128.0/24', '0.0.0.0/0'), '["0.0.0.0/0"]');
  assert.equal(merge('::/0', '::192.0.2.0/124', 'ff00::101/128'), '["::/0"]');
  // Addresses without a prefix get their classful default mask.
  assert.equal(merge('192.0.128.0', '192.0.129.0'), '["192.0.128.0/23"]');
  assert.equal(merge('2601:600::/64', '2601:600::1/128'), '["2601:600::/64"]');
  assert.throws(() => merge('2601:600::1'), /IPv6 invalid: needs prefix length/);
  assert.equal(merge(), '[]');
});

test('cidr_expand lists every address and cidr_is_valid never fails', () => {
  assert.equal(call('net.cidr_expand', '172.16.100.255/30'), '["172.16.100.252","172.16.100.253","172.16.100.254","172.16.100.255"]');
  assert.throws(() => call('net.cidr_expand', '10.0.0.0/8'), /too large/);
  assert.equal(call('net.cidr_is_valid', '2002::1234:abcd:ffff:c0a8:101/64'), 'true');
  assert.equal(call('net.cidr_is_valid', '192.168.1.2'), 'false');
});
