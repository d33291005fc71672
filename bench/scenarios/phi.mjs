/**
 * Scenario "phi": PHI envelopes sealed and opened per second on one core,
 * @noble/ciphers (what medtel uses, shared/src/phi) and node:crypto side by
 * side, on a patient record of about 200 bytes. Informational: the agent
 * seals once per patient association (and every 10 minutes), so this is far
 * from any real bottleneck. Checks that both produce the same bytes.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { encodeRecord, envelopeAad, openBytes, sealBytes } from '../../shared/dist/index.js';

const help = {
  summary: `Scenario "phi": AES-256-GCM PHI envelopes sealed and opened per second on one core,
@noble/ciphers (medtel's implementation) and node:crypto side by side, ~200-byte record
(informational; no processes are started).`,
  options: '  --envelopes N             envelopes sealed and opened per implementation (default 50,000)',
  quick: '5,000 envelopes',
};

const options = { envelopes: { type: 'string' } };
const resolveOptions = ({ quick, num }) => ({ envelopes: num('envelopes', quick ? 5_000 : 50_000, { min: 100, max: 10_000_000 }) });
const budgetMs = (opts) => 60_000 + opts.envelopes * 2;

const RECORD = encodeRecord({
  mrn: 'SYN4821937',
  name: 'NIELSEN-GARCIA^MARIA SOFIA',
  dob: '1957-03-14',
  sex: 'F',
  bed: 'ICU2-07',
});
// Pad to ~200 bytes, as a record with a longer location or a second name would be.
const PLAINTEXT = Buffer.concat([RECORD, Buffer.alloc(Math.max(0, 200 - RECORD.length), 0x20)]);

function rate(n, fn) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: n / s, microseconds: (s / n) * 1e6 };
}

function nodeSeal(key, iv, aad, pt) {
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  return Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
}

function nodeOpen(key, iv, aad, ct) {
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(aad);
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
}

async function run(opts) {
  const n = opts.envelopes;
  const key = randomBytes(32);
  const binding = (seq) => ({ gateway: 'gw-bench', device: 'pump-1', seq });
  // Warm-up: let the JIT compile both paths before anything is timed.
  for (let i = 0; i < 2000; i++) {
    const e = sealBytes({ kid: 'k1', key }, PLAINTEXT, binding(i));
    openBytes(() => key, e, binding(i));
    const iv = Buffer.from(e.iv, 'base64');
    nodeOpen(key, iv, envelopeAad(binding(i)), nodeSeal(key, iv, envelopeAad(binding(i)), PLAINTEXT));
  }
  const sealed = new Array(n);
  const nobleSeal = rate(n, (i) => {
    sealed[i] = sealBytes({ kid: 'k1', key }, PLAINTEXT, binding(i));
  });
  const nobleOpen = rate(n, (i) => openBytes(() => key, sealed[i], binding(i)));
  const ivs = sealed.map((e) => Buffer.from(e.iv, 'base64'));
  const aads = sealed.map((_, i) => envelopeAad(binding(i)));
  const nodeCts = new Array(n);
  const nodeSealRate = rate(n, (i) => {
    nodeCts[i] = nodeSeal(key, ivs[i], aads[i], PLAINTEXT);
  });
  const nodeOpenRate = rate(n, (i) => nodeOpen(key, ivs[i], aads[i], nodeCts[i]));
  const identical = sealed.every((e, i) => e.ct === nodeCts[i].toString('base64'));
  const fmt = (x) => Math.round(x.perSecond).toLocaleString('en-US');
  const us = (x) => x.microseconds.toFixed(1);
  return {
    figures: {
      envelopes: n,
      plaintextBytes: PLAINTEXT.length,
      nobleSealPerSecond: nobleSeal.perSecond,
      nobleOpenPerSecond: nobleOpen.perSecond,
      nodeSealPerSecond: nodeSealRate.perSecond,
      nodeOpenPerSecond: nodeOpenRate.perSecond,
    },
    totals: {},
    checks: [{ name: 'same ciphertext and tag from both', ok: identical, detail: identical ? `${n} envelopes byte-identical` : 'outputs differ' }],
    headers: ['implementation', 'seal/s', 'seal us', 'open/s', 'open us'],
    rows: [
      ['@noble/ciphers (medtel)', fmt(nobleSeal), us(nobleSeal), fmt(nobleOpen), us(nobleOpen)],
      ['node:crypto', fmt(nodeSealRate), us(nodeSealRate), fmt(nodeOpenRate), us(nodeOpenRate)],
    ],
    lines: [`${n} envelopes of ${PLAINTEXT.length} bytes, one core, AAD = gateway/device/seq; informational.`],
    samples: {},
    notes: ['The agent seals once per patient association and every 10 minutes: far below either rate.'],
  };
}

export const phi = { name: 'phi', help, options, resolveOptions, budgetMs, run };
