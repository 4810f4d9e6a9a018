import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface AwsConnection {
  region?: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/**
 * Client settings shared by the S3 and Kinesis connectors. Always the HTTP/1.1 handler: the SDK's
 * HTTP/2 default fails against plain-HTTP API-compatible servers. Without keys in the config the SDK's
 * own credential chain (env, web identity, instance profile) applies.
 */
export function awsClientConfig(c: AwsConnection): {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  requestHandler: NodeHttpHandler;
  maxAttempts: number;
} {
  const out: ReturnType<typeof awsClientConfig> = {
    region: c.region ?? process.env.AWS_REGION ?? 'us-east-1',
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 60_000 }),
    // The bridge retries with its own backoff (forever); one SDK attempt keeps failures visible.
    maxAttempts: 1,
  };
  if (c.endpoint) out.endpoint = c.endpoint;
  if (c.accessKeyId && c.secretAccessKey) {
    out.credentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  }
  return out;
}

/** Sorts AWS errors into the condition reasons the bridge reports. */
export function awsReason(err: unknown): 'AuthFailed' | 'Throttled' | 'Unreachable' {
  const name = (err as { name?: string } | undefined)?.name ?? '';
  if (
    /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|UnrecognizedClient|ExpiredToken|Forbidden/i.test(
      name,
    )
  ) {
    return 'AuthFailed';
  }
  if (/Throughput|Throttl|SlowDown|LimitExceeded/i.test(name)) return 'Throttled';
  return 'Unreachable';
}
