import type { Driver } from '../types.js';
import { type PreparedMedibus, prepareMedibus } from './config.js';
import { MedibusSession } from './session.js';

/** MEDIBUS-style polled ASCII protocol (ventilators, anaesthesia machines) over a tty or terminal server. */
export const medibusDriver: Driver<PreparedMedibus> = {
  protocols: ['medibus'],
  family: 'medibus',
  prepare: prepareMedibus,
  start(spec, sink, context) {
    const session = new MedibusSession(spec, sink, context);
    session.start();
    return session;
  },
};
