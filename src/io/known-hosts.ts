import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UserInputError } from '../errors/index.js';

/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): one key per line,
 * `[@marker] hostpatterns keytype base64-key [comment]`. Host patterns are comma lists with `*` and `?`
 * wildcards and `!` negations, `[host]:port` for ports other than 22, or one hashed name `|1|salt|hmac`
 * (HMAC-SHA1 of the name keyed with the salt, as written by `ssh-keygen -H`). `@revoked` keys are refused;
 * `@cert-authority` lines are about host certificates, which this client does not use: they never match.
 */

export interface KnownHostsEntry {
  readonly line: number;
  readonly marker?: 'revoked' | 'cert-authority';
  readonly hosts: HostMatcher;
  readonly keyType: string;
  readonly key: Buffer;
}

type HostMatcher =
  | { readonly kind: 'patterns'; readonly patterns: readonly string[] }
  | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer };

export type HostKeyCheck =
  | { readonly result: 'match' }
  | { readonly result: 'revoked' }
  /** The host is listed, with other keys (their types). */
  | { readonly result: 'mismatch'; readonly knownTypes: readonly string[] }
  | { readonly result: 'unknown' };

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses a known_hosts file; `source` (the file name) is used in errors, which name the line. */
export function parseKnownHosts(text: string, source: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    const bad = (what: string): UserInputError =>
      new UserInputError('KNOWN_HOSTS_INVALID', `${source}:${i + 1}: ${what}`);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else throw bad(`unknown marker '${m}' (known: @revoked, @cert-authority)`);
    }
    const [hostField, keyType, keyB64] = fields;
    if (!hostField || !keyType || !keyB64) {
      throw bad('expected "hostnames keytype base64-key [comment]"');
    }
    if (!BASE64_RE.test(keyB64)) throw bad(`the key of type ${keyType} is not base64`);
    const key = Buffer.from(keyB64, 'base64');
    // The key blob starts with its own type name: a mangled line fails here, not as a silent mismatch.
    if (blobKeyType(key) !== keyType) throw bad(`the key does not hold a ${keyType} key`);
    let hosts: HostMatcher;
    if (hostField.startsWith('|')) {
      const m = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(hostField);
      if (!m?.[1] || !m[2]) throw bad('a hashed host name must look like |1|salt|hash');
      hosts = { kind: 'hashed', salt: Buffer.from(m[1], 'base64'), hash: Buffer.from(m[2], 'base64') };
    } else {
      hosts = { kind: 'patterns', patterns: hostField.split(',').filter((p) => p !== '') };
    }
    entries.push({ line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** The name a host is listed under: `host` for port 22, `[host]:port` otherwise (lower case). */
export function knownHostName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  // sshd's match_pattern: '*' any run, '?' one character, the rest literal (case-insensitive for hosts)
  const re = new RegExp(
    '^' +
      pattern
        .toLowerCase()
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
        .join('') +
      '$',
    's',
  );
  return re.test(name);
}

function hostMatches(m: HostMatcher, name: string): boolean {
  if (m.kind === 'hashed') {
    const h = createHmac('sha1', m.salt).update(name).digest();
    return h.length === m.hash.length && timingSafeEqual(h, m.hash);
  }
  let matched = false;
  for (const p of m.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/** Checks a host's key (the raw public key blob the server sent) against the file's entries. */
export function checkHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyCheck {
  const name = knownHostName(host, port);
  const listed = entries.filter((e) => e.marker !== 'cert-authority' && hostMatches(e.hosts, name));
  if (listed.some((e) => e.marker === 'revoked' && e.key.equals(key))) return { result: 'revoked' };
  if (listed.some((e) => e.marker === undefined && e.key.equals(key))) return { result: 'match' };
  const knownTypes = [...new Set(listed.filter((e) => e.marker === undefined).map((e) => e.keyType))];
  return knownTypes.length > 0 ? { result: 'mismatch', knownTypes } : { result: 'unknown' };
}

/** The key type named at the start of an SSH public key blob (e.g. ssh-ed25519), or '' when unreadable. */
export function blobKeyType(key: Buffer): string {
  if (key.length < 4) return '';
  const len = key.readUInt32BE(0);
  if (len === 0 || len > 64 || key.length < 4 + len) return '';
  return key.toString('latin1', 4, 4 + len);
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` + unpadded base64 of its SHA-256. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}
