// Who a notification job's target reaches, as one keyset page of user ids: the fan-out reads its audience through it.
import type { BroadcastScope, NotificationTarget } from '../domain/notification-request.js';
import { linkCountsBy } from '../inbox/index.js';

/**
 * A target's audience: `page` selects the next ids in order, given $1 = `param`, $2 = the job's created_at, $3 = the
 * last id of the previous page (null at the start) and $4 = the page size. A broadcast (agency, all agencies,
 * everyone) is one inbox row joined at read time (BROADCAST_VISIBLE in src/inbox/inbox-service.ts): its audience is
 * who that join shows it to, evaluated at fan-out time.
 */
export interface Audience {
  readonly broadcast: BroadcastScope | null;
  readonly page: string;
  readonly param: unknown;
}

const AFTER = `($3::uuid IS NULL OR id > $3::uuid)`;

/** A customer is in an agency through an active meter link of that agency that was active when the job was created. */
const LINK_SINCE = linkCountsBy('$2');

function targeted(where: string, param: unknown): Audience {
  // A targeted job reaches its users whenever they were created; $2 is referenced only to type it.
  return { broadcast: null, page: `SELECT id FROM users WHERE ${where} AND deleted_at IS NULL AND $2::timestamptz IS NOT NULL AND ${AFTER} ORDER BY id LIMIT $4`, param };
}

export function audience(target: NotificationTarget): Audience {
  switch (target.kind) {
    case 'user':
    case 'users': {
      const ids = target.kind === 'user' ? [target.userId] : [...target.userIds];
      return targeted(`id = ANY($1::uuid[])`, [...new Set(ids.map((i) => i.toLowerCase()))]);
    }
    case 'meter':
      // Its holders now, through meter_links_meter; a targeted job (one inbox entry each), not a broadcast.
      return targeted(`id IN (SELECT l.user_id FROM meter_links l WHERE l.meter = $1::text AND l.state = 'active')`, target.meter);
    // Broadcasts reach who sees them in the inbox (0004_inbox.sql): live accounts created before the job, in scope.
    case 'agency':
      // Two id-ordered index scans merged (users_agency of 0017, meter_links_agency_active of 0015), each cut to one
      // page and de-duplicated, so a page costs O(page) whatever the size of the users table.
      return {
        broadcast: { kind: 'agency', agency: target.agency },
        page: `SELECT id FROM (
                 (SELECT id FROM users WHERE agency_code = $1::text AND deleted_at IS NULL AND created_at <= $2 AND ${AFTER}
                   ORDER BY id LIMIT $4)
                 UNION
                 (SELECT DISTINCT l.user_id AS id FROM meter_links l JOIN users u ON u.id = l.user_id
                   WHERE l.agency_code = $1::text AND l.state = 'active' AND ${LINK_SINCE}
                     AND u.deleted_at IS NULL AND u.created_at <= $2 AND ($3::uuid IS NULL OR l.user_id > $3::uuid)
                   ORDER BY l.user_id LIMIT $4)
               ) AS reached ORDER BY id LIMIT $4`,
        param: target.agency,
      };
    case 'all_agencies':
      // Most accounts qualify: one walk of the primary key, a link probe (meter_links_user) only for those without.
      return {
        broadcast: { kind: 'all_agencies' },
        page: `SELECT id FROM users WHERE deleted_at IS NULL AND created_at <= $2 AND $1::text IS NULL AND ${AFTER}
                  AND (agency_code IS NOT NULL
                       OR EXISTS (SELECT 1 FROM meter_links l WHERE l.user_id = users.id AND l.state = 'active' AND l.agency_code IS NOT NULL AND ${LINK_SINCE}))
                ORDER BY id LIMIT $4`,
        param: null,
      };
    case 'everyone':
      return { broadcast: { kind: 'everyone' }, page: `SELECT id FROM users WHERE deleted_at IS NULL AND created_at <= $2 AND $1::text IS NULL AND ${AFTER} ORDER BY id LIMIT $4`, param: null };
  }
}
