// Messages of the control actor: the on-call view of this process's supervision tree.
import type { Reply } from './reply.js';
import type { ReadinessReport, TreeNode } from './supervision.js';

export type ControlMessage =
  | { type: 'tree'; replyTo: Reply<TreeNode> }
  | { type: 'readiness'; replyTo: Reply<ReadinessReport> }
  | { type: 'restart-supervisor'; name: string; reason: string; replyTo: Reply<{ restarted: string }> };
