import fs from 'node:fs';
import path from 'node:path';
import { loadBridgeConfig } from '../../../src/bridge/index.js';

const dir = path.resolve(import.meta.dirname, '..', '..', '..', 'examples', 'bridges');
const env = {
  RABBITMQ_URL: 'amqp://guest:guest@localhost:5672/',
  S3_ACCESS_KEY_ID: 'key',
  S3_SECRET_ACCESS_KEY: 'secret',
  FEED_API_KEY: 'api-key',
  KAFKA_BROKERS: '127.0.0.1:9092',
};

describe('examples/bridges', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bridge.yaml'));
  it('has examples', () => expect(files.length).toBeGreaterThanOrEqual(5));
  it.each(files)('%s is a valid bridge config', (file) => {
    const cfg = loadBridgeConfig(path.join(dir, file), env);
    expect(cfg.name).toMatch(/^[a-z0-9-]+$/);
  });
});
