import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateDataRun, validateStreamBridge } from '../../../src/api/index.js';
import { loadScript } from '../../../src/script/index.js';

// Every example manifest is validated with the API validators (JSON Schema + CEL rules, as the API server
// would), and every reference inside an example folder (ConfigMap keys, volume claims) resolves.
const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const FOLDERS = ['examples/lookup', 'examples/tag-and-denormalize', 'examples/streambridges'];

interface Doc {
  file: string;
  obj: { apiVersion?: string; kind?: string; metadata?: { name?: string }; [k: string]: unknown };
}

function docsOf(folder: string): Doc[] {
  const out: Doc[] = [];
  for (const name of fs.readdirSync(path.join(ROOT, folder)).sort()) {
    if (!name.endsWith('.yaml') || name === 'kustomization.yaml') continue;
    const file = path.join(folder, name);
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as Doc['obj'] | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

interface Kustomization {
  resources?: string[];
  configMapGenerator?: { name: string; files: string[] }[];
}

/** A configMapGenerator entry: `path` (key: its base name) or `key=path`. */
function generatorFile(entry: string): { key: string; file: string } {
  const eq = entry.indexOf('=');
  return eq < 0
    ? { key: path.basename(entry), file: entry }
    : { key: entry.slice(0, eq), file: entry.slice(eq + 1) };
}

function kustomization(folder: string): Kustomization | undefined {
  const file = path.join(ROOT, folder, 'kustomization.yaml');
  if (!fs.existsSync(file)) return undefined;
  return parseAllDocuments(fs.readFileSync(file, 'utf8'))[0]?.toJS() as Kustomization;
}

const all = FOLDERS.flatMap((f) => docsOf(f).map((d) => ({ ...d, folder: f })));

describe('examples', () => {
  it('has DataRuns for both Capillaries suites and the three StreamBridges', () => {
    const names = (kind: string) => all.filter((d) => d.obj.kind === kind).map((d) => d.obj.metadata?.name);
    expect(names('DataRun')).toEqual(
      expect.arrayContaining(['lookup-quicktest', 'tag-and-denormalize', 'tag-and-denormalize-pvc']),
    );
    const bridges = all.filter((d) => d.obj.kind === 'StreamBridge').map((d) => d.obj);
    const pairs = bridges.map((b) => {
      const spec = b.spec as { source: { type: string }; sink: { type: string } };
      return `${spec.source.type}->${spec.sink.type}`;
    });
    expect(pairs.sort()).toEqual(['kafka->s3', 'rabbitmq->s3', 'websocket->kinesis']);
  });

  it.each(all.filter((d) => d.obj.kind === 'DataRun' || d.obj.kind === 'StreamBridge'))(
    '$file: $obj.kind $obj.metadata.name passes the API validators',
    ({ obj }) => {
      const result = obj.kind === 'DataRun' ? validateDataRun(obj) : validateStreamBridge(obj);
      expect(result.valid ? [] : result.errors).toEqual([]);
    },
  );

  it.each(FOLDERS.filter((f) => kustomization(f)))(
    '%s: kustomization resources and files exist',
    (folder) => {
      const k = kustomization(folder) as Kustomization;
      for (const r of k.resources ?? []) expect(fs.existsSync(path.join(ROOT, folder, r))).toBe(true);
      for (const g of k.configMapGenerator ?? [])
        for (const f of g.files)
          expect(fs.existsSync(path.join(ROOT, folder, generatorFile(f).file))).toBe(true);
    },
  );

  it.each(FOLDERS)('%s: ConfigMap keys and volume claims referred to by DataRuns exist', (folder) => {
    const k = kustomization(folder);
    const configMaps = new Map<string, Set<string>>();
    for (const g of k?.configMapGenerator ?? [])
      configMaps.set(g.name, new Set(g.files.map((f) => generatorFile(f).key)));
    const claims = new Set(
      docsOf(folder)
        .filter((d) => d.obj.kind === 'PersistentVolumeClaim')
        .map((d) => d.obj.metadata?.name),
    );
    for (const { file, obj } of docsOf(folder).filter((d) => d.obj.kind === 'DataRun')) {
      const run = validateDataRun(obj);
      if (!run.valid) throw new Error(`${file}: invalid DataRun`);
      const spec = run.value.spec;
      for (const ref of [spec.script.configMapKeyRef, spec.params?.configMapKeyRef]) {
        if (!ref) continue;
        expect({
          file,
          configMap: ref.name,
          key: ref.key,
          found: configMaps.get(ref.name)?.has(ref.key),
        }).toEqual({
          file,
          configMap: ref.name,
          key: ref.key,
          found: true,
        });
      }
      for (const v of spec.workers?.volumes ?? []) {
        if (v.persistentVolumeClaim)
          expect({
            file,
            claim: v.persistentVolumeClaim.claimName,
            found: claims.has(v.persistentVolumeClaim.claimName),
          }).toEqual({
            file,
            claim: v.persistentVolumeClaim.claimName,
            found: true,
          });
        if (v.configMap) expect(configMaps.has(v.configMap.name)).toBe(true);
      }
    }
  });

  it.each(FOLDERS.filter((f) => kustomization(f)))(
    '%s: every DataRun script loads and validates with its params and overrides',
    async (folder) => {
      const texts = new Map<string, string>();
      for (const g of kustomization(folder)?.configMapGenerator ?? [])
        for (const entry of g.files) {
          const { key, file } = generatorFile(entry);
          texts.set(key, fs.readFileSync(path.join(ROOT, folder, file), 'utf8'));
        }
      const runs = docsOf(folder).filter((d) => d.obj.kind === 'DataRun');
      expect(runs.length).toBeGreaterThan(0);
      for (const { obj } of runs) {
        const run = validateDataRun(obj);
        if (!run.valid) throw new Error('invalid DataRun');
        const spec = run.value.spec;
        const script = await loadScript({
          scriptUrl: spec.script.configMapKeyRef?.key ?? '',
          ...(spec.params?.configMapKeyRef ? { paramsUrl: spec.params.configMapKeyRef.key } : {}),
          overrides: spec.paramOverrides ?? {},
          // ConfigMap keys, and files of the ConfigMap mounted in the workers (tag criteria under dir_cfg).
          readText: async (url) => {
            const text = texts.get(path.basename(url));
            if (text === undefined) throw new Error(`${url}: not in the example's ConfigMap`);
            return text;
          },
        });
        for (const node of spec.startNodes) expect([...script.nodes.keys()]).toContain(node);
      }
    },
  );

  it('every example Secret a StreamBridge names is in secrets.example.yaml', () => {
    const docs = docsOf('examples/streambridges');
    const secrets = new Set(docs.filter((d) => d.obj.kind === 'Secret').map((d) => d.obj.metadata?.name));
    for (const { obj } of docs.filter((d) => d.obj.kind === 'StreamBridge')) {
      const spec = obj.spec as {
        source: { credentialsSecretRef?: { name: string } };
        sink: typeof spec.source;
      };
      for (const ref of [spec.source.credentialsSecretRef, spec.sink.credentialsSecretRef])
        if (ref)
          expect({ bridge: obj.metadata?.name, secret: ref.name, found: secrets.has(ref.name) }).toEqual({
            bridge: obj.metadata?.name,
            secret: ref.name,
            found: true,
          });
    }
  });
});
