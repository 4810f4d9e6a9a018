import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createBridge, parseBridgeConfig } from '../../../src/bridge/index.js';
import { freshRegistry, logger, payload, tally, uniqueName, waitFor } from './util.js';

interface Server {
  wss: WebSocketServer;
  url: string;
  connections: WebSocket[];
  headers: Array<Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const s: Server = {
    wss,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/feed`,
    connections: [],
    headers: [],
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
  wss.on('connection', (ws, req) => {
    s.connections.push(ws);
    s.headers.push(req.headers);
  });
  return s;
}

function sendAll(ws: WebSocket, items: string[]): void {
  for (const i of items) ws.send(i);
}

function collect(stream: PassThrough): () => string[] {
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return () => text.split('\n').filter((l) => l.length > 0);
}

jest.setTimeout(120_000);

type Bridge = ReturnType<typeof createBridge>;

describe('WebSocket source (ws server started by the test)', () => {
  let server: Server;
  let bufferDir: string;
  // Every bridge a test starts is stopped after it, also when the test failed half-way.
  let bridges: Bridge[] = [];
  beforeEach(async () => {
    server = await startServer();
    bufferDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-ws-'));
  });
  afterEach(async () => {
    await Promise.all(bridges.map((b) => b.stop()));
    bridges = [];
    await server.close();
    fs.rmSync(bufferDir, { recursive: true, force: true });
  });

  function bridgeFor(extra: string, out: PassThrough) {
    const cfg = parseBridgeConfig(
      `
name: ws
source:
  type: websocket
  websocket:
    url: ${server.url}
    headers: { x-api-key: secret-123 }
${extra}
sink:
  type: stdio
  stdio: {}
buffer: { bufferPath: ${bufferDir}, commitDuration: 100ms, uploadEvery: 100ms }
backoff: { initial: 50ms, max: 300ms }
`,
      'ws.yaml',
    );
    const bridge = createBridge(cfg, { registry: freshRegistry(), logger, stdout: out });
    bridges.push(bridge);
    return bridge;
  }

  it('delivers every frame, sends the headers, and reconnects (reported) when the server closes', async () => {
    const out = new PassThrough();
    const lines = collect(out);
    const bridge = bridgeFor('', out);
    await bridge.start();
    await waitFor('first connection', () => server.connections.length === 1, 60_000);
    expect(server.headers[0]?.['x-api-key']).toBe('secret-123');
    const run = uniqueName('ws');
    const first = Array.from({ length: 500 }, (_, i) => payload(run, i));
    sendAll(server.connections[0] as WebSocket, first);
    await waitFor('first 500 received', () => bridge.status().counters.received >= 500, 60_000);
    (server.connections[0] as WebSocket).close(1001, 'going away');
    await waitFor('reconnected', () => server.connections.length === 2, 60_000);
    await waitFor('reconnect counted', () => bridge.status().counters.reconnects >= 1, 60_000);
    const second = Array.from({ length: 500 }, (_, i) => payload(run, 500 + i));
    sendAll(server.connections[1] as WebSocket, second);
    await waitFor('all lines out', () => lines().length >= 1000, 60_000);
    const st = bridge.status();
    expect(st.conditions.find((c) => c.type === 'SourceConnected')?.status).toBe('True');
    await bridge.stop();
    const t = tally([...first, ...second], lines());
    expect(t.missing).toEqual([]);
    expect(t.duplicates).toBe(0);
  });

  it('delivers the frames a server sends the moment a connection opens, on every reconnect', async () => {
    // A feed that greets each connection at once: those frames can share a TCP segment with the
    // upgrade answer, so they arrive before the connection could be handed to anyone.
    const run = uniqueName('greet');
    const sent: string[] = [];
    server.wss.on('connection', (ws) => {
      const conn = server.connections.length;
      for (let i = 0; i < 10; i++) {
        const p = payload(run, conn * 100 + i);
        sent.push(p);
        ws.send(p);
      }
      if (conn < 20) setTimeout(() => ws.close(1001, 'next'), 20);
    });
    const out = new PassThrough();
    const lines = collect(out);
    const bridge = bridgeFor('', out);
    await bridge.start();
    await waitFor('20 connections', () => server.connections.length >= 20, 60_000);
    await waitFor('every greeting out', () => lines().length >= sent.length, 60_000);
    expect(sent).toHaveLength(200);
    const t = tally(sent, lines());
    expect(t.missing).toEqual([]);
    expect(t.duplicates).toBe(0);
  });

  it('keeps retrying with backoff while the server is gone and reports it', async () => {
    const out = new PassThrough();
    const bridge = bridgeFor('', out);
    await bridge.start();
    await waitFor('connected', () => server.connections.length === 1, 60_000);
    const port = (server.wss.address() as AddressInfo).port;
    await server.close();
    await waitFor('retries', () => bridge.status().counters.retries >= 3, 60_000);
    const cond = bridge.status().conditions.find((c) => c.type === 'SourceConnected');
    expect(cond).toMatchObject({ status: 'False', reason: 'Unreachable' });
    // The server comes back on the same port: the bridge reconnects on its own.
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    let reconnected = false;
    wss.on('connection', () => (reconnected = true));
    try {
      await waitFor('reconnected to the new server', () => reconnected, 60_000);
      await waitFor('SourceConnected again', () => bridge.state.isReady(), 60_000);
    } finally {
      await bridge.stop();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });

  it('rotates the connection every reconnectEvery, make-before-break, without losing frames', async () => {
    const out = new PassThrough();
    const lines = collect(out);
    const bridge = bridgeFor('    reconnectEvery: 1s\n    rotationOverlap: 300ms', out);
    await bridge.start();
    await waitFor('connected', () => server.connections.length === 1, 60_000);
    const run = uniqueName('rot');
    const sent: string[] = [];
    // The server sends on every open connection (as a feed would), each frame once.
    let n = 0;
    const timer = setInterval(() => {
      const open = server.connections.filter((c) => c.readyState === c.OPEN);
      const target = open[open.length - 1];
      if (!target) return;
      for (let i = 0; i < 20; i++) {
        const p = payload(run, n++);
        sent.push(p);
        target.send(p);
      }
    }, 20);
    await waitFor('two rotations', () => server.connections.length >= 3, 60_000);
    clearInterval(timer);
    await waitFor('everything out', () => lines().length >= sent.length, 60_000);
    // The server sees a connection before the bridge has handled its opening (and counted the rotation).
    await waitFor('two rotations counted', () => bridge.status().counters.reconnects >= 2, 60_000);
    expect(bridge.status().counters.reconnects).toBeGreaterThanOrEqual(2);
    await bridge.stop();
    const t = tally(sent, lines());
    expect(t.missing).toEqual([]);
  });
});

describe('WebSocket sink', () => {
  it('sends one frame per message and reconnects after the server closes', async () => {
    const server = await startServer();
    const got: string[] = [];
    server.wss.on('connection', (ws) => ws.on('message', (d: Buffer) => got.push(d.toString())));
    const input = new PassThrough();
    const cfg = parseBridgeConfig(
      `
name: ws-sink
source:
  type: stdio
  stdio: { exitOnEof: true }
sink:
  type: websocket
  websocket: { url: ${server.url} }
backoff: { initial: 50ms, max: 200ms }
`,
      'ws-sink.yaml',
    );
    const bridge = createBridge(cfg, { registry: freshRegistry(), logger, stdin: input });
    try {
      await bridge.start();
      const run = uniqueName('wss');
      const sent = Array.from({ length: 200 }, (_, i) => payload(run, i));
      input.write(sent.slice(0, 100).join('\n') + '\n');
      await waitFor('first half', () => got.length >= 100, 60_000);
      (server.connections[0] as WebSocket).close();
      await waitFor('sink disconnected', () => !bridge.state.isReady(), 60_000);
      input.write(sent.slice(100).join('\n') + '\n');
      input.end();
      const outcome = await bridge.done;
      expect(outcome.status.phase).toBe('Completed');
      expect(tally(sent, got).missing).toEqual([]);
      expect(outcome.status.counters.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await bridge.stop();
      await server.close();
    }
  });
});
