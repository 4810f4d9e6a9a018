import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { requireService } from '../services.js';

// Smoke test of the harness' helm binary against its kube-apiserver: lint and template a tiny chart, install
// it (a ConfigMap, which needs no kubelet), read the object back, uninstall.
const TIMEOUT = 240_000;
const run = promisify(execFile);
const helm = requireService('HELM_BIN');
const kubeconfig = requireService('PLEXUS_TEST_KUBECONFIG');
const release = `infra-smoke-${randomBytes(4).toString('hex')}`;

describe('infra: helm', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-helm-smoke-'));
  const chart = path.join(dir, 'smoke');
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: path.join(dir, 'cache'),
    HELM_CONFIG_HOME: path.join(dir, 'config'),
    HELM_DATA_HOME: path.join(dir, 'data'),
  };
  const helmRun = (...args: string[]) => run(helm, args, { env, timeout: 150_000 });

  beforeAll(() => {
    fs.mkdirSync(path.join(chart, 'templates'), { recursive: true });
    fs.writeFileSync(
      path.join(chart, 'Chart.yaml'),
      'apiVersion: v2\nname: smoke\ndescription: harness smoke test\ntype: application\nversion: 0.1.0\n',
    );
    fs.writeFileSync(path.join(chart, 'values.yaml'), 'greeting: hello\n');
    fs.writeFileSync(
      path.join(chart, 'templates', 'configmap.yaml'),
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: {{ .Release.Name }}',
        'data:',
        '  greeting: {{ .Values.greeting | quote }}',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await helmRun('uninstall', release, '--namespace', 'default').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }, TIMEOUT);

  it(
    'lints, templates and installs a chart into the test API server',
    async () => {
      const version = await helmRun('version', '--short');
      expect(version.stdout).toMatch(/^v3\./);
      await helmRun('lint', chart);
      const rendered = await helmRun('template', release, chart, '--set', 'greeting=hi');
      expect(rendered.stdout).toContain('greeting: "hi"');

      await helmRun('install', release, chart, '--namespace', 'default', '--wait', '--timeout', '60s');
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const cm = await kc
        .makeApiClient(CoreV1Api)
        .readNamespacedConfigMap({ name: release, namespace: 'default' });
      expect(cm.data).toEqual({ greeting: 'hello' });
      const status = await helmRun('status', release, '--namespace', 'default', '-o', 'json');
      expect((JSON.parse(status.stdout) as { info: { status: string } }).info.status).toBe('deployed');
    },
    TIMEOUT,
  );
});
