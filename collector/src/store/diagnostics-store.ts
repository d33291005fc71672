import type { Actor } from './store.js';

/**
 * Diagnostic requests and their outcomes (docs/diagnostics.md), behind their
 * own interface so that another backend can implement it.
 *
 * States: `pending` (sent, awaiting the result), `completed` (a result came:
 * ok true or false), `gateway-offline` (the owning gateway was not connected
 * when asked: final at once, nothing is queued), `timed-out` (no result by
 * the deadline; a result that comes later is kept as `lateResult`).
 */
export type DiagnosticState = 'pending' | 'completed' | 'gateway-offline' | 'timed-out';

export interface DiagnosticResult {
  ok: boolean;
  result?: unknown;
  error?: string;
  receivedAt: number;
}

export interface DiagnosticRecord {
  requestId: string;
  /** Registry id `{gateway}.{device}`. */
  deviceId: string;
  gateway: string;
  test: string;
  args: Record<string, unknown> | null;
  reason: string | null;
  requestedBy: Actor;
  requestedAt: number;
  timeoutMs: number;
  /** requestedAt + timeoutMs: past it, a pending request is timed out. */
  deadline: number;
  state: DiagnosticState;
  /** Whether the test ran and passed; null until completed. */
  ok: boolean | null;
  result: unknown;
  error: string | null;
  completedAt: number | null;
  lateResult: DiagnosticResult | null;
}

export interface NewDiagnosticRequest {
  requestId: string;
  deviceId: string;
  gateway: string;
  test: string;
  args?: Record<string, unknown>;
  reason?: string;
  requestedAt: number;
  timeoutMs: number;
  /** `gateway-offline` is final at once, with `error` saying so. */
  state: 'pending' | 'gateway-offline';
  error?: string;
}

export interface DiagnosticsStore {
  /** Records a request and its audit entry (actor, device, test, reason) in one transaction. */
  create(request: NewDiagnosticRequest, actor: Actor): Promise<DiagnosticRecord>;
  get(requestId: string): Promise<DiagnosticRecord | undefined>;
  /** A device's requests, newest first. */
  listForDevice(deviceId: string, query: { limit: number; offset: number }): Promise<{ items: DiagnosticRecord[]; total: number }>;
  /**
   * Applies a result from `gateway` (only the gateway that owns the request
   * may answer it): a pending request completes; a timed-out one keeps its
   * state and gains `lateResult`. Undefined if no such request.
   */
  recordResult(gateway: string, requestId: string, result: DiagnosticResult): Promise<DiagnosticRecord | undefined>;
  /** Marks pending requests whose deadline is at or before `now` as timed out; returns them. */
  expire(now: number): Promise<DiagnosticRecord[]>;
  /**
   * At start: applies results that were stored while nobody listened (a crash
   * between commit and listener), then expires what is overdue.
   */
  recover(now: number): Promise<void>;
}
