import { describe, expect, it } from 'vitest';
import { seededRandom } from '@medtel/simulators';
import { EcgStreamParser, decodeWave } from '../dist/drivers/ecg-stream/frame.js';
import { MedibusParser, checksum, encodeCommand } from '../dist/drivers/medibus/frame.js';
import { parseAlarms, parseDeviceId, parseValues } from '../dist/drivers/medibus/records.js';
import { RtuReplyReader, encodeReadRequest, encodeWriteRequest } from '../dist/drivers/modbus/rtu-frame.js';
import { crc16 } from '../dist/drivers/serial-common/crc16.js';

/** Parsers with hand-built frames (checksums computed by hand), then fuzzed. */
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function mutate(frame: Buffer, r: () => number): Buffer {
  const out = Buffer.from(frame);
  const kind = Math.floor(r() * 4);
  if (kind === 0 && out.length > 0) {
    const at = Math.floor(r() * out.length);
    out[at] = (out[at] as number) ^ (1 << Math.floor(r() * 8));
  }
  if (kind === 1) return out.subarray(0, Math.floor(r() * out.length));
  if (kind === 2) return Buffer.concat([Buffer.from(Array.from({ length: Math.floor(r() * 8) }, () => Math.floor(r() * 256))), out]);
  if (kind === 3 && out.length > 2) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
  return out;
}

describe('MEDIBUS-style framing', () => {
  it('checksums match the documented examples (ICC, NOP, device id)', () => {
    expect(encodeCommand(0x51)).toEqual(hex('1B 51 36 43 0D'));
    expect(encodeCommand(0x30)).toEqual(hex('1B 30 34 42 0D'));
    expect(encodeCommand(0x52)).toEqual(hex('1B 52 36 44 0D'));
  });

  it('parses a response split across chunks, skipping garbage and realtime bytes; rejects a bad checksum', () => {
    const body = Buffer.from([0x01, 0x24, ...Buffer.from('88 450D6  14', 'latin1')]);
    const frame = Buffer.concat([body, Buffer.from(checksum(body), 'latin1'), Buffer.from([0x0d])]);
    const faults: string[] = [];
    const p = new MedibusParser((f) => faults.push(f));
    const frames = [...p.push(Buffer.from('xx')), ...p.push(Buffer.concat([frame.subarray(0, 5), Buffer.from([0x85])])), ...p.push(frame.subarray(5))];
    expect(frames).toEqual([{ kind: 'response', cmd: 0x24, data: '88 450D6  14' }]);
    expect(faults).toEqual(['garbage']);
    const bad = Buffer.from(frame);
    bad[bad.length - 2] = 0x30;
    expect(p.push(bad)).toEqual([]);
    expect(faults).toContain('checksum');
  });

  it('decodes records', () => {
    expect(parseValues('88 450D6  14', 'measured')).toEqual(
      new Map([
        ['88', '450'],
        ['D6', '14'],
      ]),
    );
    expect(parseAlarms('322APNEA       ')).toEqual([{ priority: 3, code: '22', text: 'APNEA' }]);
    expect(parseDeviceId("0161'MT-VENT-500'02.13.0    VT-1")).toEqual({ id: '0161', name: 'MT-VENT-500', revision: '02.13.0', serial: 'VT-1' });
    expect(() => parseValues('88 45', 'measured')).toThrow(/multiple of 6/);
  });
});

describe('ECG stream framing', () => {
  const waveFrame = () => {
    const payload = hex('00000010 03 01 0064 FF9C 0000'); // first 16, 3 leads x 1 sample: 100, -100, 0
    const head = Buffer.concat([Buffer.from([0x02, 0x00, 0x07]), Buffer.from([0x00, payload.length]), payload]);
    const crc = Buffer.alloc(2);
    crc.writeUInt16BE(crc16(head));
    return Buffer.concat([Buffer.from([0xa5]), head, crc]);
  };

  it('decodes a hand-built waveform frame and finds it behind a fake sync byte', () => {
    const faults: string[] = [];
    const p = new EcgStreamParser((f) => faults.push(f));
    const frames = p.push(Buffer.concat([hex('A5 02'), waveFrame()]));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.seq).toBe(7);
    const w = decodeWave(frames[0]?.payload as Buffer);
    expect(w.first).toBe(16);
    expect(w.samples.map((s) => [...s])).toEqual([[100], [-100], [0]]);
    expect(faults).toContain('checksum');
  });
});

