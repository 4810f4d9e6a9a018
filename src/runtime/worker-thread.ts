import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../errors/index.js';
import type { BatchMessage, BatchQueue } from '../queue/index.js';
import { loadScript } from '../script/index.js';
import { EmbeddedStore } from '../store/index.js';
import { createEngineIo } from './engine-io.js';
import { createBatchHandler } from './handler.js';
import { lockedStore, type FromThread, type ThreadInit, type ToThread } from './threads.js';

/** Body of a batch worker thread of a local run (see ThreadPool). */
async function start(port: NonNullable<typeof parentPort>, init: ThreadInit): Promise<void> {
  const post = (m: FromThread): void => port.postMessage(m);
  const io = createEngineIo();
  const script = await loadScript({
    scriptUrl: init.scriptUrl,
    paramsUrl: init.paramsUrl,
    overrides: init.overrides ? { ...init.overrides } : undefined,
    readText: (u) => io.readText(u),
  });
  const store = lockedStore(new EmbeddedStore({ stateDir: init.stateDir }), init.writeLock);
  const publishes = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const queue: BatchQueue = {
    publish: (ks: string, msgs: readonly BatchMessage[]) =>
      new Promise<void>((resolve, reject) => {
        const id = nextId++;
        publishes.set(id, { resolve, reject });
        post({ type: 'publish', id, ks, msgs: [...msgs] });
      }),
    consume: () => Promise.reject(new Error('a worker thread does not consume')),
    deleteQueues: async () => undefined,
    close: async () => undefined,
  };
  const handler = createBatchHandler({
    store,
    queue,
    io,
    python: init.python,
    getScript: async () => script,
    onEvent: (event) => post({ type: 'event', event }),
  });
  port.on('message', (m: ToThread) => {
    if (m.type === 'published') {
      const p = publishes.get(m.id);
      publishes.delete(m.id);
      if (m.error) p?.reject(new Error(m.error));
      else p?.resolve();
      return;
    }
    handler(m.msg).then(
      (disposition) => post({ type: 'result', id: m.id, disposition }),
      (err: unknown) =>
        post({ type: 'result', id: m.id, disposition: { kind: 'dead', reason: errorMessage(err) } }),
    );
  });
  post({ type: 'ready' });
}

if (parentPort) {
  const port = parentPort;
  start(port, workerData as ThreadInit).catch((err: unknown) => {
    port.postMessage({ type: 'init-failed', error: errorMessage(err) } satisfies FromThread);
  });
}
