// The meters service: the facade the meters actor calls, over linking, the caller's own links and the decisions.
import type { Caller } from '../contracts/caller.js';
import type { LinkMeterInput, MeterDecision, MeterLink, MeterLinkList, MeterRequestList } from '../contracts/meters-messages.js';
import type { MeterLinkDeps } from './meter-link-deps.js';
import { MeterLinkDecisions } from './meter-link-decisions.js';
import { MeterLinking } from './meter-linking.js';
import { OwnLinks } from './own-links.js';

export class MeterLinkService {
  private readonly linking: MeterLinking;
  private readonly own: OwnLinks;
  private readonly decisions: MeterLinkDecisions;

  constructor(deps: MeterLinkDeps) {
    this.linking = new MeterLinking(deps);
    this.own = new OwnLinks(deps);
    this.decisions = new MeterLinkDecisions(deps);
  }

  link(caller: Caller, input: LinkMeterInput, ip: string): Promise<MeterLink> {
    return this.linking.link(caller, input, ip);
  }

  list(caller: Caller): Promise<MeterLinkList> {
    return this.own.list(caller);
  }

  unlink(caller: Caller, linkId: string): Promise<void> {
    return this.own.unlink(caller, linkId);
  }

  setDefault(caller: Caller, linkId: string): Promise<MeterLink> {
    return this.own.setDefault(caller, linkId);
  }

  requests(caller: Caller, limit: number): Promise<MeterRequestList> {
    return this.decisions.requests(caller, limit);
  }

  decide(caller: Caller, linkId: string, decision: MeterDecision): Promise<MeterLink> {
    return this.decisions.decide(caller, linkId, decision);
  }
}