describe('Modbus RTU framing', () => {
  it('builds a read request with its CRC (low byte first) and reads a reply and an exception', () => {
    expect(encodeReadRequest(1, 3, 0, 10)).toEqual(hex('01 03 0000 000A C5CD'));
    const reply = hex('02 04 04 0001 00FF');
    const withCrc = Buffer.concat([reply, Buffer.from([crc16(reply) & 0xff, crc16(reply) >> 8])]);
    expect(new RtuReplyReader(2, 4, () => {}).push(withCrc)).toEqual({ registers: [1, 255] });
    const ex = hex('02 84 02');
    expect(new RtuReplyReader(2, 4, () => {}).push(Buffer.concat([ex, Buffer.from([crc16(ex) & 0xff, crc16(ex) >> 8])]))).toEqual({ exception: 2 });
  });

  it('builds a coil write (ON is FF00) and reads its echo, also when it arrives in pieces', () => {
    const request = encodeWriteRequest(1, 5, 0, 0xff00);
    expect(request.subarray(0, 6)).toEqual(hex('01 05 0000 FF00'));
    expect(request.readUInt16LE(6)).toBe(crc16(request.subarray(0, 6)));
    const reader = new RtuReplyReader(1, 5, () => {});
    expect(reader.push(request.subarray(0, 5))).toBeUndefined();
    expect(reader.push(request.subarray(5))).toEqual({ echo: { address: 0, value: 0xff00 } });
  });
});

describe('fuzz: 100k random and mutated frames per parser', () => {
  const N = 100_000;

  it('MEDIBUS: no exception, and every frame returned passes its checksum', () => {
    const r = seededRandom(1);
    const p = new MedibusParser();
    const good = Buffer.concat([Buffer.from([0x01, 0x24]), Buffer.from('88 450', 'latin1')]);
    const frame = Buffer.concat([good, Buffer.from(checksum(good), 'latin1'), Buffer.from([0x0d])]);
    let history = Buffer.alloc(0);
    for (let i = 0; i < N; i++) {
      const input = r() < 0.5 ? mutate(frame, r) : Buffer.from(Array.from({ length: 1 + Math.floor(r() * 24) }, () => Math.floor(r() * 256)));
      history = Buffer.concat([history, input]).subarray(-4096);
      for (const f of p.push(input)) {
        // What came out was on the wire, byte for byte, with a checksum that matches.
        const raw = Buffer.concat([Buffer.from([f.kind === 'command' ? 0x1b : 0x01, f.cmd]), Buffer.from(f.data, 'latin1')]);
        const clean = Buffer.from([...history].filter((b) => b < 0x80 && b !== 0x11 && b !== 0x13));
        expect(clean.includes(Buffer.concat([raw, Buffer.from(checksum(raw), 'latin1'), Buffer.from([0x0d])]))).toBe(true);
      }
    }
  });

  it('ECG stream: no exception, no frame with a failed CRC', () => {
    const r = seededRandom(2);
    const p = new EcgStreamParser();
    const payload = hex('00000010 03 01 0064 FF9C 0000');
    const head = Buffer.concat([Buffer.from([0x02, 0x00, 0x07, 0x00, payload.length]), payload]);
    const crc = Buffer.alloc(2);
    crc.writeUInt16BE(crc16(head));
    const frame = Buffer.concat([Buffer.from([0xa5]), head, crc]);
    for (let i = 0; i < N; i++) {
      const input = r() < 0.5 ? mutate(frame, r) : Buffer.from(Array.from({ length: 1 + Math.floor(r() * 24) }, () => Math.floor(r() * 256)));
      for (const f of p.push(input)) {
        if (f.type === 0x02 && f.seq === 7) expect(f.payload).toEqual(payload);
        try {
          decodeWave(f.payload);
        } catch (err) {
          expect((err as Error).name).toBe('Error'); // PayloadError: counted as malformed by the session
        }
      }
    }
  });

  it('Modbus RTU replies: no exception, only CRC-checked replies', () => {
    const r = seededRandom(3);
    const reply = hex('02 04 04 0001 00FF');
    const frame = Buffer.concat([reply, Buffer.from([crc16(reply) & 0xff, crc16(reply) >> 8])]);
    for (let i = 0; i < N; i++) {
      const reader = new RtuReplyReader(2, 4, () => {});
      const input = r() < 0.5 ? mutate(frame, r) : Buffer.from(Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256)));
      const out = reader.push(input);
      if (!out) continue;
      if ('echo' in out) throw new Error('a function 04 reply is never an echo');
      // A reply only from bytes that were there with a valid CRC.
      const body = 'exception' in out ? [2, 0x84, out.exception] : [2, 4, out.registers.length * 2, ...out.registers.flatMap((v) => [v >> 8, v & 0xff])];
      const c = crc16(Buffer.from(body));
      expect(input.includes(Buffer.from([...body, c & 0xff, c >> 8]))).toBe(true);
    }
  });
});
