import { TransientError, UserInputError } from '../../../src/errors/index.js';
import { parsePrivateKeys, sftpSettingsFromEnv } from '../../../src/io/index.js';
import { sftpError, sftpReplace } from '../../../src/io/sftp.js';

describe('parsePrivateKeys', () => {
  test('user=path lists', () => {
    expect(parsePrivateKeys('alice=/keys/alice')).toEqual({ alice: '/keys/alice' });
    expect(parsePrivateKeys(' alice = /keys/a , bob=/keys/b=c,, ')).toEqual({
      alice: '/keys/a',
      bob: '/keys/b=c',
    });
    expect(parsePrivateKeys('')).toEqual({});
  });

  test('JSON objects', () => {
    expect(parsePrivateKeys('{"alice": "/keys/alice", "svc.user": "k/relative"}')).toEqual({
      alice: '/keys/alice',
      'svc.user': 'k/relative',
    });
  });

  test('bad maps name the variable and the entry', () => {
    expect(() => parsePrivateKeys('alice')).toThrow(
      "PLEXUS_SFTP_PRIVATE_KEYS: 'alice' is not user=keyfile (expected e.g. alice=/keys/alice,bob=/keys/bob, or a JSON object)",
    );
    expect(() => parsePrivateKeys('=/k')).toThrow(/'=\/k' is not user=keyfile/);
    expect(() => parsePrivateKeys('a=/k1,a=/k2')).toThrow(
      "PLEXUS_SFTP_PRIVATE_KEYS: user 'a' is given twice",
    );
    expect(() => parsePrivateKeys('{"a": 1}')).toThrow(
      "PLEXUS_SFTP_PRIVATE_KEYS: the key file of user 'a' must be a non-empty string (a path)",
    );
    expect(() => parsePrivateKeys('{"a": "/k"')).toThrow(/PLEXUS_SFTP_PRIVATE_KEYS: not valid JSON/);
    expect(() => parsePrivateKeys('{"a": "/k"}'.replace('{', '['), 'private_keys')).toThrow(UserInputError);
    expect(() => parsePrivateKeys('{"": "/k"}')).toThrow('PLEXUS_SFTP_PRIVATE_KEYS: an empty user name');
  });
});

test('SFTP settings from the environment', () => {
  expect(
    sftpSettingsFromEnv({
      PLEXUS_SFTP_PRIVATE_KEYS: 'alice=/keys/alice',
      PLEXUS_SFTP_KNOWN_HOSTS: '/etc/ssh/ssh_known_hosts',
      PLEXUS_SFTP_CONNECT_TIMEOUT_MS: '5000',
    }),
  ).toEqual({
    privateKeys: { alice: '/keys/alice' },
    knownHosts: '/etc/ssh/ssh_known_hosts',
    connectTimeoutMs: 5000,
  });
  expect(sftpSettingsFromEnv({})).toEqual({
    privateKeys: undefined,
    knownHosts: undefined,
    connectTimeoutMs: undefined,
  });
  expect(() => sftpSettingsFromEnv({ PLEXUS_SFTP_CONNECT_TIMEOUT_MS: '5s' })).toThrow(
    "PLEXUS_SFTP_CONNECT_TIMEOUT_MS: '5s' is not a positive whole number of milliseconds",
  );
});

describe('sftpError', () => {
  const url = 'sftp://u@h/data/x.csv';
  const sftpStatus = (code: number, message: string): Error => Object.assign(new Error(message), { code });

  test('SFTP status codes', () => {
    expect(sftpError(url, 'read', sftpStatus(2, 'No such file'))).toMatchObject({
      name: 'UserInputError',
      code: 'SFTP_NO_SUCH_FILE',
      message: `cannot read ${url}: no such file or directory`,
    });
    expect(sftpError(url, 'write', sftpStatus(3, 'Permission denied'))).toMatchObject({
      name: 'UserInputError',
      code: 'SFTP_PERMISSION_DENIED',
      message: `cannot write ${url}: permission denied`,
    });
    expect(sftpError(url, 'read', sftpStatus(7, 'Connection lost'))).toBeInstanceOf(TransientError);
    expect(sftpError(url, 'read', sftpStatus(8, 'Unsupported'))).toBeInstanceOf(UserInputError);
    expect(sftpError(url, 'write', sftpStatus(4, 'Failure')).message).toBe(
      `cannot write ${url}: the SFTP server reported: Failure`,
    );
  });

  test('network trouble is transient, an unknown host is not', () => {
    const net = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']) {
      expect(sftpError(url, 'read', net(code))).toMatchObject({
        name: 'TransientError',
        message: `cannot read ${url}: ${code}`,
      });
    }
    expect(sftpError(url, 'read', net('ENOTFOUND'))).toMatchObject({
      name: 'UserInputError',
      message: `cannot read ${url}: unknown host (ENOTFOUND)`,
    });
    const timeout = Object.assign(new Error('Timed out while waiting for handshake'), {
      level: 'client-timeout',
    });
    expect(sftpError(url, 'read', timeout)).toMatchObject({
      name: 'TransientError',
      code: 'SFTP_TIMEOUT',
      message: `cannot read ${url}: timed out (Timed out while waiting for handshake)`,
    });
    expect(sftpError(url, 'read', new Error('No response from server'))).toBeInstanceOf(TransientError);
  });

  test('typed errors pass through unchanged', () => {
    const e = new UserInputError('X', 'already typed');
    expect(sftpError(url, 'read', e)).toBe(e);
  });
});

describe('sftpReplace', () => {
  type Cb = (err?: Error | null) => void;
  const noSuchFile = (): Error => Object.assign(new Error('No such file'), { code: 2 });

  test('uses posix-rename@openssh.com when the server offers it', async () => {
    const calls: string[] = [];
    const sftp = {
      ext_openssh_rename: (a: string, b: string, cb: Cb) => {
        calls.push(`posix-rename ${a} ${b}`);
        cb();
      },
    };
    await sftpReplace(sftp as never, '/d/.x.tmp', '/d/x');
    expect(calls).toEqual(['posix-rename /d/.x.tmp /d/x']);
  });

  test('without the extension: removes the target (if any), then renames', async () => {
    const calls: string[] = [];
    const make = (targetExists: boolean) => ({
      ext_openssh_rename: () => {
        throw new Error('Server does not support this extended request');
      },
      unlink: (p: string, cb: Cb) => {
        calls.push(`unlink ${p}`);
        cb(targetExists ? null : noSuchFile());
      },
      rename: (a: string, b: string, cb: Cb) => {
        calls.push(`rename ${a} ${b}`);
        cb();
      },
    });
    await sftpReplace(make(true) as never, '/d/.x.tmp', '/d/x');
    await sftpReplace(make(false) as never, '/d/.y.tmp', '/d/y');
    expect(calls).toEqual(['unlink /d/x', 'rename /d/.x.tmp /d/x', 'unlink /d/y', 'rename /d/.y.tmp /d/y']);
  });

  test('an error of the rename itself is passed on', async () => {
    const sftp = {
      ext_openssh_rename: (_a: string, _b: string, cb: Cb) =>
        cb(Object.assign(new Error('Permission denied'), { code: 3 })),
    };
    await expect(sftpReplace(sftp as never, '/d/.x.tmp', '/d/x')).rejects.toMatchObject({ code: 3 });
  });
});
