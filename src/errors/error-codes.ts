// Every error code the application throws, and the HTTP status each one answers with.
// AppError.code is an ErrorCode and ERROR_STATUS is a Record<ErrorCode, …>: a code without a status does not compile.
// To add a code: one line in the union, one line in the table.

export type ErrorCode =
  // the request itself
  | 'VALIDATION_FAILED'
  | 'MALFORMED_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'METHOD_NOT_ALLOWED'
  | 'UPGRADE_REQUIRED'
  | 'NOT_FOUND'
  | 'SUPERVISOR_NOT_FOUND'
  | 'QUEUE_NOT_FOUND'
  | 'NODE_NOT_FOUND'
  | 'FANOUT_JOB_NOT_FOUND'
  | 'SUBSCRIPTION_NOT_FOUND'
  | 'METER_NOT_FOUND'
  | 'METER_LINK_NOT_FOUND'
  | 'METER_KIND_MISMATCH'
  | 'AGENCY_NOT_FOUND'
  | 'TARIFF_BAND_NOT_FOUND'
  | 'REQUEST_TYPE_NOT_FOUND'
  | 'SMS_SANDBOX_ONLY'
  | 'CLI_USAGE'
  | 'CLI_API_UNREACHABLE'
  | 'REQUEST_NOT_FOUND'
  | 'REQUEST_ATTACHMENT_NOT_FOUND'
  | 'REQUEST_TYPE_UNKNOWN'
  | 'REQUEST_AGENCY_UNKNOWN'
  | 'REQUEST_NEEDS_METER'
  | 'MULTIPART_INVALID'
  // who is calling
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_REFRESH_TOKEN'
  | 'INVALID_CODE'
  | 'WEAK_PIN_REPEATED'
  | 'WEAK_PIN_SEQUENCE'
  | 'WEAK_PIN_COMMON'
  | 'WEAK_PIN_PHONE'
  | 'FORBIDDEN'
  | 'PHONE_NOT_VERIFIED'
  | 'AGENT_WITHOUT_AGENCY'
  // conflicts and limits
  | 'IDEMPOTENCY_CONFLICT'
  | 'METER_ALREADY_LINKED'
  | 'METER_LINK_NOT_PENDING'
  | 'AGENCY_EXISTS'
  | 'AGENCY_IN_USE'
  | 'TARIFF_BANDS_CONFLICT'
  | 'REQUEST_TYPE_EXISTS'
  | 'REQUEST_TYPE_IN_USE'
  | 'SMS_REJECTED'
  | 'ACCOUNT_LOCKED'
  | 'TOO_MANY_REQUESTS'
  | 'CODE_COOLDOWN'
  | 'SMS_BUDGET_EXCEEDED'
  // the actor runtime
  | 'QUERY_TIMEOUT'
  | 'NODE_TIMEOUT'
  | 'ACTOR_RESTARTING'
  | 'ACTOR_STOPPED'
  | 'ACTOR_NOT_FOUND'
  | 'ACTOR_CRASHED'
  | 'INVALID_ACTOR_STATE'
  | 'SUPERVISOR_GAVE_UP'
  | 'NOT_READY'
  | 'CONFIG_INVALID'
  // dependencies
  | 'SERVICE_UNAVAILABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_REQUEST_FAILED'
  | 'OBJECT_NOT_FOUND'
  | 'DATABASE_BUSY'
  | 'DIRECTORY_UNAVAILABLE'
  | 'SMS_UNAVAILABLE'
  | 'SMS_DELIVERY_UNKNOWN'
  | 'SMS_GATEWAY_ANSWER_TOO_LARGE'
  | 'BROKER_UNAVAILABLE'
  | 'BROKER_REJECTED'
  | 'BROKER_MANAGEMENT_UNAVAILABLE'
  | 'LIVE_BUS_UNAVAILABLE'
  | 'PUSH_PIPELINE_CLOSED'
  | 'FCM_TRANSPORT_FAILED'
  | 'SOURCE_ROW_INVALID'
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_QUERY_FAILED'
  | 'SOURCE_NOT_ENCRYPTED';

