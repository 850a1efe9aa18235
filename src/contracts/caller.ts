// Who is calling, as the HTTP layer authenticated them: carried inside service messages.

export const USER_ROLES = ['customer', 'agent', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface Caller {
  readonly userId: string;
  readonly role: UserRole;
  /** The agent's agency; null for customers and admins. */
  readonly agency: string | null;
  /** The device session the access token was issued for (absent on tokens minted outside a login). */
  readonly sessionId?: string;
  /** When the access token expires (epoch ms): a long-lived connection opened with it ends then. */
  readonly expiresAt?: number;
}
