// What the supervision layer did, for tests, metrics and the control plane.

export type SupervisionEvent =
  | { type: 'started'; name: string; kind: 'actor' | 'supervisor' }
  | { type: 'crashed'; name: string; error: unknown }
  | { type: 'restart-scheduled'; name: string; group: readonly string[]; delayMs: number }
  | { type: 'stopped'; name: string; kind: 'actor' | 'supervisor' }
  | { type: 'gave-up'; name: string; error: unknown };
