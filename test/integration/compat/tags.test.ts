import { jest } from '@jest/globals';
import path from 'node:path';
import { COMPAT_DIR, expectOk, readLines, scenario } from './helpers.js';

jest.setTimeout(300_000);

/**
 * global_affairs/portfolio-style pipeline (YAML script): CSV cells holding JSON with "" escapes,
 * tag_and_denormalize with inline criteria (raw-string regexes), py_calc parsing the JSON, non-grouped and
 * grouped left lookups, distinct tags, string min/max, `%.2f`, `having` with a string comparison, top on
 * three string keys (one descending), plain inner and left lookups with a filter and default values. Expected files derived by hand from in/projects.csv.
 */
describe('compat: tagging pipeline', () => {
  test('outputs equal the expected files', async () => {
    const s = scenario('tags');
    try {
      expectOk(await s.run('script.yaml', { startNodes: 'read_projects', param: {} }));
      for (const f of [
        'tag_totals.csv',
        'tagged_projects.csv',
        'project_tags_inner.csv',
        'project_tags_left.csv',
      ]) {
        expect(readLines(path.join(s.out, f))).toEqual(
          readLines(path.join(COMPAT_DIR, 'tags', 'expected', f)),
        );
      }
    } finally {
      s.cleanup();
    }
  });
});
