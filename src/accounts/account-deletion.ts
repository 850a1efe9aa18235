// Deleting a customer's account at their request: personal data goes, the emptied row stays for the audit trail.
import type { Caller } from '../contracts/caller.js';
import type { AccountDeps } from './account-deps.js';
import { endUserLinks } from '../meters/index.js';
import { anonymiseUserRequests } from '../requests/index.js';
import { announceEnded, audit } from './account-events.js';
import { verifyOwnPin } from './pin-check.js';
import { endSessions } from './sessions.js';

/**
 * Deletes the account (PIN required): personal data goes, sessions, push tokens and meter links end, requests are
 * anonymised; the row
 * stays, empty, so the audit trail keeps its references.
 */
export async function deleteAccount(deps: AccountDeps, caller: Caller, input: { pin: string }): Promise<void> {
  const db = await deps.db();
  await verifyOwnPin(deps, db, caller.userId, input.pin);
  const { ended, links } = await db.transaction(async (c) => {
    const { rows } = await c.query<{ phone: string | null }>(`SELECT phone FROM users WHERE id = $1 FOR UPDATE`, [caller.userId]);
    const phone = rows[0]?.phone;
    const ended = await endSessions(c, { userId: caller.userId }, { reason: 'account_deleted', at: deps.clock.now() });
    const links = await endUserLinks(c, caller.userId, new Date(deps.clock.now()));
    // Their requests stay for the agency, without author or text; the janitor deletes the attachments after retention.
    await anonymiseUserRequests(c, caller.userId, new Date(deps.clock.now()));
    await c.query(`DELETE FROM login_failures WHERE user_id = $1`, [caller.userId]);
    if (phone) await c.query(`DELETE FROM one_time_codes WHERE phone = $1`, [phone]);
    await c.query(`UPDATE users SET phone = NULL, first_name = NULL, last_name = NULL, email = NULL, pin_hash = NULL, deleted_at = $2 WHERE id = $1`, [
      caller.userId,
      new Date(deps.clock.now()),
    ]);
    return { ended, links };
  });
  announceEnded(deps, caller.userId, ended);
  // After the commit, as the sessions: the link cache of every instance forgets the links (rule 5: 404 at once).
  if (links.length > 0) deps.linksEnded?.(links);
  audit(deps, 'account_deleted', caller.userId, {});
}
