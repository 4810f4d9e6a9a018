/**
 * Benchmark dispatcher: `npm run bench -- <name> [args...]`.
 *   expr    compiled expressions vs a tree-walking interpreter (bench/expr.ts)
 *   engine  end-to-end lookup pipeline (bench/engine.ts)
 *   bridge  RabbitMQ → S3 bridge vs a bare amqplib consumer (bench/bridge.ts)
 *   distributed  the engine's lookup pipeline on 1 and 2 workers (RabbitMQ + Cassandra) vs local (bench/distributed.ts)
 */
const benches: Record<string, () => Promise<(args: readonly string[]) => Promise<void> | void>> = {
  expr: async () => (await import('./expr.js')).runExprBench,
  engine: async () => (await import('./engine.js')).runEngineBench,
  bridge: async () => (await import('./bridge.js')).runBridgeBench,
  distributed: async () => (await import('./distributed.js')).runDistributedBench,
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name === undefined ? undefined : benches[name];
  if (load === undefined) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [args...]\n`);
    process.exitCode = 2;
    return;
  }
  await (
    await load()
  )(args);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
