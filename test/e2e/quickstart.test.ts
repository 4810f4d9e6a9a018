import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The quick start of docs/quickstart-cluster.md, step by step, against a kind cluster made from
// kind-config.yaml: build and load the image, RabbitMQ and Cassandra from test/e2e/manifests/services.yaml,
// helm install, the lookup DataRun, and its outputs compared with the suite's expected files.
// Needs docker, kind, kubectl and helm on PATH and a reachable cluster (KUBECONFIG or the current context);
// otherwise the suite is skipped and says why. Run: npm run test:e2e
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLUSTER = process.env.PLEXUS_KIND_CLUSTER ?? 'plexus';
const DATA = process.env.PLEXUS_KIND_DATA ?? '/tmp/plexus-kind-data';
const SUITES =
  process.env.PLEXUS_CAPILLARIES_TESTS ?? path.resolve(ROOT, '..', 'shared', 'capillaries-tests');
const IMAGE = 'plexus:e2e';
const HELM = process.env.HELM_BIN ?? 'helm';

function missing(): string | undefined {
  const probe = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
  if (probe('docker', ['info']).status !== 0) return '`docker info` fails (no Docker engine)';
  for (const [cmd, args] of [
    ['kind', ['version']],
    ['kubectl', ['version', '--client']],
    [HELM, ['version', '--short']],
  ] as const)
    if (probe(cmd, [...args]).status !== 0) return `${cmd} is not on PATH`;
  if (probe('kubectl', ['cluster-info']).status !== 0)
    return `no reachable cluster (KUBECONFIG=${process.env.KUBECONFIG ?? '(default)'}): kind create cluster --config kind-config.yaml`;
  if (!fs.existsSync(path.join(SUITES, 'lookup'))) return `the Capillaries suites are not at ${SUITES}`;
  return undefined;
}

const reason = missing();
if (reason) console.warn(`e2e skipped: ${reason}`);
const suite = reason ? describe.skip : describe;

const sh = (cmd: string, args: string[], timeout = 600_000) =>
  execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'inherit'] });
const kubectl = (...args: string[]) => sh('kubectl', args);

suite('e2e: quick start on kind', () => {
  beforeAll(() => {
    // 1. example data where kind-config.yaml mounts it
    for (const dir of ['in', 'out']) fs.mkdirSync(path.join(DATA, 'lookup', dir), { recursive: true });
    for (const f of fs.readdirSync(path.join(SUITES, 'lookup', 'in')))
      fs.copyFileSync(path.join(SUITES, 'lookup', 'in', f), path.join(DATA, 'lookup', 'in', f));
    fs.chmodSync(path.join(DATA, 'lookup', 'out'), 0o777);
    // 2. image
    sh('docker', ['build', '-t', IMAGE, '.'], 1_200_000);
    sh('kind', ['load', 'docker-image', IMAGE, '--name', CLUSTER]);
    // 3. RabbitMQ and Cassandra
    kubectl('apply', '-f', 'test/e2e/manifests/services.yaml');
    kubectl('-n', 'plexus-deps', 'rollout', 'status', 'statefulset/rabbitmq', '--timeout=5m');
    kubectl('-n', 'plexus-deps', 'rollout', 'status', 'statefulset/cassandra', '--timeout=10m');
    // 4. Plexus
    sh(HELM, [
      'upgrade',
      '--install',
      'plexus',
      'helm/plexus',
      '--namespace',
      'plexus-system',
      '--create-namespace',
      '--set',
      'image.repository=plexus',
      '--set',
      'image.tag=e2e',
      '--set',
      'connections.rabbitmq.url=amqp://plexus:plexus-dev@rabbitmq.plexus-deps.svc:5672/',
      '--set',
      'connections.cassandra.contactPoints=cassandra.plexus-deps.svc:9042',
      '--set',
      'workloadNamespaces[0]=default',
      '--wait',
      '--timeout',
      '5m',
    ]);
  }, 2_400_000);

  it('runs the lookup suite as a DataRun and writes the expected files', () => {
    kubectl('delete', 'datarun', 'lookup-quicktest', '--ignore-not-found', '--wait=true');
    kubectl('apply', '-k', 'examples/lookup/');
    kubectl('wait', '--for=condition=Complete', 'datarun/lookup-quicktest', '--timeout=20m');
    const phase = kubectl('get', 'datarun', 'lookup-quicktest', '-o', 'jsonpath={.status.phase}');
    expect(phase).toBe('Succeeded');
    const trim = (text: string) =>
      text
        .split('\n')
        .map((l) => l.replace(/\s+$/, ''))
        .join('\n')
        .trimEnd();
    for (const f of fs.readdirSync(path.join(SUITES, 'lookup', 'expected'))) {
      const got = fs.readFileSync(path.join(DATA, 'lookup', 'out', f), 'utf8');
      const want = fs.readFileSync(path.join(SUITES, 'lookup', 'expected', f), 'utf8');
      expect({ file: f, same: trim(got) === trim(want) }).toEqual({ file: f, same: true });
    }
  }, 1_500_000);

  it('serves controller metrics', () => {
    const out = kubectl(
      'get',
      '--raw',
      '/api/v1/namespaces/plexus-system/services/http:plexus-metrics:8080/proxy/metrics',
    );
    expect(out).toMatch(/controller_runtime_reconcile_total|process_cpu_seconds_total/);
  }, 60_000);
});
