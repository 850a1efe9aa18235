// Starts a whole node (runtime + HTTP) in the test process against the real services.
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { startNode, type NodeOptions, type RunningNode } from '../../src/node.js';
import { inject } from 'vitest';
import type { TreeNode } from '../../src/contracts/supervision.js';
import { TEST_JWKS, TEST_SIGNING_JWK } from './tokens.js';

/** The shared s3rver of ops/services.sh, when started: a test node stores there (pass S3_ENDPOINT: undefined for the embedded one). */
function sharedStorage(): Record<string, string> {
  const s = inject('services');
  if (!s?.TEST_S3_ENDPOINT || !s.TEST_S3_ACCESS_KEY || !s.TEST_S3_SECRET_KEY || !s.TEST_S3_BUCKET) return {};
  return { S3_ENDPOINT: s.TEST_S3_ENDPOINT, S3_ACCESS_KEY_ID: s.TEST_S3_ACCESS_KEY, S3_SECRET_ACCESS_KEY: s.TEST_S3_SECRET_KEY, S3_BUCKET: s.TEST_S3_BUCKET };
}

export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({
    APP_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    OPS_PORT: '0',
    LOG_LEVEL: 'silent',
    JWT_PUBLIC_KEYS: JSON.stringify(TEST_JWKS),
    JWT_SIGNING_KEY: TEST_SIGNING_JWK,
    AUTH_SECRET: 'test-secret-test-secret-test-secret!',
    ...sharedStorage(),
    ...env,
  });
}

export function startTestNode(env: Record<string, string | undefined>, options: NodeOptions = {}): Promise<RunningNode> {
  return startNode(testConfig(env), silentLogger(), options);
}

/** The actor `name` in the node's supervision tree (its state and counters), wherever it sits. */
export function actorNode(node: RunningNode, name: string): TreeNode | undefined {
  const find = (n: TreeNode): TreeNode | undefined => (n.name === name ? n : n.children?.map(find).find(Boolean));
  return find(node.runtime.tree());
}
