/**
 * Reads GET /api/v1/stream over real HTTP as a dashboard does (fetch() streaming with the bearer
 * header): events with their ids, comment lines (heartbeats), and whether the server ended it.
 */
export type SseEvent = { id?: string; event: string; data: unknown };

export function followStream(url: string, token: string) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const controller = new AbortController();
  let ended = false;
  const done = (async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
    if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            frame
              .split('\n')
              .filter((l) => !l.startsWith(':'))
              .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
          );
          if (frame.startsWith(':')) comments.push(frame);
          else events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data ?? 'null') });
          end = buffer.indexOf('\n\n');
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
    ended = true;
    return res;
  })();
  return { events, comments, done, ended: () => ended, stop: () => controller.abort() };
}
