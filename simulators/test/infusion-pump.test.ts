import { describe, expect, it } from 'vitest';
import { AlarmFlag, InfusionPump, PumpState } from '../dist/index.js';

/** Advance a pump in 100 ms ticks, as the runner does, for `seconds`. */
function run(pump: InfusionPump, seconds: number, stepS = 0.1): void {
  const steps = Math.round(seconds / stepS);
  for (let i = 0; i < steps; i++) pump.tick(stepS);
}

describe('InfusionPump: infusion', () => {
  it('infuses rate/3600 mL per second: 125 mL after 1 h at 125 mL/h', () => {
    const pump = new InfusionPump({ rateMlPerH: 125, vtbiMl: 1000, seed: 1 });
    pump.tick(3600);
    const s = pump.snapshot();
    expect(s.state).toBe(PumpState.Running);
    expect(s.volumeInfusedMl).toBeCloseTo(125, 6);
    expect(s.volumeRemainingMl).toBeCloseTo(875, 6);
    expect(s.timeRemainingMin).toBe(420); // 875 mL / 125 mL/h = 7 h
    expect(s.alarmFlags).toBe(0);
  });

  it('gives the same volume in one long tick as in many short ones', () => {
    const a = new InfusionPump({ rateMlPerH: 90, seed: 1 });
    const b = new InfusionPump({ rateMlPerH: 90, seed: 1 });
    a.tick(600);
    run(b, 600);
    expect(a.snapshot().volumeInfusedMl).toBeCloseTo(b.snapshot().volumeInfusedMl, 6);
    expect(a.snapshot().volumeInfusedMl).toBeCloseTo(15, 6);
  });

  it('rounds time remaining up to whole minutes and reports 0 when not running', () => {
    const pump = new InfusionPump({ rateMlPerH: 60, vtbiMl: 10, seed: 1 });
    pump.tick(30); // 0.5 mL infused, 9.5 mL left = 9.5 min
    expect(pump.snapshot().timeRemainingMin).toBe(10);
    expect(pump.pause()).toBe(true);
    expect(pump.snapshot().state).toBe(PumpState.Paused);
    expect(pump.snapshot().timeRemainingMin).toBe(0);
  });

  it('stops with the VTBI-complete flag at exactly the VTBI', () => {
    const pump = new InfusionPump({ rateMlPerH: 600, vtbiMl: 10, seed: 1 });
    pump.tick(59);
    expect(pump.snapshot().state).toBe(PumpState.Running);
    pump.tick(5); // crosses 60 s = 10 mL
    const s = pump.snapshot();
    expect(s.state).toBe(PumpState.Stopped);
    expect(s.volumeInfusedMl).toBe(10);
    expect(s.volumeRemainingMl).toBe(0);
    expect(s.timeRemainingMin).toBe(0);
    expect(s.alarmFlags).toBe(AlarmFlag.VtbiComplete);
    // Nothing left to infuse: start is refused; reset acknowledges the latched flag.
    expect(pump.start()).toBe(false);
    pump.resetAlarm();
    expect(pump.snapshot().alarmFlags).toBe(0);
    expect(pump.snapshot().state).toBe(PumpState.Stopped);
  });

  it('does not infuse while stopped or paused; start() resumes', () => {
    const pump = new InfusionPump({ running: false, seed: 1 });
    pump.tick(60);
    expect(pump.snapshot().volumeInfusedMl).toBe(0);
    expect(pump.start()).toBe(true);
    pump.tick(36); // 125 mL/h * 0.01 h
    expect(pump.snapshot().volumeInfusedMl).toBeCloseTo(1.25, 9);
    pump.pause();
    pump.tick(100);
    expect(pump.snapshot().volumeInfusedMl).toBeCloseTo(1.25, 9);
  });

  it('keeps line pressure near 60 mmHg running and near 3 mmHg stopped, reproducibly per seed', () => {
    const pump = new InfusionPump({ seed: 42 });
    const running: number[] = [];
    for (let i = 0; i < 200; i++) {
      pump.tick(0.1);
      running.push(pump.snapshot().linePressureMmHg);
    }
    for (const p of running) expect(Math.abs(p - 60)).toBeLessThanOrEqual(2.5);
    expect(new Set(running.map((p) => p.toFixed(3))).size).toBeGreaterThan(10); // it is noisy

    const again = new InfusionPump({ seed: 42 });
    const replay: number[] = [];
    for (let i = 0; i < 200; i++) {
      again.tick(0.1);
      replay.push(again.snapshot().linePressureMmHg);
    }
    expect(replay).toEqual(running);

    pump.pause();
    pump.tick(10);
    expect(Math.abs(pump.snapshot().linePressureMmHg - 3)).toBeLessThanOrEqual(1);
  });

  it('keeps the battery at 100 % on mains and drains it on battery', () => {
    const mains = new InfusionPump({ seed: 1 });
    mains.tick(3600);
    expect(mains.snapshot().batteryPercent).toBe(100);
    expect(mains.snapshot().onMains).toBe(true);

    const battery = new InfusionPump({ seed: 1, onMains: false, batteryPercent: 21, vtbiMl: 9999 });
    battery.tick(600); // 0.2 %/min running
    expect(battery.snapshot().batteryPercent).toBeCloseTo(19, 6);
    expect(battery.snapshot().alarmFlags & AlarmFlag.BatteryLow).toBeTruthy();
  });

  it('refuses out-of-range settings', () => {
    expect(() => new InfusionPump({ rateMlPerH: 0 })).toThrow(RangeError);
    expect(() => new InfusionPump({ vtbiMl: 10_000 })).toThrow(RangeError);
    expect(() => new InfusionPump({ drugName: 'x'.repeat(21) })).toThrow(RangeError);
    expect(() => new InfusionPump().setOcclusionLimit(99)).toThrow(RangeError);
  });

  it('carries the fixed identity', () => {
    const s = new InfusionPump({ serial: 'SN-42' }).snapshot();
    expect(s).toMatchObject({ manufacturer: 'medtel simulated', model: 'MT-LVP-100', firmware: '1.4.2', serial: 'SN-42' });
    expect(s).toMatchObject({ drugName: 'Heparin', concentrationMgPerMl: 100, occlusionLimitMmHg: 300 });
  });
});

