// Firebase Cloud Messaging: the project and its credentials, the transport (proxy, extra CA) and the sending pool's threads.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { int, isSet, optionalText, optionalUrl } from './env-fields.js';

export const fcmEnv = z.object({
  FCM_PROJECT_ID: optionalText(),
  FCM_CREDENTIALS_FILE: optionalText(),
  FCM_TRANSPORT: z.enum(['http2-session', 'http1', 'http2']).default('http2-session'),
  FCM_PROXY_URL: optionalUrl(['http', 'https']),
  FCM_EXTRA_CA_FILE: optionalText(),
  FCM_POOL_THREADS: int(2, 1, 64),
  FCM_URGENT_THREADS: int(1, 0, 16),
  FCM_SESSIONS_PER_THREAD: int(2, 1, 16),
  /** V8 heap limits of each FCM pool thread, MB (0: V8's default, from the machine's memory; less cannot start a thread). */
  FCM_THREAD_MAX_OLD_MB: int(256, 0, 16_384).refine((n) => n === 0 || n >= 64, { message: "must be 0 (V8's default) or at least 64" }),
  FCM_THREAD_MAX_YOUNG_MB: int(16, 0, 1_024).refine((n) => n === 0 || n >= 4, { message: "must be 0 (V8's default) or at least 4" }),
  /** Sends in flight at once per pool thread (http1: over a keep-alive agent of 64 sockets). */
  FCM_SENDS_PER_THREAD: int(200, 1, 10_000),
  /** http2-session: one send's bound, answer included (firebase-admin's own is 15 s). */
  FCM_REQUEST_TIMEOUT_MS: int(15_000, 1_000, 600_000),
});

/**
 * `fcm` sends through firebase-admin in a pool of worker threads; without an FCM project, `sandbox` records sends
 * in memory (demo and tests only) and `none` leaves the queues unconsumed (a worker never drops pushes).
 */
export type FcmConfig =
  | { mode: 'sandbox' }
  | { mode: 'none' }
  | {
      mode: 'fcm';
      projectId: string;
      credentialsFile: string;
      transport: 'http2-session' | 'http1' | 'http2';
      proxyUrl: string | undefined;
      extraCaFile: string | undefined;
      threads: number;
      /** Threads only urgent batches use (0: urgent shares the pool's). */
      urgentThreads: number;
      /** http2-session: HTTP/2 sessions each thread keeps open side by side. */
      sessionsPerThread: number;
      sendsPerThread: number;
      /** http2-session: one send's bound, answer included. */
      requestTimeoutMs: number;
      /** V8 heap limits of each pool thread, MB (0: V8's default). */
      threadMaxOldMb: number;
      threadMaxYoungMb: number;
    };

export function fcmConfig(e: z.infer<typeof fcmEnv>, sandbox: boolean): FcmConfig {
  return e.FCM_PROJECT_ID
    ? {
        mode: 'fcm',
        projectId: e.FCM_PROJECT_ID,
        credentialsFile: e.FCM_CREDENTIALS_FILE!,
        transport: e.FCM_TRANSPORT,
        proxyUrl: e.FCM_PROXY_URL,
        extraCaFile: e.FCM_EXTRA_CA_FILE,
        threads: e.FCM_POOL_THREADS,
        urgentThreads: e.FCM_URGENT_THREADS,
        sessionsPerThread: e.FCM_SESSIONS_PER_THREAD,
        sendsPerThread: e.FCM_SENDS_PER_THREAD,
        requestTimeoutMs: e.FCM_REQUEST_TIMEOUT_MS,
        threadMaxOldMb: e.FCM_THREAD_MAX_OLD_MB,
        threadMaxYoungMb: e.FCM_THREAD_MAX_YOUNG_MB,
      }
    : { mode: sandbox ? 'sandbox' : 'none' };
}

export function fcmProblems(raw: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (isSet(raw, 'FCM_PROJECT_ID') && !isSet(raw, 'FCM_CREDENTIALS_FILE')) problems.push('FCM_CREDENTIALS_FILE: required when FCM_PROJECT_ID is set (the service-account JSON file)');
  if (isSet(raw, 'FCM_CREDENTIALS_FILE') && !existsSync(raw.FCM_CREDENTIALS_FILE!.trim())) problems.push(`FCM_CREDENTIALS_FILE: no file at ${raw.FCM_CREDENTIALS_FILE!.trim()}`);
  if (isSet(raw, 'FCM_EXTRA_CA_FILE') && !existsSync(raw.FCM_EXTRA_CA_FILE!.trim())) problems.push(`FCM_EXTRA_CA_FILE: no file at ${raw.FCM_EXTRA_CA_FILE!.trim()}`);
  if (raw.FCM_TRANSPORT === 'http2' && (isSet(raw, 'FCM_PROXY_URL') || isSet(raw, 'FCM_EXTRA_CA_FILE'))) {
    problems.push('FCM_TRANSPORT: http2 (firebase-admin sendEach) cannot use FCM_PROXY_URL or FCM_EXTRA_CA_FILE; use http2-session or http1');
  }
  return problems;
}
