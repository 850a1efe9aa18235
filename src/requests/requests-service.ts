// The requests service the requests actor calls: a facade over filing, reading and the agency's updates.
import type { Caller } from '../contracts/caller.js';
import type {
  AttachmentLink,
  FileRequestFields,
  RequestAttachmentUpload,
  RequestDetail,
  RequestListQuery,
  RequestPage,
  UpdateRequestInput,
} from '../contracts/requests-messages.js';
import type { RequestDeps } from './request-deps.js';
import { RequestFiling } from './request-filing.js';
import { RequestReads } from './request-reads.js';
import { RequestUpdates } from './request-updates.js';

export class RequestsService {
  private readonly filing: RequestFiling;
  private readonly reads: RequestReads;
  private readonly updates: RequestUpdates;

  constructor(deps: RequestDeps) {
    this.filing = new RequestFiling(deps);
    this.reads = new RequestReads(deps);
    this.updates = new RequestUpdates(deps);
  }

  file(caller: Caller, fields: FileRequestFields, attachment: RequestAttachmentUpload | undefined): Promise<RequestDetail> {
    return this.filing.file(caller, fields, attachment);
  }

  list(caller: Caller, query: RequestListQuery): Promise<RequestPage> {
    return this.reads.list(caller, query);
  }

  get(caller: Caller, id: string): Promise<RequestDetail> {
    return this.reads.get(caller, id);
  }

  attachment(caller: Caller, id: string): Promise<AttachmentLink> {
    return this.reads.attachment(caller, id);
  }

  update(caller: Caller, id: string, input: UpdateRequestInput): Promise<RequestDetail> {
    return this.updates.update(caller, id, input);
  }
}