describe('InfusionPump: occlusion scenario', () => {
  it('raises the pressure after the onset, alarms past the limit, and resumes when it clears', () => {
    const pump = new InfusionPump({
      seed: 3,
      scenario: { kind: 'occlusion', occlusionAfterS: 10, occlusionDurationS: 20 },
    });
    run(pump, 9.9);
    expect(pump.snapshot().state).toBe(PumpState.Running);
    expect(pump.snapshot().linePressureMmHg).toBeLessThan(65);

    // 60 -> 300 mmHg at ~40 mmHg/s: about 6 s after the onset.
    run(pump, 5);
    expect(pump.snapshot().state).toBe(PumpState.Running);
    expect(pump.snapshot().linePressureMmHg).toBeGreaterThan(200);
    run(pump, 1.5);
    let s = pump.snapshot();
    expect(s.state).toBe(PumpState.Alarm);
    expect(s.alarmFlags & AlarmFlag.Occlusion).toBeTruthy();
    expect(s.linePressureMmHg).toBeGreaterThan(295);

    // In alarm nothing is infused, pause/start are refused and the pressure holds.
    const infused = s.volumeInfusedMl;
    expect(pump.start()).toBe(false);
    expect(pump.pause()).toBe(false);
    run(pump, 10);
    s = pump.snapshot();
    expect(s.volumeInfusedMl).toBe(infused);
    expect(s.state).toBe(PumpState.Alarm);
    expect(s.linePressureMmHg).toBeGreaterThan(290);
    pump.resetAlarm(); // the cause has not gone: nothing changes
    expect(pump.snapshot().alarmFlags & AlarmFlag.Occlusion).toBeTruthy();

    // The occlusion clears at t = 30 s; the pressure falls (time constant 1 s) and below half
    // the limit (~0.7 s later) the flag clears and infusion resumes.
    run(pump, 3.6);
    expect(pump.snapshot().state).toBe(PumpState.Alarm);
    run(pump, 1);
    expect(pump.elapsedS).toBeGreaterThan(30);
    s = pump.snapshot();
    expect(s.state).toBe(PumpState.Running);
    expect(s.alarmFlags & AlarmFlag.Occlusion).toBe(0);
    run(pump, 10);
    s = pump.snapshot();
    expect(Math.abs(s.linePressureMmHg - 60)).toBeLessThan(3);
    expect(s.volumeInfusedMl).toBeGreaterThan(infused);
  });

  it('stays in alarm for ever without a duration; a higher limit is still exceeded', () => {
    const pump = new InfusionPump({ seed: 3, occlusionLimitMmHg: 500, scenario: { kind: 'occlusion', occlusionAfterS: 1 } });
    run(pump, 13); // 60 -> 500 mmHg at 40 mmHg/s: 11 s after the onset
    expect(pump.snapshot().state).toBe(PumpState.Alarm);
    run(pump, 600);
    expect(pump.snapshot().state).toBe(PumpState.Alarm);
    expect(pump.snapshot().linePressureMmHg).toBeGreaterThan(490);
  });

  it('only builds pressure while the pump pushes', () => {
    const pump = new InfusionPump({ seed: 3, running: false, scenario: { kind: 'occlusion', occlusionAfterS: 0 } });
    run(pump, 30);
    expect(pump.snapshot().state).toBe(PumpState.Stopped);
    expect(pump.snapshot().linePressureMmHg).toBeLessThan(5);
    pump.start();
    run(pump, 10);
    expect(pump.snapshot().state).toBe(PumpState.Alarm);
  });
});

describe('InfusionPump: silent scenario', () => {
  it('is silent inside [after, after + for) on the injected clock', () => {
    let now = 1_000_000;
    const pump = new InfusionPump({ clock: () => now, scenario: { kind: 'silent', silentAfterS: 10, silentForS: 5 } });
    expect(pump.isSilent()).toBe(false);
    now += 9_999;
    expect(pump.isSilent()).toBe(false);
    now += 1;
    expect(pump.isSilent()).toBe(true);
    expect(pump.isSilent(1_000_000 + 14_999)).toBe(true);
    expect(pump.isSilent(1_000_000 + 15_000)).toBe(false);
  });

  it('defaults to silence from 10 s on, for ever; other scenarios never go silent', () => {
    let now = 0;
    const pump = new InfusionPump({ clock: () => now, scenario: { kind: 'silent' } });
    now = 9_000;
    expect(pump.isSilent()).toBe(false);
    now = 10_000;
    expect(pump.isSilent()).toBe(true);
    now = 1e9;
    expect(pump.isSilent()).toBe(true);
    expect(new InfusionPump({ clock: () => now }).isSilent(now + 1e9)).toBe(false);
  });
});
