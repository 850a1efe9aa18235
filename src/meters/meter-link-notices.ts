// The notifications of the linking flow (DOMAIN.md rule 4): what the owner and the requester are told, and nothing
// more — a request names the requester's first name and the meter, never a phone nor anything from SIC.
import type { MeterKind } from '../contracts/meters-messages.js';
import type { SystemNotification } from '../notifications/index.js';

interface LinkFacts {
  readonly linkId: string;
  readonly kind: MeterKind;
  readonly meter: string;
}

/** To the meter's active owners: someone asks for access. */
export function accessRequested(requester: { userId: string; firstName: string | null }, owners: readonly string[], link: LinkFacts): SystemNotification {
  const who = requester.firstName?.trim() || 'Someone';
  return {
    causedBy: requester.userId,
    target: owners.length === 1 ? { kind: 'user', userId: owners[0]! } : { kind: 'users', userIds: [...owners] },
    type: 'meter_access_request',
    title: 'Request to access your meter',
    body: `${who} wants access to meter ${link.meter}.`,
    data: { linkId: link.linkId, kind: link.kind, meter: link.meter },
  };
}

/** To the requester: the owner or an agent decided. */
export function linkDecided(decidedBy: string, requester: string, link: LinkFacts, approved: boolean): SystemNotification {
  return {
    causedBy: decidedBy,
    target: { kind: 'user', userId: requester },
    type: approved ? 'link_approved' : 'link_rejected',
    title: approved ? 'Meter link approved' : 'Meter link rejected',
    body: approved ? `Your access to meter ${link.meter} was approved.` : `Your request for meter ${link.meter} was not approved.`,
    data: { linkId: link.linkId, kind: link.kind, meter: link.meter },
  };
}
