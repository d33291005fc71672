/**
 * The pass/fail checks of a run (any failure: exit status 1). Each is
 * {name, ok, detail}; `detail` always shows the numbers compared.
 */

const check = (name, ok, detail) => ({ name, ok, detail });

/**
 * Nothing lost, duplicated or reordered between the gateways' PUBACKs, the
 * collector's /metrics (`final`: a scrape after the load drained) and its
 * SQLite file (`db`: from countStore).
 */
export function deliveryChecks({ published, acked, inFlightAtEnd, publishErrors, outOfOrder, readingsPerMessage, final, db }) {
  const checks = [
    check(
      'every published message was acknowledged',
      published === acked && inFlightAtEnd === 0 && publishErrors === 0,
      `published ${published}, PUBACKed ${acked}, still in flight ${inFlightAtEnd}, publish errors ${publishErrors}`,
    ),
    check(
      'committed (collector /metrics) = PUBACKed (clients)',
      final.dataStored === acked,
      `collector counted ${final.dataStored} data messages stored, clients got ${acked} PUBACKs`,
    ),
    check(
      'committed readings = PUBACKed messages x readings',
      final.readings === acked * readingsPerMessage,
      `collector counted ${final.readings} readings, expected ${acked * readingsPerMessage}`,
    ),
  ];
  if (db.error) checks.push(check('SQLite file readable after stop', false, db.error));
  else
    checks.push(
      check(
        'rows in the SQLite file = PUBACKed',
        db.messages === acked && db.readings === acked * readingsPerMessage,
        `received rows ${db.messages} (expected ${acked}), readings rows ${db.readings} (expected ${acked * readingsPerMessage})`,
      ),
    );
  checks.push(
    check(
      'no duplicates, quarantine, commit errors, ACL or auth failures',
      final.dataDuplicate === 0 && final.quarantined === 0 && final.commitErrors === 0 && final.aclViolations === 0 && final.authFailures === 0,
      `duplicates ${final.dataDuplicate}, quarantined ${final.quarantined}, commit errors ${final.commitErrors}, ACL ${final.aclViolations}, auth ${final.authFailures}`,
    ),
    check('PUBACKs in PUBLISH order per connection (MQTT-4.6.0-2)', outOfOrder === 0, `out-of-order PUBACKs ${outOfOrder}`),
  );
  return checks;
}

/** The collector ran clean: `log` from startCollector, `stopped` from its stop(). */
export function collectorChecks({ log, stopped }) {
  return [
    check(
      'collector logged no warning or error',
      log.counts.warn + log.counts.error + log.counts.fatal === 0,
      `warn ${log.counts.warn}, error ${log.counts.error}, fatal ${log.counts.fatal}`,
    ),
    check(
      'collector stopped cleanly on SIGTERM',
      stopped.code === 0 && !stopped.timedOut,
      `exit code ${stopped.code}, signal ${stopped.signal}${stopped.timedOut ? ', needed SIGKILL after 10 s' : ''}`,
    ),
  ];
}
