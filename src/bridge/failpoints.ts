/**
 * Failpoints for crash testing: `PLEXUS_FAILPOINTS=append.torn@5,upload.after-put` makes the process
 * kill itself (SIGKILL, no cleanup) the 5th time an append runs / the first time an upload completed.
 * Read once at start-up; with the variable unset every check is a constant `false`.
 *
 * - `append.torn`: half of an append is written to the active segment, then the process dies.
 * - `commit.after-rename`: a segment was renamed into committed/, nothing after that ran.
 * - `upload.after-put`: S3 confirmed an object, the local segment was not deleted yet.
 */
const spec = parse(process.env.PLEXUS_FAILPOINTS ?? '');
const hits = new Map<string, number>();

function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, at] = item.split('@');
    out.set(name as string, at ? Math.max(1, Number(at) || 1) : 1);
  }
  return out;
}

/** True when the named failpoint fires now (its configured hit count was reached). */
export function failpointFires(name: string): boolean {
  if (spec.size === 0) return false;
  const at = spec.get(name);
  if (at === undefined) return false;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  return n === at;
}

/** Dies at once, as `kill -9` would. */
export function crashNow(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is delivered before this line runs; the loop keeps the type checker honest.
  for (;;) {
    /* unreachable */
  }
}
