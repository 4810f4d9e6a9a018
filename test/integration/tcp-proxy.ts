import net from 'node:net';

/**
 * A TCP proxy in front of a real service that a test can take down and bring back: the service seems to go
 * away for the code under test only, while the other tests keep using it. Down, the proxy cuts every open
 * connection and resets new ones at once. It keeps its listening port until close(), so that no other
 * process can take the port while the service is "down" (a closed port can be handed out again).
 */
export class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private accepting = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts listening on a free port of 127.0.0.1 (first call), or lets connections through again. */
  async up(): Promise<void> {
    this.accepting = true;
    if (this.server) return;
    const server = net.createServer((client) => {
      client.on('error', () => undefined);
      if (!this.accepting) {
        client.resetAndDestroy();
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Cuts every open connection; new ones are reset until up(). */
  down(): Promise<void> {
    this.accepting = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return Promise.resolve();
  }

  /** Cuts every connection and stops listening. */
  async close(): Promise<void> {
    await this.down();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
