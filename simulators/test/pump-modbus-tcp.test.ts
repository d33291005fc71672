import { afterEach, describe, expect, it } from 'vitest';
import { type PumpSimulator, PumpState, serveModbusTcp, startPumpSimulator } from '../dist/index.js';
import { connect, disconnect, float32At, freePort, type ModbusClient, modbusError, portIsFree, stringAt } from './helpers.js';

// Everything a test opens is closed here, even when an assertion fails half-way.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<Parameters<typeof startPumpSimulator>[0]> = {}): Promise<PumpSimulator> {
  const sim = await startPumpSimulator({ port: await freePort(), seed: 1, ...options });
  cleanups.push(() => sim.close());
  return sim;
}

async function client(port: number, unitId = 1, timeoutMs = 1000): Promise<ModbusClient> {
  const c = await connect(port, unitId, timeoutMs);
  cleanups.push(() => disconnect(c));
  return c;
}

describe('pump simulator over Modbus TCP (loopback)', () => {
  it('serves the whole map', async () => {
    const sim = await start({ serial: 'ICU3-BED7', drugName: 'Heparin', rateMlPerH: 125, vtbiMl: 1000 });
    const c = await client(sim.port);

    const input = (await c.readInputRegisters(0, 13)).data;
    expect(input[0]).toBe(PumpState.Running);
    expect(float32At(input, 1)).toBe(125);
    expect(float32At(input, 3)).toBe(1000);
    expect(float32At(input, 5)).toBeGreaterThanOrEqual(0);
    expect(float32At(input, 5) + float32At(input, 7)).toBeCloseTo(1000, 3);
    expect(input[9]).toBe(480); // ~1000 mL / 125 mL/h = 8 h, rounded up
    expect(input[10]).toBeGreaterThan(50);
    expect(input[10]).toBeLessThan(70);
    expect(input[11]).toBe(100);
    expect(input[12]).toBe(0);

    const holding = (await c.readHoldingRegisters(0, 66)).data;
    expect(stringAt(holding, 0, 10)).toBe('Heparin');
    expect(float32At(holding, 10)).toBe(100);
    expect(holding[12]).toBe(300);
    expect(stringAt(holding, 20, 8)).toBe('ICU3-BED7');
    expect(stringAt(holding, 30, 8)).toBe('MT-LVP-100');
    expect(stringAt(holding, 40, 4)).toBe('1.4.2');
    expect(stringAt(holding, 50, 16)).toBe('medtel simulated');

    expect((await c.readCoils(0, 2)).data.slice(0, 2)).toEqual([true, false]);
    expect((await c.readDiscreteInputs(0, 2)).data.slice(0, 2)).toEqual([false, true]);
    // Single-register reads take another path through modbus-serial's server.
    expect((await c.readHoldingRegisters(12, 1)).data).toEqual([300]);
    expect((await c.readInputRegisters(0, 1)).data).toEqual([PumpState.Running]);
  });

  it('answers exception 2 (illegal data address) outside the map', async () => {
    const sim = await start();
    const c = await client(sim.port);
    expect((await modbusError(c.readInputRegisters(15, 1))).modbusCode).toBe(2);
    expect((await modbusError(c.readInputRegisters(0, 16))).modbusCode).toBe(2);
    expect((await modbusError(c.readHoldingRegisters(110, 1))).modbusCode).toBe(2);
    expect((await modbusError(c.readHoldingRegisters(105, 10))).modbusCode).toBe(2);
    expect((await modbusError(c.readCoils(3, 1))).modbusCode).toBe(2);
    expect((await modbusError(c.readDiscreteInputs(0, 3))).modbusCode).toBe(2);
    expect((await modbusError(c.writeRegister(20, 0x4142))).modbusCode).toBe(2);
    // The connection is still good afterwards.
    expect((await c.readHoldingRegisters(12, 1)).data).toEqual([300]);
  });

  it('pauses and starts through coil 0 and takes register writes', async () => {
    const sim = await start();
    const c = await client(sim.port);
    await c.writeCoil(0, false);
    expect(sim.pump.snapshot().state).toBe(PumpState.Paused);
    expect((await c.readInputRegisters(0, 1)).data).toEqual([PumpState.Paused]);
    expect((await c.readCoils(0, 1)).data[0]).toBe(false);
    await c.writeCoil(0, true);
    expect((await c.readInputRegisters(0, 1)).data).toEqual([PumpState.Running]);

    await c.writeRegister(12, 450);
    expect((await c.readHoldingRegisters(12, 1)).data).toEqual([450]);
    expect((await modbusError(c.writeRegister(12, 99))).modbusCode).toBe(3);
    expect((await modbusError(c.writeRegisters(10, [0x4120, 0, 1001]))).modbusCode).toBe(3); // all or nothing
    expect(sim.pump.snapshot()).toMatchObject({ concentrationMgPerMl: 100, occlusionLimitMmHg: 450 });
    await c.writeRegisters(0, [0x4d6f, 0x7270, 0x6869, 0x6e65, 0, 0, 0, 0, 0, 0, 0x4120, 0]); // "Morphine", 10.0
    expect(sim.pump.snapshot()).toMatchObject({ drugName: 'Morphine', concentrationMgPerMl: 10 });
    expect(sim.stats().unanswered).toBe(0);
  });

  it('says nothing at all while silent, then answers again', async () => {
    const sim = await start({ scenario: { kind: 'silent', silentAfterS: 0, silentForS: 2 } });
    const c = await client(sim.port, 1, 300);
    const err = await modbusError(c.readInputRegisters(0, 13));
    expect(err.message).toBe('Timed out');
    expect(err.errno).toBe('ETIMEDOUT');
    expect(err.modbusCode).toBeUndefined();
    expect(sim.stats()).toEqual({ requests: 1, unanswered: 1 });
    // Coil reads run once per coil inside modbus-serial; still one request.
    expect((await modbusError(c.readCoils(0, 2))).message).toBe('Timed out');
    expect(sim.stats()).toEqual({ requests: 2, unanswered: 2 });

    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await c.readInputRegisters(0, 1)).data).toEqual([PumpState.Running]);
    expect(sim.stats()).toEqual({ requests: 3, unanswered: 2 });
  });

  it('advances the model in real time', async () => {
    const sim = await start({ rateMlPerH: 1200, tickMs: 20 });
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const infused = sim.pump.snapshot().volumeInfusedMl; // 1200 mL/h = 1/3 mL/s
    const elapsedS = (performance.now() - t0) / 1000;
    expect(infused).toBeGreaterThan(0.1);
    expect(infused).toBeLessThanOrEqual(elapsedS / 3 + 0.01);
  });

  it('uses the unit id it was given and ignores others', async () => {
    const sim = await start({ unitId: 7 });
    const right = await client(sim.port, 7);
    expect((await right.readHoldingRegisters(12, 1)).data).toEqual([300]);
    const wrong = await client(sim.port, 1, 300);
    expect((await modbusError(wrong.readHoldingRegisters(12, 1))).message).toBe('Timed out');
  });

  it('frees the port on close, even with a client connected', async () => {
    const sim = await startPumpSimulator({ port: await freePort() });
    const c = await connect(sim.port);
    expect((await c.readInputRegisters(0, 1)).data).toHaveLength(1);
    expect(await portIsFree(sim.port)).toBe(false);
    await sim.close();
    expect(await portIsFree(sim.port)).toBe(true);
    await sim.close(); // idempotent
    await disconnect(c);
  });

  it('refuses port 0 instead of letting modbus-serial bind 502', async () => {
    const vector = { readInputRegisters: () => [] } as unknown as Parameters<typeof serveModbusTcp>[0]['vector'];
    await expect(serveModbusTcp({ host: '127.0.0.1', port: 0, unitId: 1, vector })).rejects.toThrow(/502/);
    await expect(startPumpSimulator({ port: 0 })).rejects.toThrow(/1\.\.65535/);
  });

  it('reports a port already in use', async () => {
    const sim = await start();
    await expect(startPumpSimulator({ port: sim.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
