/** Which extensions a configuration turns on, in the order they start. */
import { identityExtension } from '../auth/identity-extension.ts';
import type { WharfConfig } from '../config/config.ts';
import type { Extension } from './extension.ts';

export function extensionsFor(config: WharfConfig): Extension[] {
  const extensions: Extension[] = [];
  if (config.auth.enabled) extensions.push(identityExtension);
  return extensions;
}
