import type { Driver } from '../types.js';
import { type PreparedEcg, prepareEcg } from './config.js';
import { EcgSession } from './session.js';

/** The medtel ECG stream: a monitor that sends waveforms and numerics unasked, over a tty or terminal server. */
export const ecgStreamDriver: Driver<PreparedEcg> = {
  protocols: ['medtel-ecg'],
  family: 'medtel-ecg',
  prepare: prepareEcg,
  start(spec, sink, context) {
    const session = new EcgSession(spec, sink, context);
    session.start();
    return session;
  },
};
