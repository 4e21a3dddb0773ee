/** SPDX 2.2/2.3 JSON → the normalised model: one component per package, purl from externalRefs. */
import { arrayField, isObject, stringField } from '../shared/json.ts';
import type { SbomComponent, SbomLimits, SbomParse } from './sbom-model.ts';

const SUPPORTED = ['SPDX-2.2', 'SPDX-2.3'];
const NO_LICENSE = new Set(['NOASSERTION', 'NONE', '']);

function packageLicenses(pkg: Record<string, unknown>): string[] {
  const concluded = stringField(pkg, 'licenseConcluded') ?? '';
  const declared = stringField(pkg, 'licenseDeclared') ?? '';
  const chosen = !NO_LICENSE.has(concluded) ? concluded : declared;
  return NO_LICENSE.has(chosen) ? [] : [chosen];
}

function purlOf(pkg: Record<string, unknown>): string | undefined {
  for (const ref of arrayField(pkg, 'externalRefs')) {
    const type = stringField(ref, 'referenceType')?.toLowerCase();
    const locator = stringField(ref, 'referenceLocator');
    if ((type === 'purl' || type === 'package-url' || type === 'package_url') && locator?.startsWith('pkg:')) return locator;
  }
  return undefined;
}

export function parseSpdx(document: Record<string, unknown>, limits: SbomLimits): SbomParse {
  const specVersion = stringField(document, 'spdxVersion') ?? '';
  if (!SUPPORTED.includes(specVersion)) return { ok: false, reason: `SPDX version "${specVersion}" is not supported (SPDX-2.2, SPDX-2.3)` };
  const packages = arrayField(document, 'packages');
  if (packages.length > limits.maxComponents) return { ok: false, reason: `SBOM has ${packages.length} packages, over the limit of ${limits.maxComponents} components` };
  const components: SbomComponent[] = [];
  for (const pkg of packages) {
    if (!isObject(pkg)) continue;
    const name = stringField(pkg, 'name');
    if (name === undefined) continue;
    components.push({ name, version: stringField(pkg, 'versionInfo'), purl: purlOf(pkg), licenses: packageLicenses(pkg) });
  }
  return {
    ok: true,
    sbom: { format: 'spdx', specVersion, subject: stringField(document, 'name'), components, dependencyCount: arrayField(document, 'relationships').length },
  };
}
