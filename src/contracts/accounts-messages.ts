// Messages of the accounts service, and the shapes the HTTP layer validates them with.
import { z } from 'zod';
import { phoneField } from '../domain/phone.js';
import { pinField } from '../domain/pin-rules.js';
import { storedText } from '../domain/stored-text.js';
import type { Caller, UserRole } from './caller.js';
import type { Reply } from './reply.js';

const name = storedText(80);
// FCM tokens are ~160 characters; 1 KiB bounds the unique index entry well under PostgreSQL's limit.
const pushToken = storedText(1024).meta({ description: 'FCM registration token of this device' });
export const deviceFields = {
  deviceModel: storedText(120).meta({ example: 'Samsung Galaxy A14' }),
  platform: z.enum(['android', 'ios', 'web']),
  pushToken: pushToken.optional(),
};

export const registerBody = z.object({ phone: phoneField, firstName: name, lastName: name, pin: pinField });
export const verifyPhoneBody = z.object({
  phone: phoneField,
  code: z.string().regex(/^[0-9]{6}$/, 'must be 6 digits'),
  pin: z.string().min(1).max(64).meta({ description: 'The PIN given at registration (the app still holds it).' }),
});
export const loginBody = z.object({ phone: phoneField, pin: z.string().min(1).max(64), ...deviceFields });
export const agentLoginBody = z.object({ login: storedText(256), password: z.string().max(256), ...deviceFields });
export const refreshBody = z.object({ refreshToken: z.string().min(16).max(256) });
export const logoutBody = z.object({ all: z.boolean().default(false) });
export const profilePatchBody = z
  .object({ firstName: name.optional(), lastName: name.optional(), email: z.email().max(254).nullable().optional() })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'give at least one field to change' });
export const pushTokenBody = z.object({ pushToken: pushToken.nullable() });
export const pinResetBody = z.object({ phone: phoneField });
export const pinResetConfirmBody = z.object({ phone: phoneField, code: z.string().regex(/^[0-9]{6}$/, 'must be 6 digits'), newPin: pinField });
export const changePinBody = z.object({ currentPin: z.string().min(1).max(64), newPin: pinField });
export const deleteAccountBody = z.object({ pin: z.string().min(1).max(64) });

export const profileSchema = z.object({
  id: z.string(),
  phone: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  email: z.string().nullable(),
  role: z.enum(['customer', 'agent', 'admin']),
  agency: z.string().nullable(),
  phoneVerified: z.boolean(),
});
export const tokenPairSchema = z.object({ accessToken: z.string(), refreshToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int() });

/** The account as its owner sees it (GET /v1/me, and with every sign-in). */
export interface Profile {
  readonly id: string;
  readonly phone: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly role: UserRole;
  readonly agency: string | null;
  readonly phoneVerified: boolean;
}

/** What a sign-in or a refresh hands the app. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
}

export type AccountsMessage =
  | { type: 'register'; input: z.output<typeof registerBody>; ip: string; replyTo: Reply<{ phone: string; codeExpiresInSeconds: number }> }
  | { type: 'pin-reset'; input: z.output<typeof pinResetBody>; ip: string; replyTo: Reply<{ phone: string; codeExpiresInSeconds: number }> }
  | { type: 'pin-reset-confirm'; input: z.output<typeof pinResetConfirmBody>; ip: string; replyTo: Reply<{ reset: true }> }
  | { type: 'change-pin'; caller: Caller; input: z.output<typeof changePinBody>; replyTo: Reply<{ changed: true }> }
  | { type: 'delete-account'; caller: Caller; input: z.output<typeof deleteAccountBody>; replyTo: Reply<void> }
  | { type: 'verify-phone'; input: z.output<typeof verifyPhoneBody>; ip: string; replyTo: Reply<{ verified: true }> }
  | { type: 'login'; input: z.output<typeof loginBody>; ip: string; replyTo: Reply<TokenPair & { user: Profile }> }
  | { type: 'agent-login'; input: z.output<typeof agentLoginBody>; ip: string; replyTo: Reply<TokenPair & { user: Profile }> }
  | { type: 'refresh'; refreshToken: string; replyTo: Reply<TokenPair> }
  | { type: 'logout'; caller: Caller; all: boolean; replyTo: Reply<{ ended: number }> }
  | { type: 'profile'; caller: Caller; replyTo: Reply<Profile> }
  | { type: 'update-profile'; caller: Caller; patch: z.output<typeof profilePatchBody>; replyTo: Reply<Profile> }
  | { type: 'set-push-token'; caller: Caller; pushToken: string | null; replyTo: Reply<{ pushToken: string | null }> };
