/**
 * The `data` messages the bench publishes: infusion-pump readings with IEEE
 * 11073 codes, generated fast (lib/gateway-load.mjs) or as objects for an
 * agent outbox (lib/backlog.mjs), and checked against the contract before a
 * run, or we would measure quarantine.
 */
import { TERMS, UNITS, validateMessage } from '@medtel/shared';

/** Infusion-pump metrics the generated readings cycle through (codes from shared/src/mdc.ts). */
const PUMP_METRICS = [
  ['rate', 'MDC_FLOW_FLUID_PUMP'],
  ['vtbi', 'MDC_VOL_FLUID_TBI'],
  ['vtbi_remaining', 'MDC_VOL_FLUID_TBI_REMAIN'],
  ['volume_infused', 'MDC_VOL_FLUID_DELIV_TOTAL'],
  ['line_pressure', 'MDC_PRESS_FLUID_MEAS'],
  ['time_remaining', 'MDC_TIME_PD_REMAIN'],
];

/**
 * Returns build(seq, now, device) -> JSON string of a `data` message with
 * `readings` readings. Built by concatenation from pre-serialised parts so the
 * load generator spends its CPU on MQTT, not on JSON.stringify.
 */
export function makePayloadBuilder(readings) {
  const prefixes = [];
  for (let i = 0; i < readings; i++) {
    const head = descriptor(i);
    // '{"metric":...,"unitCode":265266' + ',"t":'
    prefixes.push(`${JSON.stringify(head).slice(0, -1)},"t":`);
  }
  return (seq, now, device) => {
    let s = `{"v":1,"seq":${seq},"sentAt":${now},"device":${JSON.stringify(device)},"clock":"agent","readings":[`;
    for (let i = 0; i < readings; i++) {
      const value = ((seq * 7 + i * 13) % 5000) / 10;
      s += `${i ? ',' : ''}${prefixes[i]}${now - (readings - 1 - i) * 100},"value":${value},"quality":"good"}`;
    }
    return `${s}]}`;
  };
}

/** The metric descriptor (name, IEEE 11073 code and unit) of generated reading `i`. */
function descriptor(i) {
  const [metric, refId] = PUMP_METRICS[i % PUMP_METRICS.length];
  const term = TERMS[refId];
  const unit = UNITS[term.unit];
  return { metric, code: term.code, refId, unit: unit.symbol, unitCode: unit.code };
}

/**
 * Returns build(n, t) -> the `readings` array of a `data` message as objects
 * (what the agent's outbox stores in a message body): the same metrics and
 * values as makePayloadBuilder, the last reading at `t`, 100 ms apart.
 */
export function makeReadingsBuilder(readings) {
  const heads = Array.from({ length: readings }, (_, i) => descriptor(i));
  return (n, t) => heads.map((head, i) => ({ ...head, t: t - (readings - 1 - i) * 100, value: ((n * 7 + i * 13) % 5000) / 10, quality: 'good' }));
}

/**
 * The readings of makeReadingsBuilder in a complete `data` message (v, seq,
 * sentAt added as the agent adds them at publish), checked against the
 * contract; returns its size in bytes on the wire.
 */
export function checkedReadingsBytes(readings) {
  const now = Date.now();
  const message = { v: 1, seq: 1, sentAt: now, device: 'pump-1', clock: 'agent', readings: makeReadingsBuilder(readings)(1, now) };
  const checked = validateMessage('data', message);
  if (!checked.ok) throw new Error(`bench: the generated backlog readings are not valid against the contract: ${checked.reason}\n${JSON.stringify(message)}`);
  return Buffer.byteLength(JSON.stringify(message));
}

/**
 * Size in bytes of one generated `data` message with `readings` readings;
 * throws if the generator and the contract (`validateMessage`) disagree.
 */
export function checkedPayloadBytes(readings) {
  const sample = makePayloadBuilder(readings)(1, Date.now(), 'pump-1');
  const checked = validateMessage('data', JSON.parse(sample));
  if (!checked.ok) throw new Error(`bench: the generated data payload is not valid against the contract: ${checked.reason}\n${sample}`);
  return Buffer.byteLength(sample);
}
