/** Modbus exception codes (Modbus Application Protocol v1.1b3, section 7). */
const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export function exceptionName(code: number): string {
  return EXCEPTIONS[code] ?? 'unknown exception';
}

/** A Modbus exception response: the link is fine, the request was refused. */
export function modbusExceptionCode(err: unknown): number | undefined {
  const code = (err as { modbusCode?: unknown } | null)?.modbusCode;
  return typeof code === 'number' ? code : undefined;
}

/** One line saying what went wrong with the link and what to check. */
export function describeLinkError(err: unknown, target: string, timeoutMs: number): string {
  const e = err as NodeJS.ErrnoException & { errno?: unknown };
  const code = e?.code ?? (typeof e?.errno === 'string' ? e.errno : undefined);
  const message = e?.message ?? String(err);
  if (code === 'ETIMEDOUT' || /timed out/i.test(message)) return `no answer from ${target} within ${timeoutMs} ms`;
  if (code === 'ECONNREFUSED') return `connection refused by ${target}: check the device is on and the port is right`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection to ${target} was reset`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${target} is unreachable from this gateway (network)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${target}`;
  if (/port not open/i.test(message)) return `connection to ${target} is closed`;
  return `${target}: ${message}`;
}
