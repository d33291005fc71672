import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A TCP proxy inside the test process, to put a network between two programs
 * and break it the way a real network breaks.
 *
 * `cut()` is a black hole, not a refusal: a partitioned network drops packets,
 * it does not send RST or FIN. So while cut,
 * - open connections stay open, but nothing is read from or written to either
 *   side: bytes (and a FIN) a peer sends wait in the kernel, as unacknowledged
 *   segments wait in a real sender's retransmission queue; a peer's keepalive
 *   is what must notice;
 * - new connections are accepted (the client sees its connect succeed, as
 *   when the far end's SYN-ACK got through just before the cut) but nothing is
 *   forwarded, and the upstream connection is not even opened.
 *
 * `restore()` is the network healing: every held connection resumes (what was
 * waiting is delivered, as TCP retransmission would), connections accepted
 * during the cut are connected upstream (a retransmitted SYN), and a connection
 * one side gave up on during the cut is reset, as the live side's next segment
 * would be answered with RST.
 */
export interface TcpProxy {
  readonly port: number;
  readonly isCut: boolean;
  /** Connections accepted so far (including during cuts). */
  readonly accepted: number;
  cut(): void;
  restore(): void;
  /** Closes the listener and destroys every connection. */
  close(): Promise<void>;
}

interface Pair {
  down: Socket;
  up: Socket | undefined;
  /** A side closed (FIN, RST or error) while cut: the other side learns it only when the network heals. */
  closedWhileCut: boolean;
}

export async function startTcpProxy(options: { target: { host: string; port: number }; host?: string; port?: number }): Promise<TcpProxy> {
  const host = options.host ?? '127.0.0.1';
  const pairs = new Set<Pair>();
  let isCut = false;
  let accepted = 0;

  const destroyPair = (pair: Pair) => {
    pairs.delete(pair);
    pair.down.destroy();
    pair.up?.destroy();
  };
  /** One side went away: tell the other, unless the network is cut (then at restore). */
  const sideClosed = (pair: Pair) => {
    if (isCut) pair.closedWhileCut = true;
    else destroyPair(pair);
  };

  /** Pipes one direction by hand (not .pipe()) so that a cut stops it without unpiping. */
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (isCut) {
        // Read just before the pause took effect: keep it for after the heal, as TCP would.
        from.pause();
        from.unshift(chunk);
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!isCut) from.resume();
        });
      }
    });
    from.on('end', () => {
      if (isCut) {
        const pair = [...pairs].find((p) => p.down === from || p.up === from);
        if (pair) pair.closedWhileCut = true;
      } else to.end();
    });
  };

  const connectUp = (pair: Pair) => {
    const up = connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true });
    up.setNoDelay(true);
    pair.up = up;
    up.on('error', () => sideClosed(pair));
    up.on('close', () => sideClosed(pair));
    forward(pair.down, up);
    forward(up, pair.down);
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (down) => {
    accepted += 1;
    down.setNoDelay(true);
    const pair: Pair = { down, up: undefined, closedWhileCut: false };
    pairs.add(pair);
    down.on('error', () => sideClosed(pair));
    down.on('close', () => sideClosed(pair));
    if (isCut) return; // held: paused, not connected upstream, until restore()
    connectUp(pair);
    down.resume();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : (options.port as number);

  return {
    port,
    get isCut() {
      return isCut;
    },
    get accepted() {
      return accepted;
    },
    cut() {
      isCut = true;
      for (const pair of pairs) {
        pair.down.pause();
        pair.up?.pause();
      }
    },
    restore() {
      isCut = false;
      for (const pair of [...pairs]) {
        if (pair.closedWhileCut) {
          // Whatever the live side sends next is answered with a reset: the connection is gone.
          destroyPair(pair);
          continue;
        }
        if (!pair.up) connectUp(pair);
        pair.down.resume();
        pair.up?.resume();
      }
    },
    async close() {
      for (const pair of [...pairs]) destroyPair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
