export { startCollector, type RunningCollector } from './collector.js';
export { CollectorConfigSchema, loadCollectorConfig, type CollectorConfig, type GatewayEntry } from './config.js';
export { hashSecret, verifySecret, generateSecret } from './secrets.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
export type { Store, IngestItem, ApplyOutcome, DeviceRecord, TelemetryRow } from './store/store.js';
export { buildApi } from './api/app.js';
export { createCollectorMetrics } from './metrics.js';
export { issueToken, loadOrCreateSigningKey, ROLES, PERMISSIONS, permissionsTableMarkdown, type Role } from './auth/index.js';
export { AuditLog, describeVerifyResult } from './audit/index.js';
