import net from 'node:net';
import M from 'modbus-serial';

// modbus-serial is CommonJS: under NodeNext its class is the default export's `default`.
export const ModbusRTU = M.default;
export type ModbusClient = InstanceType<typeof ModbusRTU>;

export { freePort } from '../../test/helpers.js';

/** True if we can bind `port` ourselves, i.e. whoever had it has let go. */
export async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function connect(port: number, unitId = 1, timeoutMs = 1000): Promise<ModbusClient> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(unitId);
  client.setTimeout(timeoutMs);
  return client;
}

/** modbus-serial's close() never calls back if the socket is already closed (e.g. by the server). */
export async function disconnect(client: ModbusClient): Promise<void> {
  if (!client.isOpen) return;
  await new Promise<void>((resolve) => client.close(() => resolve()));
}

/** Decoders written independently of the simulator's own codec, so the tests check the map. */
export function float32At(regs: number[], index: number): number {
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(regs[index] as number, 0);
  buf.writeUInt16BE(regs[index + 1] as number, 2);
  return buf.readFloatBE(0);
}

export function stringAt(regs: number[], index: number, registers: number): string {
  const buf = Buffer.alloc(registers * 2);
  for (let i = 0; i < registers; i++) buf.writeUInt16BE(regs[index + i] as number, i * 2);
  return buf.toString('ascii').replace(/\0+$/, '');
}

export function float32Registers(value: number): number[] {
  const buf = Buffer.alloc(4);
  buf.writeFloatBE(value);
  return [buf.readUInt16BE(0), buf.readUInt16BE(2)];
}

export async function modbusError(promise: Promise<unknown>): Promise<{ modbusCode?: number; message: string; errno?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { modbusCode?: number; message: string; errno?: string };
  }
  throw new Error('expected the request to fail');
}
