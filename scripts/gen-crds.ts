/**
 * Writes crds/*.yaml and docs/api.md from the schemas in src/api.
 *   npm run gen:crds     write the files
 *   npm run check:crds   exit 1 when a committed file differs from what the source generates
 */
import fs from 'node:fs';
import path from 'node:path';
import { generatedFiles } from '../src/api/index.js';

const root = path.resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const { path: rel, content } of generatedFiles()) {
  const file = path.join(root, rel);
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  if (current === content) continue;
  if (check) {
    stale++;
    console.error(`${rel}: ${current === undefined ? 'missing' : 'differs from src/api'}`);
  } else {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    console.log(`wrote ${rel}`);
  }
}
if (stale > 0) {
  console.error(`${stale} generated file(s) out of date: run 'npm run gen:crds' and commit the result`);
  process.exit(1);
}
