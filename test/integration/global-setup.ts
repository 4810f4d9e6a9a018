import fs from 'node:fs';
import path from 'node:path';

/**
 * Loads test/.services.env (written by test/infra/up.sh) into the environment of every test worker.
 * Self-contained on purpose: jest loads global setup files without the project's moduleNameMapper, so a
 * relative `./services.js` import would not resolve here (requireService() in services.ts reads the same
 * file again in each worker).
 */
export default function globalSetup(): void {
  const file = path.resolve(import.meta.dirname ?? '.', '..', '.services.env');
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && m[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
}
