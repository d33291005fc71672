/**
 * Migration 5: healthcare technology management. Asset fields on devices,
 * calibration intervals and records, PM schedules, work orders, and the
 * history of device status reports (uptime is computed from it).
 */
export const HTM_SCHEMA_SQL = `
  ALTER TABLE devices ADD COLUMN install_date TEXT;
  ALTER TABLE devices ADD COLUMN high_risk INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN life_support INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE devices ADD COLUMN schedule_source TEXT NOT NULL DEFAULT 'manufacturer';
  ALTER TABLE devices ADD COLUMN aem_reason TEXT;
  ALTER TABLE devices ADD COLUMN aem_risk_factors TEXT;
  ALTER TABLE devices ADD COLUMN aem_approver TEXT;
  -- Fennigkoh-Smith parts as JSON {equipmentFunction, physicalRisk, maintenanceRequirement}; the total is derived.
  ALTER TABLE devices ADD COLUMN risk_parts TEXT;
  ALTER TABLE devices ADD COLUMN udi_di TEXT;
  ALTER TABLE devices ADD COLUMN udi_pi TEXT;
  ALTER TABLE devices ADD COLUMN device_type_code TEXT;
  ALTER TABLE devices ADD COLUMN ownership TEXT;
  ALTER TABLE devices ADD COLUMN calibration_interval_months INTEGER;

  CREATE TABLE calibration_intervals (
    model TEXT PRIMARY KEY,
    interval_months INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE calibrations (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    performed_at INTEGER NOT NULL,
    procedure TEXT NOT NULL,
    performed_by TEXT NOT NULL,
    technician TEXT NOT NULL,
    approver TEXT,
    certificate TEXT,
    as_found TEXT NOT NULL,
    as_left TEXT NOT NULL,
    as_found_pass INTEGER NOT NULL,
    as_left_pass INTEGER NOT NULL,
    result TEXT NOT NULL,
    decision_rule TEXT NOT NULL,
    test_equipment TEXT NOT NULL,
    conditions TEXT,
    notes TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    impact_work_order INTEGER
  );
  CREATE INDEX calibrations_device_performed ON calibrations (device_id, performed_at);

  CREATE TABLE pm_schedules (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    task TEXT NOT NULL,
    frequency TEXT NOT NULL,
    years INTEGER,
    first_due_at INTEGER NOT NULL,
    last_completed_at INTEGER,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX pm_schedules_device ON pm_schedules (device_id);

  CREATE TABLE work_orders (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    assignee TEXT,
    alert_id INTEGER,
    schedule_id INTEGER,
    calibration_id INTEGER,
    incomplete_reason TEXT,
    cause_code TEXT,
    notes TEXT,
    searches TEXT NOT NULL DEFAULT '[]',
    impact TEXT,
    due_at INTEGER, window_start INTEGER, window_end INTEGER,
    completion TEXT,
    opened_by TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    started_at INTEGER,
    completed_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX work_orders_device ON work_orders (device_id);
  CREATE INDEX work_orders_state_type ON work_orders (state, type);
  CREATE INDEX work_orders_completed ON work_orders (completed_at);

  -- Every status report as the gateway sent it (t = device time): uptime = connected / known time.
  CREATE TABLE device_status_history (
    device_id TEXT NOT NULL,
    t INTEGER NOT NULL,
    status TEXT NOT NULL
  );
  CREATE INDEX device_status_history_device_t ON device_status_history (device_id, t);
`;
