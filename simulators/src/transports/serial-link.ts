import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

/**
 * The simulator's end of a serial line, however it is carried:
 * - `tty`: an existing tty path (one end of a pty pair someone else made, or a real port);
 * - `pty`: make our own pty pair with socat and publish the agent's end at `link`;
 * - `tcp`: listen like a terminal server's raw port (one client at a time; a new one replaces the old).
 * Device code only writes bytes and gets bytes.
 */
export type SerialLinkSpec = { tty: string } | { pty: string } | { tcp: { host: string; port: number } };

export interface SimSerialLink {
  readonly description: string;
  onData(listener: (bytes: Buffer) => void): void;
  /** Sent to the agent if one is there; dropped otherwise (as on a cable nobody listens to). */
  write(bytes: Buffer): void;
  /** Simulated unplug: the agent's end disappears (pty link removed, TCP client dropped), then comes back. */
  unplug(forMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function openSimSerialLink(spec: SerialLinkSpec): Promise<SimSerialLink> {
  if ('tcp' in spec) return openTcp(spec.tcp.host, spec.tcp.port);
  if ('tty' in spec) return openTty(spec.tty);
  return openPty(spec.pty);
}

async function openPort(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 19200, autoOpen: false, hupcl: false });
  await new Promise<void>((res, rej) => port.open((err) => (err ? rej(err) : res())));
  port.on('error', () => undefined); // the agent's end vanishing must not end the simulator
  return port;
}

async function openTty(path: string): Promise<SimSerialLink> {
  const listeners: Array<(b: Buffer) => void> = [];
  let port: SerialPort | undefined = await openPort(path);
  port.on('data', (b: Buffer) => {
    for (const l of listeners) l(b);
  });
  return {
    description: path,
    onData: (l) => listeners.push(l),
    write: (bytes) => {
      if (port?.isOpen) port.write(bytes);
    },
    unplug: async (forMs) => {
      // Someone else owns the pty pair: all we can do is go quiet.
      const p = port;
      port = undefined;
      await new Promise((r) => setTimeout(r, forMs));
      port = p;
    },
    close: () => new Promise<void>((res) => (port?.isOpen ? port.close(() => res()) : res())),
  };
}

/** Starts socat with the agent's end at `link` and ours in a private temp dir; resolves when both exist. */
async function startSocat(link: string, own: string): Promise<ChildProcess> {
  const child = spawn('socat', [`pty,raw,echo=0,link=${link}`, `pty,raw,echo=0,link=${own}`], { stdio: 'ignore' });
  const failed = new Promise<never>((_, rej) => {
    child.once('error', (err) => rej(new Error(`cannot start socat (apt-get install socat): ${err.message}`)));
    child.once('exit', (code) => rej(new Error(`socat exited with code ${code}`)));
  });
  const ready = (async () => {
    for (let i = 0; i < 100 && !(existsSync(link) && existsSync(own)); i++) await new Promise((r) => setTimeout(r, 20));
    if (!existsSync(link)) throw new Error(`socat did not create ${link}`);
  })();
  await Promise.race([ready, failed]);
  failed.catch(() => undefined);
  return child;
}

function stopSocat(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
}

async function openPty(link: string): Promise<SimSerialLink> {
  const dir = mkdtempSync(join(tmpdir(), 'medtel-sim-pty-'));
  const own = join(dir, 'sim');
  const listeners: Array<(b: Buffer) => void> = [];
  let socat: ChildProcess | undefined;
  let port: SerialPort | undefined;
  const plug = async () => {
    socat = await startSocat(link, own);
    port = await openPort(own);
    port.on('data', (b: Buffer) => {
      for (const l of listeners) l(b);
    });
  };
  const unplugNow = async () => {
    const p = port;
    port = undefined;
    await stopSocat(socat);
    if (p?.isOpen) await new Promise<void>((res) => p.close(() => res()));
  };
  await plug();
  return {
    description: `pty ${link}`,
    onData: (l) => listeners.push(l),
    write: (bytes) => {
      if (port?.isOpen) port.write(bytes);
    },
    unplug: async (forMs) => {
      await unplugNow();
      await new Promise((r) => setTimeout(r, forMs));
      await plug();
    },
    close: async () => {
      await unplugNow();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openTcp(host: string, port: number): Promise<SimSerialLink> {
  const listeners: Array<(b: Buffer) => void> = [];
  let client: Socket | undefined;
  let refusing = false;
  const server: Server = createServer((socket) => {
    if (refusing) {
      socket.destroy();
      return;
    }
    client?.destroy();
    client = socket;
    socket.setNoDelay(true);
    socket.on('data', (b) => {
      for (const l of listeners) l(b);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (client === socket) client = undefined;
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    description: `tcp://${host}:${actual}`,
    onData: (l) => listeners.push(l),
    write: (bytes) => {
      if (client && !client.destroyed) client.write(bytes);
    },
    unplug: async (forMs) => {
      refusing = true;
      client?.destroy();
      client = undefined;
      await new Promise((r) => setTimeout(r, forMs));
      refusing = false;
    },
    close: () =>
      new Promise<void>((res) => {
        client?.destroy();
        server.close(() => res());
      }),
  };
}
