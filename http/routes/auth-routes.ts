// Sign-up, phone proof, sign-in and token rotation: the public door of the accounts service.
import { z } from 'zod';
import { agentLoginBody, loginBody, logoutBody, pinResetBody, pinResetConfirmBody, profileSchema, refreshBody, registerBody, tokenPairSchema, verifyPhoneBody } from '../../src/contracts/accounts-messages.js';
import type { Gateway } from '../../src/contracts/gateway.js';
import { ROUTE_DEADLINES_MS } from '../deadlines.js';
import { defineRoute, type RouteDefinition } from '../route.js';

export function authRoutes(deps: { gateway: Gateway }): RouteDefinition[] {
  const { gateway } = deps;
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/auth/register',
      summary: 'Create an account (unverified) and send a 6-digit code to the phone by SMS (the answer is the same for a number that has an account; its owner gets a notice, no code).',
      auth: 'public',
      request: { body: registerBody },
      responses: { 202: z.object({ phone: z.string(), codeExpiresInSeconds: z.number().int() }) },
      async handler(ctx, { body }) {
        ctx.status = 202;
        ctx.body = await gateway.ask('accounts', 'register', { input: body, ip: ctx.ip }, { deadlineMs: ROUTE_DEADLINES_MS.sms });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/auth/verify-phone',
      summary: 'Prove the phone number with the code received by SMS; the account can then sign in.',
      auth: 'public',
      request: { body: verifyPhoneBody },
      responses: { 200: z.object({ verified: z.literal(true) }) },
      async handler(ctx, { body }) {
        ctx.body = await gateway.ask('accounts', 'verify-phone', { input: body, ip: ctx.ip });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/auth/login',
      summary: 'Sign in with phone and PIN from a device; at most two devices stay signed in.',
      auth: 'public',
      request: { body: loginBody },
      responses: { 200: tokenPairSchema.extend({ user: profileSchema }) },
      async handler(ctx, { body }) {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = await gateway.ask('accounts', 'login', { input: body, ip: ctx.ip });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/auth/agent-login',
      summary: "Sign in as an agent (or admin) with the utility directory's login and password.",
      auth: 'public',
      request: { body: agentLoginBody },
      responses: { 200: tokenPairSchema.extend({ user: profileSchema }) },
      async handler(ctx, { body }) {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = await gateway.ask('accounts', 'agent-login', { input: body, ip: ctx.ip }, { deadlineMs: ROUTE_DEADLINES_MS.directory });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/auth/refresh',
      summary: 'Rotate the refresh token; replaying the previous one within seconds returns the same pair.',
      auth: 'public',
      request: { body: refreshBody },
      responses: { 200: tokenPairSchema },
      async handler(ctx, { body }) {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = await gateway.ask('accounts', 'refresh', { refreshToken: body.refreshToken });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/auth/pin-reset',
      summary: 'Send a PIN reset code by SMS to a verified account (the answer is the same for any number).',
      auth: 'public',
      request: { body: pinResetBody },
      responses: { 202: z.object({ phone: z.string(), codeExpiresInSeconds: z.number().int() }) },
      async handler(ctx, { body }) {
        ctx.status = 202;
        ctx.body = await gateway.ask('accounts', 'pin-reset', { input: body, ip: ctx.ip }, { deadlineMs: ROUTE_DEADLINES_MS.sms });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/auth/pin-reset/confirm',
      summary: 'Set a new PIN with the reset code; every session of the account ends.',
      auth: 'public',
      request: { body: pinResetConfirmBody },
      responses: { 200: z.object({ reset: z.literal(true) }) },
      async handler(ctx, { body }) {
        ctx.body = await gateway.ask('accounts', 'pin-reset-confirm', { input: body, ip: ctx.ip });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/auth/logout',
      summary: "End this device's session (or every session with all=true) and remove its push token.",
      auth: ['customer', 'agent', 'admin'],
      request: { body: logoutBody },
      responses: { 200: z.object({ ended: z.number().int() }) },
      async handler(ctx, { body }, caller) {
        ctx.body = await gateway.ask('accounts', 'logout', { caller, all: body.all });
      },
    }),
  ];
}
