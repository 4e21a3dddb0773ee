/**
 * Which extensions a configuration turns on, in the order they start (an extension may use those
 * started before it). Each is loaded only when turned on, so a registry without authentication
 * never loads the JWT and OIDC code.
 */
import type { WharfConfig } from '../config/config.ts';
import type { Extension } from './extension.ts';

export async function extensionsFor(config: WharfConfig): Promise<Extension[]> {
  const extensions: Extension[] = [];
  if (config.auth.enabled) extensions.push((await import('../auth/identity-extension.ts')).identityExtension);
  if (config.supplychain.enabled) extensions.push((await import('../supplychain/extension.ts')).supplyChainExtension);
  // Before policy: pull gates and admission read TUF facts (input.trust.tuf).
  if (config.tuf.enabled) extensions.push((await import('../tuf/extension.ts')).tufExtension);
  extensions.push((await import('../policy/service/policy-extension.ts')).policyExtension);
  if (config.observability.usage.enabled) extensions.push((await import('../observability/usage-extension.ts')).usageExtension);
  // Last: it observes the services of the extensions started before it.
  if (config.metrics.enabled || config.tracing.otlpEndpoint !== '') extensions.push((await import('../observability/metrics-extension.ts')).metricsExtension);
  return extensions;
}
