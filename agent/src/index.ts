export { Agent, planDevices } from './agent.js';
export { AgentConfigSchema, loadAgentConfig, type AgentConfig } from './config.js';
export { Outbox, buildPayload, OutboxOpenError, type OutboxMessage, type OutboxRow } from './outbox/index.js';
export { ProfileTransform } from './transform.js';
export { loadProfile, findProfileFile, BUILTIN_PROFILES_DIR, type ResolvedProfile } from './profiles/load.js';
export { decodeRegisters, planReads, registerCount, type RegisterPoint } from './drivers/modbus/registers.js';
export { createAgentMetrics } from './metrics.js';
export { CommandHandler, type DiagnosableDevice } from './commands.js';
export { CommandLog } from './command-log.js';
