/**
 * The device side of the medtel ECG stream (docs/simulators/ecg.md):
 * SYNC 0xA5 | type | seq u16 | length u16 | payload | CRC-16/MODBUS u16, big-endian.
 */
export const SYNC = 0xa5;
/** 0x04: patient info (key=value;..., empty when no patient is associated). */
export const ECG_FRAME = { info: 0x01, wave: 0x02, numerics: 0x03, patient: 0x04 } as const;
/** Numerics ids in the numerics frame. */
export const ECG_NUMERIC = { hr: 1, spo2: 2, pulseRate: 3, nibpSys: 4, nibpDia: 5, nibpMean: 6, resp: 7, temp: 8 } as const;
export const NOT_MEASURED = 0x7fff;

export function crc16Modbus(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function ecgFrame(type: number, seq: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(6 + payload.length + 2);
  out[0] = SYNC;
  out[1] = type;
  out.writeUInt16BE(seq & 0xffff, 2);
  out.writeUInt16BE(payload.length, 4);
  payload.copy(out, 6);
  out.writeUInt16BE(crc16Modbus(out.subarray(1, 6 + payload.length)), 6 + payload.length);
  return out;
}

export function corruptCrc(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  out[out.length - 1] = ((out[out.length - 1] as number) ^ 0x5a) & 0xff;
  return out;
}

/** samples[lead][i] in raw counts (5 uV each), interleaved sample by sample. */
export function wavePayload(first: number, samples: number[][]): Buffer {
  const leads = samples.length;
  const count = samples[0]?.length ?? 0;
  const p = Buffer.alloc(6 + leads * count * 2);
  p.writeUInt32BE(first >>> 0, 0);
  p[4] = leads;
  p[5] = count;
  for (let s = 0; s < count; s++)
    for (let l = 0; l < leads; l++) p.writeInt16BE(Math.max(-32768, Math.min(32767, Math.round(samples[l]?.[s] ?? 0))), 6 + (s * leads + l) * 2);
  return p;
}

export function numericsPayload(values: Array<[number, number | null]>): Buffer {
  const p = Buffer.alloc(values.length * 3);
  values.forEach(([id, v], i) => {
    p[i * 3] = id;
    p.writeInt16BE(v === null ? NOT_MEASURED : Math.round(v * 10), i * 3 + 1);
  });
  return p;
}

export function infoPayload(info: Record<string, string | number>): Buffer {
  return Buffer.from(
    Object.entries(info)
      .map(([k, v]) => `${k}=${v}`)
      .join(';'),
    'latin1',
  );
}