/**
 * Error code → HTTP status. 500 is left to errors nobody typed (INTERNAL). Codes that never reach a
 * response (CONFIG_INVALID at start, CLI_USAGE, the dispatch pipeline's) still get the status they would mean.
 */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  PAYLOAD_TOO_LARGE: 413,
  // An upload whose client sent nothing for the idle timeout (REQUEST_UPLOAD_IDLE_TIMEOUT_MS): nothing was stored.
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  METHOD_NOT_ALLOWED: 405,
  UPGRADE_REQUIRED: 426,
  NOT_FOUND: 404,
  SUPERVISOR_NOT_FOUND: 404,
  // Not one of the four priority queues (POST /admin/queues/{name}/pause|resume).
  QUEUE_NOT_FOUND: 404,
  NODE_NOT_FOUND: 404,
  FANOUT_JOB_NOT_FOUND: 404,
  SUBSCRIPTION_NOT_FOUND: 404,
  // No meter with this number in the utility's data (prepaid customers or postpaid accounts).
  METER_NOT_FOUND: 404,
  // A link id the caller may not see is this same 404, never a 403: ids cannot be probed (DOMAIN.md rule 5).
  METER_LINK_NOT_FOUND: 404,
  // The caller's own link, asked for what its kind has not (a prepaid meter's bills, a postpaid meter's purchases).
  METER_KIND_MISMATCH: 404,
  AGENCY_NOT_FOUND: 404,
  TARIFF_BAND_NOT_FOUND: 404,
  REQUEST_TYPE_NOT_FOUND: 404,
  SMS_SANDBOX_ONLY: 404,
  CLI_USAGE: 400,
  // A CLI (check-health) could not ask the API: unreachable, or an answer it could not read.
  CLI_API_UNREACHABLE: 502,
  // A request the caller may not read is this same 404, never a 403: ids cannot be probed (as rule 5 for links).
  REQUEST_NOT_FOUND: 404,
  // The request has no attachment, or it was deleted after its author's account was.
  REQUEST_ATTACHMENT_NOT_FOUND: 404,
  // A request type that is not in the list, or withdrawn.
  REQUEST_TYPE_UNKNOWN: 400,
  // An agency that is not in the list, or withdrawn.
  REQUEST_AGENCY_UNKNOWN: 400,
  // The type is about a meter (needs_meter) and no linkId was given.
  REQUEST_NEEDS_METER: 400,
  // A multipart body we cannot take: malformed, a field after the file, a second file, too many or too long parts.
  MULTIPART_INVALID: 400,

  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_REFRESH_TOKEN: 401,
  INVALID_CODE: 400,
  WEAK_PIN_REPEATED: 400,
  WEAK_PIN_SEQUENCE: 400,
  WEAK_PIN_COMMON: 400,
  WEAK_PIN_PHONE: 400,
  FORBIDDEN: 403,
  PHONE_NOT_VERIFIED: 403,
  AGENT_WITHOUT_AGENCY: 403,

  IDEMPOTENCY_CONFLICT: 409,
  METER_ALREADY_LINKED: 409,
  // Approve or reject a link that is no longer waiting (decided already, or ended).
  METER_LINK_NOT_PENDING: 409,
  AGENCY_EXISTS: 409,
  // Users, links, requests or jobs name the agency: it is withdrawn (active = false), not deleted.
  AGENCY_IN_USE: 409,
  // The edit would leave a tariff's bands overlapping or with a gap; the problem's `fields` name the clash.
  TARIFF_BANDS_CONFLICT: 409,
  REQUEST_TYPE_EXISTS: 409,
  // Requests of the type exist: it is withdrawn, not deleted.
  REQUEST_TYPE_IN_USE: 409,
  SMS_REJECTED: 422,
  ACCOUNT_LOCKED: 429,
  TOO_MANY_REQUESTS: 429,
  CODE_COOLDOWN: 429,
  SMS_BUDGET_EXCEEDED: 429,

  QUERY_TIMEOUT: 504,
  NODE_TIMEOUT: 504,
  ACTOR_RESTARTING: 503,
  ACTOR_STOPPED: 503,
  ACTOR_NOT_FOUND: 503,
  // A crash restarts the actor: the same request may well succeed a moment later.
  ACTOR_CRASHED: 503,
  INVALID_ACTOR_STATE: 503,
  SUPERVISOR_GAVE_UP: 503,
  NOT_READY: 503,
  CONFIG_INVALID: 503,

  SERVICE_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  STORAGE_UNAVAILABLE: 503,
  // Storage answered and refused (access denied, a bad request): a bug or a misconfiguration, not an outage.
  STORAGE_REQUEST_FAILED: 502,
  // A key with no object behind it (a row must never point to one: see the requests' consistency rules).
  OBJECT_NOT_FOUND: 404,
  DATABASE_BUSY: 503,
  DIRECTORY_UNAVAILABLE: 503,
  SMS_UNAVAILABLE: 503,
  SMS_DELIVERY_UNKNOWN: 503,
  SMS_GATEWAY_ANSWER_TOO_LARGE: 502,
  BROKER_UNAVAILABLE: 503,
  // The broker answered, and refused: sending the same message again may not help.
  BROKER_REJECTED: 502,
  // RabbitMQ's management API is not configured, down, or refused us: /admin/queues cannot read the counters.
  BROKER_MANAGEMENT_UNAVAILABLE: 503,
  LIVE_BUS_UNAVAILABLE: 503,
  PUSH_PIPELINE_CLOSED: 503,
  FCM_TRANSPORT_FAILED: 502,
  // A utility database answered with a row our mapper refuses: asking again returns the same row.
  SOURCE_ROW_INVALID: 502,
  SOURCE_UNAVAILABLE: 503,
  // The utility's database took the query and did not answer within our deadline.
  SOURCE_TIMEOUT: 504,
  // The utility's database answered with an error: retrying the same query will not help.
  SOURCE_QUERY_FAILED: 502,
  SOURCE_NOT_ENCRYPTED: 502,
};
