import { Counter, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, createMetricsRegistry, type Registry } from '@medtel/shared';

/** Everything the agent counts, in one place so names stay consistent (docs/metrics.md). */
export function createAgentMetrics(registry: Registry = createMetricsRegistry('agent')) {
  const registers = [registry];
  return {
    registry,
    devicePolls: new Counter({
      name: 'medtel_agent_device_polls_total',
      help: 'Device polls by result (ok, exception, link_error)',
      labelNames: ['device', 'result'],
      registers,
    }),
    devicePollSeconds: new Histogram({
      name: 'medtel_agent_device_poll_seconds',
      help: 'Time to read one device',
      labelNames: ['protocol'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    modbusExceptions: new Counter({
      name: 'medtel_agent_modbus_exceptions_total',
      help: 'Modbus exception responses by code',
      labelNames: ['device', 'code'],
      registers,
    }),
    serialFrames: new Counter({
      name: 'medtel_agent_serial_frames_total',
      help: 'Frames received from serial devices that passed their checks',
      labelNames: ['device', 'protocol'],
      registers,
    }),
    serialFrameErrors: new Counter({
      name: 'medtel_agent_serial_frame_errors_total',
      help: 'Serial input dropped: garbage, checksum, truncated, oversize, malformed, unexpected (per incident)',
      labelNames: ['device', 'protocol', 'kind'],
      registers,
    }),
    serialLostSamples: new Counter({
      name: 'medtel_agent_serial_lost_samples_total',
      help: 'Waveform samples the device sent but the agent never received (sent as gap messages)',
      labelNames: ['device'],
      registers,
    }),
    serialRequestTimeouts: new Counter({
      name: 'medtel_agent_serial_request_timeouts_total',
      help: 'Polled serial requests left unanswered within the device timeout',
      labelNames: ['device', 'protocol'],
      registers,
    }),
    discoveryProbes: new Counter({
      name: 'medtel_agent_discovery_probes_total',
      help: 'Plug-and-play identification attempts (one profile at one line setting) by outcome: matched, mismatch, no-answer, error',
      labelNames: ['profile', 'outcome'],
      registers,
    }),
    discoveryPorts: new Counter({
      name: 'medtel_agent_discovery_ports_total',
      help: 'Ports plug-and-play finished probing, by result: identified or unidentified',
      labelNames: ['result'],
      registers,
    }),
    deviceConnected: new Gauge({ name: 'medtel_agent_device_connected', help: '1 while the device answers, else 0', labelNames: ['device'], registers }),
    phiSealed: new Counter({ name: 'medtel_agent_phi_sealed_total', help: 'PHI envelopes sealed (AES-256-GCM)', labelNames: ['kid'], registers }),
    phiDropped: new Counter({
      name: 'medtel_agent_phi_dropped_total',
      help: 'Patient records read but not sent because no keyring is configured',
      labelNames: ['device'],
      registers,
    }),
    readings: new Counter({ name: 'medtel_agent_readings_total', help: 'Readings written to the outbox', labelNames: ['device'], registers }),
    alarms: new Counter({ name: 'medtel_agent_alarms_total', help: 'Device alarm phases written to the outbox', labelNames: ['device', 'phase'], registers }),
    outboxRows: new Gauge({ name: 'medtel_agent_outbox_rows', help: 'Messages waiting in the outbox for a PUBACK', registers }),
    outboxBytes: new Gauge({ name: 'medtel_agent_outbox_bytes', help: 'Payload bytes waiting in the outbox', registers }),
    outboxOldestAge: new Gauge({ name: 'medtel_agent_outbox_oldest_age_seconds', help: 'Age of the oldest message waiting in the outbox', registers }),
    outboxDropped: new Counter({
      name: 'medtel_agent_outbox_dropped_total',
      help: 'Messages dropped from the outbox (reported in gap messages) by reason and kind',
      labelNames: ['reason', 'kind'],
      registers,
    }),
    outboxDroppedReadings: new Counter({
      name: 'medtel_agent_outbox_dropped_readings_total',
      help: 'Readings dropped from the outbox (reported in gap messages) by reason',
      labelNames: ['reason'],
      registers,
    }),
    published: new Counter({ name: 'medtel_agent_published_total', help: 'Messages acknowledged by the collector (PUBACK)', labelNames: ['kind'], registers }),
    publishAckSeconds: new Histogram({
      name: 'medtel_agent_publish_ack_seconds',
      help: 'Publish to PUBACK latency',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    uplinkConnected: new Gauge({ name: 'medtel_agent_uplink_connected', help: '1 while connected to the collector', registers }),
    uplinkConnects: new Counter({
      name: 'medtel_agent_uplink_connects_total',
      help: 'Connection attempts to the collector by result',
      labelNames: ['result'],
      registers,
    }),
  };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;
