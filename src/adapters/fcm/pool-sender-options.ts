// The sender options that cross into a pool thread (workerData): the credential is a service-account file path.
import type { FcmSenderOptions } from './fcm-sender.js';

export type PoolSenderOptions = Omit<FcmSenderOptions, 'credential' | 'appName'> & { readonly credential: string };
