import { X509Certificate } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import type { Agent, fetch as undiciFetch } from 'undici';
import { UserInputError, errorMessage } from '../errors/index.js';

/**
 * https reads that trust extra certificate authorities: Capillaries' `ca_path`, a directory of PEM files
 * whose certificates are added to the default trusted roots (env PLEXUS_CA_PATH). Node's global fetch has no
 * per-request CA option, so these reads go through undici's own fetch with an Agent that carries the roots.
 */

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Every PEM certificate in the regular files of `dir` (symbolic links followed, sub-directories and files
 * without a certificate skipped, e.g. a README or a CRL). A directory without any certificate, or a
 * certificate block that does not parse, is an error naming the file.
 */
export async function loadCaCertificates(dir: string, source = 'PLEXUS_CA_PATH'): Promise<string[]> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such directory'
        : code === 'ENOTDIR'
          ? 'not a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : errorMessage(err);
    throw new UserInputError('CA_PATH_INVALID', `${source}=${dir}: cannot read the CA directory: ${why}`, {
      cause: err,
    });
  }
  const certs: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let text: string;
    try {
      const st = await fsp.stat(file);
      if (!st.isFile()) continue;
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      throw new UserInputError('CA_PATH_INVALID', `${source}: cannot read ${file}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    for (const pem of text.match(PEM_CERT_RE) ?? []) {
      try {
        new X509Certificate(pem);
      } catch (err) {
        throw new UserInputError(
          'CA_PATH_INVALID',
          `${source}: ${file} holds a certificate that does not parse: ${errorMessage(err)}`,
          { cause: err },
        );
      }
      certs.push(pem);
    }
  }
  if (certs.length === 0) {
    throw new UserInputError(
      'CA_PATH_INVALID',
      `${source}=${dir}: the CA directory holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return certs;
}

export interface CustomCaFetch {
  readonly fetch: typeof undiciFetch;
  readonly agent: Agent;
}

/** undici's fetch and an Agent trusting Node's default roots plus the certificates of `dir`. */
export async function customCaFetch(dir: string): Promise<CustomCaFetch> {
  const [certs, undici] = await Promise.all([loadCaCertificates(dir), import('undici')]);
  const agent = new undici.Agent({ connect: { ca: [...tls.rootCertificates, ...certs] } });
  return { fetch: undici.fetch, agent };
}
