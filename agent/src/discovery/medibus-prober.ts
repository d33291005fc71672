import { MedibusParser } from '../drivers/medibus/frame.js';
import { medibusDriver } from '../drivers/medibus/index.js';
import { parseDeviceId, RecordError } from '../drivers/medibus/records.js';
import { MedibusTransactions } from '../drivers/medibus/transaction.js';
import { openProbeLink } from './probe-link.js';
import { type Identity, identityMatches, type ProbeFn } from './types.js';

/**
 * MEDIBUS-style identification: the profile's read-only id request (checked at
 * profile load: only `device-id`), asked twice at most, at the settings under
 * test. Commands the device itself sends (ICC, NOP) are not answered: a probe
 * writes nothing but its request.
 */
export const probeMedibus: ProbeFn = async (target, profile, line) => {
  const plan = profile.identifyPlan;
  const command = plan.command as number;
  const prepared = medibusDriver.prepare({ protocol: 'medibus', path: target.path }, profile, { configFile: profile.file, field: 'identify' });
  const parser = new MedibusParser();
  let tx: MedibusTransactions | undefined;
  let link: Awaited<ReturnType<typeof openProbeLink>>;
  try {
    link = await openProbeLink(target.path, line, (bytes) => {
      for (const frame of parser.push(bytes)) tx?.answer(frame);
    });
  } catch {
    return { outcome: 'error' };
  }
  tx = new MedibusTransactions((bytes) => link.write(bytes));
  try {
    let answer: Awaited<ReturnType<MedibusTransactions['request']>> | undefined;
    for (let attempt = 0; attempt < 2 && !answer; attempt++) {
      answer = await tx.request(command, plan.timeoutMs).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ETIMEDOUT') throw err;
        return undefined;
      });
    }
    if (!answer) return { outcome: 'no-answer' };
    const id = parseDeviceId(answer.data);
    const identity: Identity = {};
    for (const { field, read } of prepared.identity) {
      const value = id[read.field as keyof typeof id];
      if (value) identity[field as keyof Identity] = value;
    }
    return identityMatches(plan.match, identity) ? { outcome: 'matched', identity } : { outcome: 'mismatch' };
  } catch (err) {
    return { outcome: err instanceof RecordError ? 'mismatch' : 'error' };
  } finally {
    tx.fail(new Error('probe over'));
    await link.close();
  }
};
