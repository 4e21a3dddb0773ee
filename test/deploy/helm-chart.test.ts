// deploy/helm/wharf and deploy/Containerfile, checked without helm (Debian does not package it and
// nothing else may be fetched here). The chart's templates keep to a small subset of Helm's
// template language (values, quote, include, nindent, toYaml, trunc, trimSuffix, printf, `with`),
// which `renderSubset` below implements, so every template is rendered with the chart's values
// and parsed as YAML. This is not `helm template`: a construct outside the subset fails the test
// instead of being checked, and `helm lint` should still be run where helm is available.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { CONFIG_KEYS } from '../../src/config/keys.ts';
import { envName } from '../../src/config/config.ts';
import { REPO_ROOT } from '../e2e/harness.ts';

const CHART = join(REPO_ROOT, 'deploy', 'helm', 'wharf');

type Scope = { Values: Record<string, unknown>; Release: { Name: string }; Chart: { Name: string } };

function lookup(scope: Scope, path: string): unknown {
  let value: unknown = scope;
  for (const part of path.replace(/^\./, '').split('.')) {
    if (value === null || typeof value !== 'object' || !(part in value)) throw new Error(`template refers to ${path}, which is not set`);
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function evaluate(expression: string, scope: Scope, helpers: Map<string, string>): string {
  const [head, ...pipes] = expression.split('|').map((part) => part.trim());
  let value: unknown;
  let match: RegExpExecArray | null;
  if ((match = /^include "([^"]+)" \.$/.exec(head!)) !== null) {
    const body = helpers.get(match[1]!);
    if (body === undefined) throw new Error(`no template ${match[1]}`);
    value = render(body, scope, helpers);
  } else if ((match = /^printf "([^"]*)"((?: \.\S+)+)$/.exec(head!)) !== null) {
    const args = match[2]!.trim().split(' ').map((arg) => String(lookup(scope, arg)));
    value = match[1]!.replace(/%s/g, () => args.shift() ?? '');
  } else if ((match = /^toYaml (\.\S+)$/.exec(head!)) !== null) {
    value = stringify(lookup(scope, match[1]!)).trimEnd();
  } else if (/^\.\S+$/.test(head!)) {
    value = lookup(scope, head!);
  } else {
    throw new Error(`template construct outside the tested subset: {{ ${expression} }}`);
  }
  for (const pipe of pipes) {
    const [name, arg] = pipe.split(' ');
    if (name === 'quote') value = JSON.stringify(String(value));
    else if (name === 'nindent') value = '\n' + String(value).split('\n').map((line) => ' '.repeat(Number(arg)) + line).join('\n');
    else if (name === 'trunc') value = String(value).slice(0, Number(arg));
    else if (name === 'trimSuffix') value = String(value).replace(new RegExp(`${JSON.parse(arg!).replace(/[-]/g, '\\-')}$`), '');
    else throw new Error(`template function outside the tested subset: ${pipe}`);
  }
  return String(value);
}

function render(template: string, scope: Scope, helpers: Map<string, string>): string {
  // `with X`…`end`: dropped when X is empty, else its body with `.` standing for X.
  const withBlocks = template.replace(/\{\{-? with (\.\S+) -?\}\}([\s\S]*?)\{\{-? end -?\}\}/g, (_, path: string, body: string) => {
    const value = lookup(scope, path);
    const empty = value === undefined || value === null || value === false || (Array.isArray(value) && value.length === 0)
      || (typeof value === 'object' && Object.keys(value).length === 0);
    return empty ? '' : body.replace(/ \. /g, ` ${path} `);
  });
  return withBlocks.replace(/(\s*)\{\{(-?)\s*(.*?)\s*(-?)\}\}(\s*)/g, (_, before: string, trimBefore: string, expression: string, trimAfter: string, after: string) =>
    (trimBefore === '-' ? '' : before) + evaluate(expression, scope, helpers) + (trimAfter === '-' ? '' : after));
}

