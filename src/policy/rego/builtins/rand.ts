/** rand.intn: a random integer in [0, n), the same for the same arguments within one query. */
import { randomInt } from 'node:crypto';
import { RNumber } from '../value.ts';
import { int, str } from './operands.ts';
import type { BuiltinDecl, BuiltinFn } from './types.ts';

/** A uniform random bigint in [0, n) by rejection sampling over whole bytes. */
function randomBelow(n: bigint): bigint {
  if (n <= 281474976710655n) return BigInt(randomInt(Number(n)));
  const bytes = Math.ceil(n.toString(16).length / 2);
  const limit = (1n << BigInt(bytes * 8)) - ((1n << BigInt(bytes * 8)) % n);
  for (;;) {
    const r = BigInt(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex')}`);
    if (r < limit) return r % n;
  }
}

const intn: BuiltinFn = (args, ctx) => {
  const text = str(args, 0);
  let n = int(args, 1).toBigInt()!;
  if (n === 0n) return RNumber.ZERO;
  if (n < 0n) n = -n;
  const key = `rand.intn/${text}-${n}`;
  const cached = ctx.cache.get(key);
  if (cached !== undefined) return cached;
  const result = RNumber.of(randomBelow(n));
  ctx.cache.set(key, result);
  return result;
};

export const builtins: BuiltinDecl[] = [
  { name: 'rand.intn', args: ['string', 'number'], result: 'number', nondeterministic: true, fn: intn },
];
