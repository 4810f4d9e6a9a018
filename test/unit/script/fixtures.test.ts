import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScript, ScriptError, type LoadOptions } from '../../../src/script/index.js';

/**
 * Broken copies of the two suite scripts, each with planted errors; `expected.txt` lists every message the loader
 * must report (one per line, exact text), `warnings.txt` (optional) the warnings of the scripts that load.
 */
const ROOT = join(process.cwd(), 'test/fixtures/scripts');
const cases = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'expected.txt')));

async function readText(url: string): Promise<string> {
  return readFileSync(url, 'utf8');
}

function optionsFor(dir: string): LoadOptions {
  const script = ['script.yaml', 'script.json'].find((f) => existsSync(join(dir, f)));
  const params = ['params.yaml', 'params.json'].find((f) => existsSync(join(dir, f)));
  if (!script) throw new Error(`${dir}: no script.yaml or script.json`);
  const extra = existsSync(join(dir, 'overrides.json'))
    ? (JSON.parse(readFileSync(join(dir, 'overrides.json'), 'utf8')) as Record<string, string>)
    : {};
  const opts: LoadOptions = {
    scriptUrl: join(dir, script),
    overrides: { dir_in: '/data/in', dir_out: '/data/out', dir_cfg: dir, ...extra },
    readText,
  };
  if (params) opts.paramsUrl = join(dir, params);
  return opts;
}

function lines(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
    : [];
}

describe('broken script corpus', () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  it.each(cases)('%s: every planted error is reported with its path', async (name) => {
    const dir = join(ROOT, name);
    const expected = lines(join(dir, 'expected.txt'));
    expect(expected.length).toBeGreaterThan(0);
    let err: unknown;
    try {
      await loadScript(optionsFor(dir));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScriptError);
    const got = (err as ScriptError).problems.map((p) => p.replaceAll(dir, '<case>'));
    expect([...got].sort()).toEqual([...expected].sort());
  });
});
