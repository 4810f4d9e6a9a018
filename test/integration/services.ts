import fs from 'node:fs';
import path from 'node:path';

export const SERVICES_ENV = path.resolve(import.meta.dirname ?? '.', '..', '.services.env');

/** Reads KEY=VALUE lines of test/.services.env into process.env (existing variables win). */
export function loadServicesEnv(file = SERVICES_ENV): void {
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && m[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}

/**
 * The value of a service variable. A missing service is a test failure with a clear message, never a skip:
 * start the services with `bash test/infra/up.sh`.
 */
export function requireService(name: string): string {
  loadServicesEnv();
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `${name} is not set: start the test services with 'bash test/infra/up.sh' (it writes ${SERVICES_ENV})`,
    );
  }
  return v;
}
