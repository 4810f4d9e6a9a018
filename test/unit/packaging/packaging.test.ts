import fs from 'node:fs';
import path from 'node:path';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('passes the dockerfile-utils linter with no problem of any severity', () => {
    const problems = validate(text).map((d) => ({
      line: d.range.start.line + 1,
      severity: d.severity === ValidationSeverity.ERROR ? 'error' : 'warning',
      message: d.message,
    }));
    expect(problems).toEqual([]);
  });

  it('is multi-stage on Node.js slim, runs as a numeric non-root user, has python3, entry point plexus', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms.filter((l) => l.includes('node:')))
      expect(f).toMatch(/node:\$\{NODE_VERSION\}-.*-slim/);
    expect(instructions).toContain('ARG NODE_VERSION=20');
    expect(text).toMatch(/Node\.js 22/);
    expect(instructions.some((l) => /^RUN .*npm ci --omit=dev/.test(l))).toBe(true);
    expect(instructions.some((l) => /^RUN .*apt-get install .*python3/.test(l))).toBe(true);
    const users = instructions.filter((l) => l.startsWith('USER '));
    expect(users.at(-1)).toMatch(/^USER [1-9][0-9]*:[1-9][0-9]*$/);
    const entry = instructions.find((l) => l.startsWith('ENTRYPOINT '));
    expect(entry).toContain('dist/src/cli/main.js');
    // The path the image runs is the CLI the package declares as its bin.
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    expect(entry).toContain(pkg.bin.plexus);
  });

  it('.dockerignore lets in only what the build copies', () => {
    const ignore = read('.dockerignore');
    const copies = instructions
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const src of copies) expect(ignore).toContain(`!${src.replace(/^\.\//, '').replace(/\/?$/, '')}`);
  });
});

describe('helm chart', () => {
  it('ships the CRDs of crds/ unchanged (npm run gen:manifests copies them)', () => {
    const source = fs.readdirSync(path.join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));
    const chart = fs.readdirSync(path.join(ROOT, 'helm/plexus/crds')).filter((f) => f.endsWith('.yaml'));
    expect(chart.sort()).toEqual(source.sort());
    for (const f of source)
      expect({ f, same: read(`helm/plexus/crds/${f}`) === read(`crds/${f}`) }).toEqual({ f, same: true });
  });

  it('values.yaml and the chart metadata are consistent', () => {
    const chart = parse(read('helm/plexus/Chart.yaml')) as {
      version: string;
      appVersion: string;
      name: string;
    };
    const pkg = JSON.parse(read('package.json')) as { version: string };
    expect(chart.name).toBe('plexus');
    expect(chart.appVersion).toBe(pkg.version);
    const values = parse(read('helm/plexus/values.yaml')) as {
      controller: { replicas: number; leaderElection: { enabled: boolean } };
    };
    expect(values.controller.replicas).toBe(1);
    expect(values.controller.leaderElection.enabled).toBe(true);
  });

  it('manifests/install.yaml carries the current CRDs', () => {
    const install = read('manifests/install.yaml');
    for (const f of fs.readdirSync(path.join(ROOT, 'crds')).filter((n) => n.endsWith('.yaml'))) {
      const body = read(`crds/${f}`)
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n')
        .trim();
      expect({ f, included: install.includes(body) }).toEqual({ f, included: true });
    }
  });
});

describe('runtime dependencies', () => {
  // The image installs `dependencies` only (npm ci --omit=dev): everything src/ imports at run time must be there.
  const pkg = JSON.parse(read('package.json')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const files = (dir: string): string[] =>
    fs
      .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
      .flatMap((e) =>
        e.isDirectory()
          ? files(path.join(dir, e.name))
          : e.name.endsWith('.ts')
            ? [path.join(dir, e.name)]
            : [],
      );
  const packageOf = (spec: string): string =>
    spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;

  it('every package src/ imports (statically or dynamically, not type-only) is a production dependency', () => {
    const missing: string[] = [];
    const seen = new Set<string>();
    for (const f of files('src')) {
      const text = read(f);
      const specs = [
        ...[...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^'.][^']*)'/gms)].map((m) => m[1]!),
        ...[...text.matchAll(/^import\s+'([^'.][^']*)'/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/(?<![\w.])import\(\s*'([^'.][^']*)'\s*\)/g)].map((m) => m[1]!),
        ...[...text.matchAll(/^export\s+(?!type\s)[^;]*?from\s+'([^'.][^']*)'/gms)].map((m) => m[1]!),
      ];
      for (const spec of specs) {
        if (spec.startsWith('node:')) continue;
        const name = packageOf(spec);
        seen.add(name);
        if (!(name in pkg.dependencies)) missing.push(`${f}: ${spec}`);
      }
    }
    expect(missing).toEqual([]);
    // the scan sees the imports (static, and the AWS SDK's dynamic one)
    for (const name of ['amqplib', 'cassandra-driver', '@kubernetes/client-node', '@aws-sdk/client-s3'])
      expect(seen).toContain(name);
  });
});
