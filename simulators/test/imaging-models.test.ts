import { describe, expect, it } from 'vitest';
import { CtScanner, GantryState, HELIUM_RESERVOIR_L, MriScanner, MriScanState, TUBE_CAPACITY_KHU } from '../dist/opcua/index.js';
import { seededRandom } from '../dist/index.js';

const run = (model: { tick(dt: number): void }, seconds: number, dt = 0.1) => {
  for (let t = 0; t < seconds; t += dt) model.tick(dt);
};

describe('MRI magnet plant', () => {
  it('keeps the helium level flat on a healthy zero-boil-off magnet', () => {
    const mri = new MriScanner({ random: seededRandom(1) });
    run(mri, 600);
    expect(mri.heliumLevel).toBe(78.4);
    expect(mri.boilOff).toBeLessThan(0.1);
    expect(mri.selfTest()).toEqual({ code: 0, text: 'passed' });
  });

  it('helium leak: the level falls at the leak rate and the boil-off rate says how much in L/day', () => {
    const mri = new MriScanner({ random: seededRandom(1), scenario: 'helium-leak', scenarioAfterS: 0, leakPercentPerHour: 36 });
    run(mri, 100);
    expect(mri.heliumLevel).toBeCloseTo(78.4 - 1, 1); // 36 %/h for 100 s
    expect(mri.boilOff).toBeCloseTo((36 * HELIUM_RESERVOIR_L * 24) / 100, -1);
  });

  it('compressor stop: the cold head warms and helium starts to go; the self-test says why', () => {
    const mri = new MriScanner({ random: seededRandom(1), scenario: 'compressor-stop', scenarioAfterS: 0 });
    run(mri, 300);
    expect(mri.compressorRunning).toBe(false);
    expect(mri.coldHeadTemp).toBeGreaterThan(20);
    expect(mri.heliumLevel).toBeLessThan(78.4);
    expect(mri.selfTest().code).toBe(2);
  });

  it('quench: field to zero, helium gone, cold-head sensor failed', () => {
    const mri = new MriScanner({ random: seededRandom(1), scenario: 'quench', scenarioAfterS: 0 });
    run(mri, 40);
    expect(mri.fieldStrength).toBe(0);
    expect(mri.heliumLevel).toBeLessThan(10);
    expect(mri.coldHeadSensorFailed).toBe(true);
    expect(mri.scanState).toBe(MriScanState.Quenched);
    expect(mri.selfTest().code).toBe(3);
  });
});

describe('CT tube heat', () => {
  it('adds 1.4 x kVp x mA x s heat units per scan and cools exponentially between scans', () => {
    const ct = new CtScanner({ random: seededRandom(2), scanEveryS: 1000 });
    const before = ct.heatKhu;
    run(ct, 2); // first scan starts at 2 s
    expect(ct.gantry).toBe(GantryState.Rotating);
    run(ct, 5.2);
    expect(ct.gantry).toBe(GantryState.Stopped);
    expect(ct.scanCount).toBe(1);
    const added = (1.4 * ct.lastKv * ct.lastMa * 5) / 1000;
    // Heat now = what was there + the scan, less ~10 %/min of cooling over 7 s.
    expect(ct.heatKhu).toBeGreaterThan((before + added) * 0.97);
    expect(ct.heatKhu).toBeLessThan(before + added);
    const hot = ct.heatKhu;
    run(ct, 60);
    expect(ct.heatKhu / hot).toBeCloseTo(Math.exp(-0.1), 2);
    expect(ct.coolingRate).toBeCloseTo(ct.heatKhu * 0.1, 5);
  });

  it('overheat: back-to-back heavy scans pass 90 % of capacity and fail the self-test', () => {
    const ct = new CtScanner({ random: seededRandom(2), scenario: 'overheat', scenarioAfterS: 0 });
    run(ct, 600, 0.5);
    expect(ct.heatKhu / TUBE_CAPACITY_KHU).toBeGreaterThan(0.9);
    expect(ct.anodeTemp).toBeGreaterThan(1100);
    expect(ct.selfTest().code).toBe(4);
  });
});
