import kafkajs from 'kafkajs';
import type { Kafka as KafkaClient, KafkaConfig, SASLOptions } from 'kafkajs';
import type { Logger } from '../obs/index.js';
import type { BackoffSettings } from './backoff.js';

export interface KafkaConnection {
  brokers: string[];
  clientId?: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

/**
 * A kafkajs client whose own retries follow the bridge's backoff and never give up, and whose logs go
 * to the bridge logger.
 */
export function kafkaClient(
  c: KafkaConnection,
  bridge: string,
  logger: Logger,
  backoff: BackoffSettings,
): KafkaClient {
  const cfg: KafkaConfig = {
    clientId: c.clientId ?? `plexus-bridge-${bridge}`,
    brokers: c.brokers,
    ssl: c.ssl ?? false,
    connectionTimeout: 5000,
    retry: {
      initialRetryTime: backoff.initialMs,
      maxRetryTime: backoff.maxMs,
      multiplier: backoff.multiplier,
      retries: 8,
    },
    logLevel: kafkajs.logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        if (level <= kafkajs.logLevel.ERROR) logger.error(extra, `kafka: ${message}`);
        else if (level === kafkajs.logLevel.WARN) logger.warn(extra, `kafka: ${message}`);
        else logger.debug(extra, `kafka: ${message}`);
      },
  };
  if (c.sasl)
    cfg.sasl = {
      mechanism: c.sasl.mechanism,
      username: c.sasl.username,
      password: c.sasl.password,
    } as SASLOptions;
  return new kafkajs.Kafka(cfg);
}
