/** CycloneDX 1.4–1.6 JSON → the normalised model, nested components flattened. */
import { arrayField, isObject, objectField, stringField } from '../shared/json.ts';
import type { SbomComponent, SbomLimits, SbomParse } from './sbom-model.ts';

const SUPPORTED = ['1.2', '1.3', '1.4', '1.5', '1.6'];

function licenses(component: unknown): string[] {
  const found: string[] = [];
  for (const entry of arrayField(component, 'licenses')) {
    const expression = stringField(entry, 'expression');
    const license = objectField(entry, 'license');
    const value = expression ?? stringField(license, 'id') ?? stringField(license, 'name');
    if (value) found.push(value);
  }
  return found;
}

export function parseCycloneDx(document: Record<string, unknown>, limits: SbomLimits): SbomParse {
  const specVersion = stringField(document, 'specVersion') ?? '';
  if (!SUPPORTED.includes(specVersion)) return { ok: false, reason: `CycloneDX specVersion "${specVersion}" is not supported (1.4–1.6)` };
  const components: SbomComponent[] = [];
  // Iterative walk: nesting depth is attacker-controlled, the stack is not.
  const pending: unknown[] = [...arrayField(document, 'components')].reverse();
  while (pending.length > 0) {
    const component = pending.pop();
    if (!isObject(component)) continue;
    if (components.length >= limits.maxComponents) return { ok: false, reason: `SBOM has more than the limit of ${limits.maxComponents} components` };
    const name = stringField(component, 'name');
    if (name !== undefined) {
      const group = stringField(component, 'group');
      components.push({
        name: group ? `${group}/${name}` : name,
        version: stringField(component, 'version'),
        purl: stringField(component, 'purl'),
        licenses: licenses(component),
      });
    }
    pending.push(...[...arrayField(component, 'components')].reverse());
  }
  const metadataComponent = objectField(objectField(document, 'metadata'), 'component');
  const subjectName = stringField(metadataComponent, 'name');
  const subjectVersion = stringField(metadataComponent, 'version');
  return {
    ok: true,
    sbom: {
      format: 'cyclonedx', specVersion, components,
      subject: subjectName ? (subjectVersion ? `${subjectName}@${subjectVersion}` : subjectName) : undefined,
      dependencyCount: arrayField(document, 'dependencies').length,
    },
  };
}
