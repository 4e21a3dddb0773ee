/** Checks of configuration values, shared by every key table. Each returns the value or the reason. */
export type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

export function parseBoolean(value: unknown): Parsed {
  if (typeof value === 'boolean') return { ok: true, value };
  if (value === 'true' || value === '1') return { ok: true, value: true };
  if (value === 'false' || value === '0') return { ok: true, value: false };
  return { ok: false, reason: `must be true or false, not ${JSON.stringify(value)}` };
}

export function nonEmptyString(value: unknown): Parsed {
  return typeof value === 'string' && value.trim() !== '' ? { ok: true, value } : { ok: false, reason: 'must be a non-empty string' };
}

export function oneOf(choices: readonly string[]): (value: unknown) => Parsed {
  return (value) => (typeof value === 'string' && choices.includes(value)
    ? { ok: true, value }
    : { ok: false, reason: `must be one of ${choices.join(', ')}, not ${JSON.stringify(value)}` });
}

export function integerAtLeast(minimum: number): (value: unknown) => Parsed {
  return (value) => {
    const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < minimum) {
      return { ok: false, reason: `must be an integer of at least ${minimum}, not ${JSON.stringify(value)}` };
    }
    return { ok: true, value: number };
  };
}
