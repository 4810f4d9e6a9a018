import {
  checkHostKey,
  hostKeyFingerprint,
  knownHostName,
  parseKnownHosts,
} from '../../../src/io/known-hosts.js';

// Two ed25519 public keys made with ssh-keygen; fingerprints as `ssh-keygen -l` prints them.
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAIPiZRnWMO1EBxgHTaUPxWSmBIJpfvCBCN/9Cz0CBg/2Z';
const K1_FP = 'SHA256:+re0kFK2zUIZxn9KPQa5WhgkdT6QnFUSmrbOzXgOJsU';
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIGLWLluhdZM270lByKHJoAfbCEaglgxBiATwk0tftj8A';
const K2_FP = 'SHA256:jdcbML+zQVort1+f3LAtZXuL2fh3dQb0nnxJiwQfnqE';
const k1 = Buffer.from(K1, 'base64');
const k2 = Buffer.from(K2, 'base64');

test('fingerprints are the ones ssh-keygen -l shows', () => {
  expect(hostKeyFingerprint(k1)).toBe(K1_FP);
  expect(hostKeyFingerprint(k2)).toBe(K2_FP);
});

test('host names: plain for port 22, [host]:port otherwise, lower case', () => {
  expect(knownHostName('Example.ORG', 22)).toBe('example.org');
  expect(knownHostName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
});

test('plain, port-qualified and comma-listed names; other keys for a listed host are a mismatch', () => {
  const entries = parseKnownHosts(
    [
      '# a comment',
      '',
      `example.org,10.0.0.5 ssh-ed25519 ${K1} comment words`,
      `[127.0.0.1]:2222 ssh-ed25519 ${K2}`,
    ].join('\n'),
    'kh',
  );
  expect(checkHostKey(entries, 'example.org', 22, k1)).toEqual({ result: 'match' });
  expect(checkHostKey(entries, 'EXAMPLE.org', 22, k1)).toEqual({ result: 'match' });
  expect(checkHostKey(entries, '10.0.0.5', 22, k1)).toEqual({ result: 'match' });
  expect(checkHostKey(entries, '127.0.0.1', 2222, k2)).toEqual({ result: 'match' });
  // the port is part of the name: 127.0.0.1 on 22 is not listed
  expect(checkHostKey(entries, '127.0.0.1', 22, k2)).toEqual({ result: 'unknown' });
  expect(checkHostKey(entries, 'example.org', 2222, k1)).toEqual({ result: 'unknown' });
  expect(checkHostKey(entries, 'example.org', 22, k2)).toEqual({
    result: 'mismatch',
    knownTypes: ['ssh-ed25519'],
  });
});

test('hashed names written by ssh-keygen -H', () => {
  // `[127.0.0.1]:2222` and `example.org`, both with K1
  const entries = parseKnownHosts(
    [
      `|1|viigpe/eLGichRQSEFtQz/hemwo=|b5UMQgQVk+0LQwSyoTX27olfiPw= ssh-ed25519 ${K1}`,
      `|1|h5k8cl2RNci5c4lg25wFr4AoGiE=|K22FGu/eGrqoJPzxH1frMxB5vpo= ssh-ed25519 ${K1}`,
    ].join('\n'),
    'kh',
  );
  expect(checkHostKey(entries, '127.0.0.1', 2222, k1)).toEqual({ result: 'match' });
  expect(checkHostKey(entries, 'example.org', 22, k1)).toEqual({ result: 'match' });
  expect(checkHostKey(entries, '127.0.0.1', 2222, k2).result).toBe('mismatch');
  expect(checkHostKey(entries, '127.0.0.2', 2222, k1).result).toBe('unknown');
});

test('wildcards, negations, @revoked and @cert-authority', () => {
  const entries = parseKnownHosts(
    [
      `*.example.org,!bad.example.org ssh-ed25519 ${K1}`,
      `host-?? ssh-ed25519 ${K1}`,
      `@revoked * ssh-ed25519 ${K2}`,
      `@cert-authority *.ca.org ssh-ed25519 ${K1}`,
    ].join('\n'),
    'kh',
  );
  expect(checkHostKey(entries, 'a.example.org', 22, k1).result).toBe('match');
  expect(checkHostKey(entries, 'bad.example.org', 22, k1).result).toBe('unknown');
  expect(checkHostKey(entries, 'host-01', 22, k1).result).toBe('match');
  expect(checkHostKey(entries, 'host-001', 22, k1).result).toBe('unknown');
  // a regex character in a name is literal
  expect(checkHostKey(entries, 'aXexample.org', 22, k1).result).toBe('unknown');
  expect(checkHostKey(entries, 'a.example.org', 22, k2).result).toBe('revoked');
  // host certificates are not used: a CA line never accepts a plain host key
  expect(checkHostKey(entries, 'x.ca.org', 22, k1).result).toBe('unknown');
});

test('malformed lines are errors naming the file and line', () => {
  expect(() => parseKnownHosts(`\nexample.org ssh-ed25519`, '/etc/kh')).toThrow(
    '/etc/kh:2: expected "hostnames keytype base64-key [comment]"',
  );
  expect(() => parseKnownHosts(`example.org ssh-ed25519 not*base64`, 'kh')).toThrow(
    'kh:1: the key of type ssh-ed25519 is not base64',
  );
  expect(() => parseKnownHosts(`example.org ssh-rsa ${K1}`, 'kh')).toThrow(
    'kh:1: the key does not hold a ssh-rsa key',
  );
  expect(() => parseKnownHosts(`@trusted example.org ssh-ed25519 ${K1}`, 'kh')).toThrow(
    "kh:1: unknown marker '@trusted'",
  );
  expect(() => parseKnownHosts(`|2|abc|def ssh-ed25519 ${K1}`, 'kh')).toThrow(
    'kh:1: a hashed host name must look like |1|salt|hash',
  );
});
