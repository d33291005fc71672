export * from './roles.js';
export * from './tokens.js';
export * from './plugin.js';
