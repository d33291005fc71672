export * from './envelope.js';
export * from './keyring.js';
export * from './pseudonym.js';
export * from './record.js';
