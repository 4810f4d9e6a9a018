import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DataRun } from '../../../src/api/index.js';
import { readSftpWithRunKeys, SpecError, withRunSftpReader } from '../../../src/operator/datarun/index.js';
import { SECRETS, type KubeObject } from '../../../src/operator/index.js';
import { silentLogger } from '../../../src/obs/index.js';
import { FakeKube } from '../../unit/operator/fake-kube.js';
import { requireService } from '../services.js';

// The DataRun controller reads the sftp:// files a script names (tag criteria, Python code) with the keys
// of the run's SFTP Secret, against the harness' real sshd; the Secret itself is in an in-memory KubeClient.
const HOST = requireService('SFTP_HOST');
const PORT = requireService('SFTP_PORT');
const USER = requireService('SFTP_USER');
const KEY = requireService('SFTP_PRIVATE_KEY');
const KNOWN_HOSTS = requireService('SFTP_KNOWN_HOSTS');
const ROOT = requireService('SFTP_ROOT');

const dir = path.join(ROOT, `keys-${process.pid}-${randomBytes(4).toString('hex')}`);
const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

function dataRun(secret: string): DataRun {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'DataRun',
    metadata: { name: 'tags', namespace: 'data', uid: 'u', generation: 1 },
    spec: {
      script: { inline: '{}' },
      startNodes: ['a'],
      connections: { sftp: { secretRef: { name: secret } } },
    },
  };
}

const keyDirs = (): string[] => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('plexus-sftp-keys-'));

beforeAll(async () => {
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'criteria.json'), '{"boys": "re.MatchString(`boy`, r.name)"}\n');
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

test("reads with the Secret's key and known_hosts, and leaves no key file behind", async () => {
  const kube = new FakeKube();
  kube.put(SECRETS, {
    metadata: { name: 'sftp-keys', namespace: 'data' },
    data: { [USER]: b64(await fsp.readFile(KEY)), known_hosts: b64(await fsp.readFile(KNOWN_HOSTS)) },
  } as KubeObject);
  const before = keyDirs();
  const url = `sftp://${USER}@${HOST}:${PORT}${dir}/criteria.json`;
  expect(await readSftpWithRunKeys(kube, dataRun('sftp-keys'), url, silentLogger())).toBe(
    '{"boys": "re.MatchString(`boy`, r.name)"}\n',
  );
  // a missing file and a user without a key in the Secret are user errors naming the URL
  await expect(
    readSftpWithRunKeys(kube, dataRun('sftp-keys'), `sftp://${USER}@${HOST}:${PORT}${dir}/nope.json`),
  ).rejects.toMatchObject({ name: 'UserInputError', code: 'SFTP_NO_SUCH_FILE' });
  await expect(
    readSftpWithRunKeys(kube, dataRun('sftp-keys'), `sftp://other@${HOST}:${PORT}${dir}/criteria.json`),
  ).rejects.toMatchObject({ name: 'UserInputError', code: 'SFTP_NO_KEY' });
  expect(keyDirs()).toEqual(before);
});

test('reads of one scope share the keys, written once and removed when the scope ends', async () => {
  const kube = new FakeKube();
  kube.put(SECRETS, {
    metadata: { name: 'shared-keys', namespace: 'data' },
    data: { [USER]: b64(await fsp.readFile(KEY)), known_hosts: b64(await fsp.readFile(KNOWN_HOSTS)) },
  } as KubeObject);
  await fsp.writeFile(path.join(dir, 'code.py'), 'x = 1\n');
  const before = keyDirs();
  const texts = await withRunSftpReader(kube, dataRun('shared-keys'), async (read) => {
    const got = [
      await read(`sftp://${USER}@${HOST}:${PORT}${dir}/criteria.json`),
      await read(`sftp://${USER}@${HOST}:${PORT}${dir}/code.py`),
    ];
    expect(keyDirs().length).toBe(before.length + 1);
    return got;
  });
  expect(texts).toEqual(['{"boys": "re.MatchString(`boy`, r.name)"}\n', 'x = 1\n']);
  expect(keyDirs()).toEqual(before);
});

test('a known_hosts in the Secret that does not list the server refuses it', async () => {
  const kube = new FakeKube();
  kube.put(SECRETS, {
    metadata: { name: 'strict', namespace: 'data' },
    data: {
      [USER]: b64(await fsp.readFile(KEY)),
      known_hosts: b64(
        'elsewhere.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPiZRnWMO1EBxgHTaUPxWSmBIJpfvCBCN/9Cz0CBg/2Z\n',
      ),
    },
  } as KubeObject);
  await expect(
    readSftpWithRunKeys(kube, dataRun('strict'), `sftp://${USER}@${HOST}:${PORT}${dir}/criteria.json`),
  ).rejects.toMatchObject({ name: 'UserInputError', code: 'SFTP_HOST_KEY_UNKNOWN' });
});

test('a missing Secret is a SpecError naming the field', async () => {
  const err = await readSftpWithRunKeys(new FakeKube(), dataRun('gone'), `sftp://${USER}@${HOST}/x`).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpecError);
  expect((err as Error).message).toBe('spec.connections.sftp.secretRef: Secret gone not found in data');
});
