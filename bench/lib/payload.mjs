/**
 * The `data` messages the bench publishes: infusion-pump readings with IEEE
 * 11073 codes, generated fast (lib/gateway-load.mjs) and checked against the
 * contract before a run, or we would measure quarantine.
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
    const [metric, refId] = PUMP_METRICS[i % PUMP_METRICS.length];
    const term = TERMS[refId];
    const unit = UNITS[term.unit];
    const head = { metric, code: term.code, refId, unit: unit.symbol, unitCode: unit.code };
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
