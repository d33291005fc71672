import { apiFetch } from './api.js';

/**
 * GET /api/v1/stream read with fetch() (EventSource cannot send the bearer
 * header; docs/alerts.md#live-stream). Reconnects with a growing delay; after
 * every (re)connect `onOpen` runs, because the stream has no resume: the page
 * re-reads what it shows, then continues from the live events.
 */
export interface StreamHandlers {
  onOpen?: () => void;
  onEvent: (event: string, data: unknown) => void;
  onState?: (connected: boolean) => void;
}

export class LiveStream {
  private readonly controller = new AbortController();
  private retryMs = 1000;

  constructor(
    private readonly query: string,
    private readonly handlers: StreamHandlers,
  ) {
    void this.run();
  }

  close(): void {
    this.controller.abort();
  }

  private async run(): Promise<void> {
    while (!this.controller.signal.aborted) {
      try {
        const res = await apiFetch(`/api/v1/stream?${this.query}`, { signal: this.controller.signal });
        if (res.status === 401 || res.status === 403) return; // signed out, or the role may not: no point retrying
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        this.retryMs = 1000;
        this.handlers.onState?.(true);
        this.handlers.onOpen?.();
        await this.read(res.body);
      } catch {
        // Network error or abort: fall through to the retry (or the loop's exit).
      }
      this.handlers.onState?.(false);
      if (this.controller.signal.aborted) return;
      await new Promise((r) => setTimeout(r, this.retryMs));
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        if (frame.startsWith(':')) continue; // heartbeat
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event === undefined || data === undefined) continue;
        this.handlers.onEvent(event, JSON.parse(data));
      }
    }
  }
}
