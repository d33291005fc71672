import { connect, type Socket } from 'node:net';
import type { PortAttempt } from '@medtel/shared';
import { registerMap } from '../drivers/modbus/config.js';
import { decodeRegisters, planReads } from '../drivers/modbus/registers.js';
import type { IdentifyPlan } from '../profiles/identify.js';
import type { ResolvedProfile } from '../profiles/load.js';
import { delay } from './probe-link.js';
import { type Identity, identityMatches } from './types.js';

type Identifiable = ResolvedProfile & { identifyPlan: IdentifyPlan };

/** Silence between two requests (a gateway in front of an RS-485 line needs its breath). */
const GAP_MS = 20;

/**
 * Builds a Modbus TCP read request (MBAP header + PDU). Only functions 03
 * (read holding) and 04 (read input) can be built here: probing a listed
 * host can never write.
 */
export function encodeTcpRead(transaction: number, unit: number, fn: 3 | 4, start: number, count: number): Buffer {
  const frame = Buffer.alloc(12);
  frame.writeUInt16BE(transaction & 0xffff, 0);
  frame.writeUInt16BE(0, 2); // protocol id: Modbus
  frame.writeUInt16BE(6, 4); // unit + PDU (fn, start, count)
  frame.writeUInt8(unit, 6);
  frame.writeUInt8(fn, 7);
  frame.writeUInt16BE(start, 8);
  frame.writeUInt16BE(count, 10);
  return frame;
}

/** One TCP connection to a listed host, reading registers one request at a time. */
class TcpReader {
  private buffer = Buffer.alloc(0);
  private waiting: { tid: number; resolve(r: number[] | 'exception' | undefined): void } | undefined;
  private tid = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (bytes) => this.push(bytes));
    socket.on('error', () => this.settle(undefined));
    socket.on('close', () => this.settle(undefined));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<TcpReader> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpReader(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Registers read, 'exception' (the unit answered, with a Modbus exception) or undefined (no answer in time). */
  read(unit: number, fn: 3 | 4, start: number, count: number, timeoutMs: number): Promise<number[] | 'exception' | undefined> {
    this.tid = (this.tid + 1) & 0xffff;
    const tid = this.tid;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(undefined), timeoutMs);
      this.waiting = {
        tid,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.socket.write(encodeTcpRead(tid, unit, fn, start, count));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private settle(r: number[] | 'exception' | undefined): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(r);
  }

  private push(bytes: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, bytes]);
    while (this.buffer.length >= 7) {
      const length = this.buffer.readUInt16BE(4);
      if (this.buffer.length < 6 + length) return;
      const frame = this.buffer.subarray(0, 6 + length);
      this.buffer = this.buffer.subarray(6 + length);
      // A late answer to an earlier (timed-out) request is dropped, never taken for this one.
      if (!this.waiting || frame.readUInt16BE(0) !== this.waiting.tid) continue;
      const fn = frame.readUInt8(7);
      if (fn & 0x80) {
        this.settle('exception');
        continue;
      }
      const count = frame.readUInt8(8) / 2;
      const regs: number[] = [];
      for (let i = 0; i < count && 9 + i * 2 + 1 < frame.length; i++) regs.push(frame.readUInt16BE(9 + i * 2));
      this.settle(regs);
    }
  }
}

export interface ModbusTcpProbe {
  identified?: { profile: Identifiable; identity: Identity };
  tried: PortAttempt[];
}

/**
 * Identifies the device behind one unit id of a listed Modbus TCP host: for
 * each profile with Modbus identification, reads its identity registers
 * (function 03/04 only) and compares them with `identify.match`.
 */
export async function probeModbusTcpUnit(url: string, unit: number, profiles: Identifiable[]): Promise<ModbusTcpProbe> {
  const { hostname, port } = new URL(url);
  const tried: PortAttempt[] = [];
  const modbus = profiles.filter((p) => p.identifyPlan.family === 'modbus');
  if (modbus.length === 0) return { tried };
  let reader: TcpReader;
  try {
    reader = await TcpReader.open(hostname, Number(port), 3000);
  } catch {
    return { tried: modbus.map((p) => ({ profile: p.profile, unitIds: String(unit), outcome: 'error' as const })) };
  }
  try {
    for (const profile of modbus) {
      const map = registerMap(profile);
      const identity: Identity = {};
      let outcome: PortAttempt['outcome'] = 'mismatch';
      for (const block of planReads(map.identityPoints)) {
        const reply = await reader.read(unit, block.table === 'holding' ? 3 : 4, block.start, block.count, profile.identifyPlan.timeoutMs);
        await delay(GAP_MS);
        if (reply === undefined) outcome = 'no-answer';
        if (!Array.isArray(reply) || reply.length < block.count) break;
        for (const point of block.points) {
          const value = decodeRegisters(reply, point.address - block.start, point.type, map.wordOrder, point.length);
          if (value !== '') identity[point.key as keyof Identity] = String(value);
        }
      }
      const matched = Object.keys(identity).length > 0 && identityMatches(profile.identifyPlan.match, identity);
      tried.push({ profile: profile.profile, unitIds: String(unit), outcome: matched ? 'matched' : outcome });
      if (matched) return { identified: { profile, identity }, tried };
    }
    return { tried };
  } finally {
    reader.close();
  }
}
