export {
  Outbox,
  OutboxOpenError,
  PRIORITY,
  type DropReason,
  type OutboxKind,
  type OutboxMessage,
  type OutboxOptions,
  type OutboxRow,
  type OutboxStats,
} from './outbox.js';
export { buildPayload } from './payload.js';
export { GapTally, type GapBody } from './gaps.js';
