/**
 * `# METADATA` comment blocks: the YAML that follows the marker is parsed and attached to
 * the rule (or package) declared on the line right after the block.
 */
import { parse as parseYaml } from 'yaml';
import type { Annotations, Module } from '../ast.ts';
import type { Comment } from '../lexer.ts';
import { RegoError } from '../errors.ts';

export function attachAnnotations(module: Module, comments: Comment[]): void {
  for (let i = 0; i < comments.length; i++) {
    if (comments[i].text.trim() !== 'METADATA') continue;
    const marker = comments[i];
    const lines: string[] = [];
    let lastRow = marker.loc.row;
    let j = i + 1;
    while (j < comments.length && comments[j].loc.row === lastRow + 1) {
      lines.push(comments[j].text.startsWith(' ') ? comments[j].text.slice(1) : comments[j].text);
      lastRow = comments[j].loc.row;
      j++;
    }
    i = j - 1;
    let data: unknown;
    try {
      data = parseYaml(lines.join('\n')) ?? {};
    } catch (e) {
      throw RegoError.single('rego_parse_error', `yaml: ${(e as Error).message}`, marker.loc);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw RegoError.single('rego_parse_error', 'invalid metadata block', marker.loc);
    }
    const record = data as Record<string, unknown>;
    const target = module.rules.find((r) => r.loc.row > lastRow);
    const beforePackage = module.packageLoc.row > lastRow;
    const scope = typeof record.scope === 'string' ? record.scope : beforePackage ? 'package' : 'rule';
    const annotations: Annotations = { scope, data: record, loc: marker.loc };
    module.annotations.push(annotations);
    if (!beforePackage && target && (scope === 'rule' || scope === 'document')) target.annotations = annotations;
  }
}
