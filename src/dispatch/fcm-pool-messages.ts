// Messages of the fcm-pool actor: it owns the FCM sender (piscina threads, or the demo's sandbox), the send-rate
// limit and the push pipeline in front of them, and hands the pipeline to the consumers' dispatch handler.
import type { PushPipeline, PushPipelineStats } from './push-pipeline.js';
import type { SharedRateLimitStats } from '../adapters/cache/shared-rate-limit.js';
import type { FcmPoolStats } from '../adapters/fcm/fcm-pool.js';
import type { Reply } from '../contracts/reply.js';

export interface FcmPoolReport {
  readonly sender: 'pool' | 'sandbox' | 'custom';
  readonly pipeline: PushPipelineStats;
  readonly pool: FcmPoolStats | undefined;
  /** The Redis-shared limit's state, or undefined for a local bucket. */
  readonly rateLimit: SharedRateLimitStats | undefined;
}

export type FcmPoolMessage =
  /** The pipeline of this incarnation; after a restart it is closed (sends reject) and a new one is handed out. */
  | { type: 'lend'; replyTo: Reply<PushPipeline> }
  | { type: 'stats'; replyTo: Reply<FcmPoolReport> };

export const FCM_POOL = 'fcm-pool';
