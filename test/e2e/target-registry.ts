// Chooses which registry the end-to-end suite talks to. Wharf by default; setting
// WHARF_E2E_REGISTRY=distribution runs the same tests against Debian's docker-registry, which is
// how the tests themselves are proven correct against the reference implementation.
import { startWharf } from './harness.ts';
import { startReferenceRegistry } from './reference-registry.ts';
import type { RunningRegistry } from './child-lifecycle.ts';

export type RegistryKind = 'wharf' | 'distribution';

export function targetRegistryKind(): RegistryKind {
  const wanted = process.env.WHARF_E2E_REGISTRY ?? 'wharf';
  if (wanted === 'wharf' || wanted === 'distribution') return wanted;
  throw new Error(`WHARF_E2E_REGISTRY must be "wharf" or "distribution", not "${wanted}"`);
}

export function startTargetRegistry(): Promise<RunningRegistry> {
  return targetRegistryKind() === 'distribution' ? startReferenceRegistry() : startWharf();
}
