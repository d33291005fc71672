import { SerialPort } from 'serialport';
import type { ByteLink, LinkEvents } from './byte-link.js';
import type { SerialEndpoint } from './endpoint.js';

type TtyEndpoint = Extract<SerialEndpoint, { kind: 'tty' }>;

/**
 * Opens a local tty with serialport. The path is opened as given every time, so a
 * /dev/serial/by-id/ link that vanished on unplug is found again on replug, even
 * if the adapter comes back as another ttyUSBn.
 */
export function openTtyLink(e: TtyEndpoint, events: LinkEvents): Promise<ByteLink> {
  const port = new SerialPort({
    path: e.path,
    baudRate: e.baudRate,
    dataBits: e.dataBits,
    parity: e.parity,
    stopBits: e.stopBits,
    rtscts: e.flowControl === 'rtscts',
    xon: e.flowControl === 'xonxoff',
    xoff: e.flowControl === 'xonxoff',
    autoOpen: false,
    // Leave modem lines alone: the ioctls fail on ptys and some adapters (STACK-NOTES).
    hupcl: false,
  });
  let closed = false;
  const fail = (reason: string) => {
    if (closed) return;
    closed = true;
    events.closed(reason);
  };
  return new Promise((resolve, reject) => {
    port.open((err) => {
      if (err) {
        reject(err);
        return;
      }
      port.on('data', (bytes: Buffer) => events.data(bytes));
      // serialport may emit close twice, or nothing at all when a pty's far end dies: the
      // session's read watchdog covers the silent case.
      port.on('error', (error: Error) => fail(error.message));
      port.on('close', () => fail('port closed'));
      resolve({
        write: (bytes) =>
          new Promise<void>((res, rej) => {
            port.write(bytes, (error) => (error ? rej(error) : res()));
          }),
        close: () =>
          new Promise<void>((res) => {
            closed = true;
            if (!port.isOpen) return res();
            port.close(() => res());
          }),
      });
    });
  });
}
