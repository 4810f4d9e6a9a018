import { joinPath } from './problems.js';
import { ScriptSchema } from './schema.js';

type SchemaLike = {
  properties?: Record<string, SchemaLike>;
  patternProperties?: Record<string, SchemaLike>;
  items?: SchemaLike;
  oneOf?: SchemaLike[];
  discriminator?: { propertyName: string };
  const?: unknown;
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Paths of keys the script schema does not define (Capillaries ignores them; we warn, since a misspelt optional key
 * silently falls back to its default).
 */
export function unknownKeys(data: unknown, schema: SchemaLike = ScriptSchema as SchemaLike): string[] {
  const out: string[] = [];
  const walk = (s: SchemaLike | undefined, v: unknown, path: (string | number)[]): void => {
    if (!s) return;
    if (s.oneOf && s.discriminator && isObject(v)) {
      const tag = v[s.discriminator.propertyName];
      const branch = s.oneOf.find((b) => b.properties?.[s.discriminator?.propertyName ?? '']?.const === tag);
      walk(branch, v, path);
      return;
    }
    if (Array.isArray(v) && s.items) {
      v.forEach((x, i) => walk(s.items, x, [...path, i]));
      return;
    }
    if (!isObject(v)) return;
    if (s.properties) {
      for (const [k, x] of Object.entries(v)) {
        const sub = s.properties[k];
        if (sub) walk(sub, x, [...path, k]);
        else out.push(joinPath(...path, k));
      }
      return;
    }
    if (s.patternProperties) {
      const sub = Object.values(s.patternProperties)[0];
      for (const [k, x] of Object.entries(v)) walk(sub, x, [...path, k]);
    }
  };
  walk(schema, data, []);
  return out;
}