async function renderChart(values: Record<string, unknown>): Promise<Map<string, Record<string, any>>> {
  const helpers = new Map<string, string>();
  const helperText = await readFile(join(CHART, 'templates', '_helpers.tpl'), 'utf8');
  for (const match of helperText.matchAll(/\{\{- define "([^"]+)" -\}\}\n([\s\S]*?)\n\{\{- end -\}\}/g)) helpers.set(match[1]!, match[2]!);
  const chart = parse(await readFile(join(CHART, 'Chart.yaml'), 'utf8')) as { name: string };
  const scope: Scope = { Values: values, Release: { Name: 'prod' }, Chart: { Name: chart.name } };
  const rendered = new Map<string, Record<string, any>>();
  for (const file of (await readdir(join(CHART, 'templates'))).filter((name) => name.endsWith('.yaml'))) {
    const text = render(await readFile(join(CHART, 'templates', file), 'utf8'), scope, helpers);
    for (const document of parseAllDocuments(text)) {
      assert.deepEqual(document.errors, [], `${file}:\n${text}`);
      const object = document.toJS() as Record<string, any>;
      rendered.set(object.kind, object);
    }
  }
  return rendered;
}

async function chartValues(): Promise<Record<string, any>> {
  return parse(await readFile(join(CHART, 'values.yaml'), 'utf8')) as Record<string, any>;
}

describe('the Helm chart deploy/helm/wharf', () => {
  test('Chart.yaml has the fields Helm requires (apiVersion v2, name, a SemVer version)', async () => {
    const chart = parse(await readFile(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'wharf');
    assert.match(String(chart.version), /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    assert.equal(typeof chart.appVersion, 'string');
  });

  test('renders a Deployment, a Service and a PodDisruptionBudget that select the same pods', async () => {
    const rendered = await renderChart(await chartValues());
    assert.deepEqual([...rendered.keys()].sort(), ['Deployment', 'PodDisruptionBudget', 'Service']);
    const deployment = rendered.get('Deployment')!;
    const labels = deployment.spec.template.metadata.labels;
    assert.deepEqual(deployment.spec.selector.matchLabels, labels);
    assert.deepEqual(rendered.get('Service')!.spec.selector, labels);
    assert.deepEqual(rendered.get('PodDisruptionBudget')!.spec.selector.matchLabels, labels);
    assert.equal(rendered.get('PodDisruptionBudget')!.apiVersion, 'policy/v1');
    assert.equal(deployment.metadata.name, 'prod-wharf');
    assert.equal(deployment.spec.replicas, 3);
  });

  test('each replica: probes on /healthz and /readyz, resources, an emptyDir data folder', async () => {
    const deployment = (await renderChart(await chartValues())).get('Deployment')!;
    const [container] = deployment.spec.template.spec.containers;
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.resources.requests.memory, '256Mi');
    const dataArg = container.args[container.args.indexOf('--data') + 1];
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dataArg);
    const volume = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
    assert.ok(volume.emptyDir, 'the data folder is an emptyDir');
  });

  test('the PostgreSQL URL and S3 credentials come from Secrets; every WHARF_ variable names a real setting', async () => {
    const values = await chartValues();
    values.extraEnv = [{ name: 'WHARF_AUTH_ENABLED', value: 'true' }];
    const [container] = (await renderChart(values)).get('Deployment')!.spec.template.spec.containers;
    const env = new Map<string, { value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>(
      container.env.map((entry: { name: string }) => [entry.name, entry]));
    assert.deepEqual(env.get('WHARF_METADATA_POSTGRES_URL')?.valueFrom?.secretKeyRef, { name: 'wharf-postgres', key: 'url' });
    assert.deepEqual(env.get('WHARF_STORAGE_S3_SECRET_KEY')?.valueFrom?.secretKeyRef, { name: 'wharf-s3', key: 'secretKey' });
    assert.equal(env.get('WHARF_STORAGE_BACKEND')?.value, 's3');
    assert.equal(env.get('WHARF_AUTH_ENABLED')?.value, 'true', 'extraEnv is passed through');
    const known = new Set(Object.keys(CONFIG_KEYS).map(envName));
    for (const name of env.keys()) assert.ok(known.has(name), `${name} is not a Wharf setting`);
  });
});

describe('deploy/Containerfile', () => {
  test('builds from the base given as ARG BASE, installs production dependencies and runs bin/wharf serve', async () => {
    const lines = (await readFile(join(REPO_ROOT, 'deploy', 'Containerfile'), 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(lines[0], 'ARG BASE');
    assert.equal(lines[1], 'FROM ${BASE}');
    assert.ok(lines.some((line) => /^RUN npm ci --omit=dev\b/.test(line)));
    assert.ok(lines.includes('ENTRYPOINT ["/opt/wharf/bin/wharf", "serve"]'));
    // What bin/wharf runs must be in the image.
    for (const path of ['bin', 'src']) assert.ok(lines.some((line) => line.startsWith(`COPY ${path} `)), path);
  });
});
