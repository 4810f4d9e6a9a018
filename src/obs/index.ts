export { createLogger, silentLogger, type Logger, type LoggerSettings } from './logger.js';
export { metricsRegistry } from './metrics.js';
export { startHealthServer, type HealthServer, type HealthServerOptions } from './health.js';
