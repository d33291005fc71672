import type { MqttClient } from 'mqtt';
import { publishAcked } from './collector-fixture.js';

/** A gateway that speaks the real MQTT contract for one pump, with its own sequence numbers. */
export class FakePumpGateway {
  private seq: number;

  constructor(
    readonly client: MqttClient,
    readonly gateway = 'gw-1',
    readonly device = 'pump-1',
    firstSeq = 1,
  ) {
    this.seq = firstSeq;
  }

  private topic(kind: string) {
    return `medtel/v1/bench/${this.gateway}/dev/${this.device}/${kind}`;
  }

  birth() {
    return this.send('birth', {
      type: 'infusion-pump',
      manufacturer: 'medtel simulated',
      model: 'MT-LVP-100',
      protocol: 'modbus-tcp',
      profile: 'medtel-mt-lvp-100',
      metrics: [{ metric: 'line_pressure', code: 157836, refId: 'MDC_PRESS_FLUID_MEAS', unit: 'mm[Hg]', unitCode: 266016 }],
    });
  }

  /** Line pressure readings (mmHg), stamped now. */
  pressure(...values: number[]) {
    const t = Date.now();
    return this.send(
      'data',
      {
        clock: 'agent',
        readings: values.map((value, i) => ({
          metric: 'line_pressure',
          code: 157836,
          refId: 'MDC_PRESS_FLUID_MEAS',
          unit: 'mm[Hg]',
          t: t + i,
          value,
          quality: 'good',
        })),
      },
      t,
    );
  }

  alarm(phase: 'start' | 'end') {
    return this.send('alarm', {
      t: Date.now(),
      alarm: 'occlusion',
      code: 196940,
      refId: 'MDC_EVT_FLUID_LINE_OCCL',
      priority: 'high',
      phase,
      state: phase === 'end' ? 'inactive' : 'active',
      text: 'Line occlusion',
    });
  }

  status(status: 'connected' | 'unreachable' | 'error') {
    return this.send('status', { t: Date.now(), status, reason: status === 'connected' ? undefined : 'timeout' });
  }

  /** One message of the contract: the envelope (version, next seq, when sent, which device) around `body`. */
  private send(kind: string, body: Record<string, unknown>, sentAt = Date.now()) {
    return publishAcked(this.client, this.topic(kind), JSON.stringify({ v: 1, seq: this.seq++, sentAt, device: this.device, ...body }));
  }

  get nextSeq() {
    return this.seq;
  }
}

export const pressureRule = {
  name: 'Pump line pressure high',
  scope: { type: 'infusion-pump' },
  metric: 'MDC_PRESS_FLUID_MEAS',
  condition: { kind: 'above', limit: 300 },
  priority: 'high',
  text: 'Line pressure above 300 mmHg',
};
