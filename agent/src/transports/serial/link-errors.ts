/** One line saying what is wrong with a serial endpoint and what to check. */
export function describeSerialError(err: unknown, target: string): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code;
  const message = e?.message ?? String(err);
  if (code === 'ENOENT' || /no such file/i.test(message)) return `${target} is not present (adapter unplugged or wrong path?)`;
  if (code === 'EACCES' || /permission denied/i.test(message)) return `permission denied opening ${target}: add the agent's user to the dialout group`;
  if (code === 'EBUSY' || /resource busy|cannot lock/i.test(message)) return `${target} is in use by another program`;
  if (code === 'EIO' || /i\/o error/i.test(message)) return `${target}: I/O error (device or adapter gone)`;
  if (code === 'ECONNREFUSED') return `connection refused by ${target}: check the terminal server port`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection to ${target} was reset`;
  if (code === 'ETIMEDOUT') return `no connection to ${target} (timed out)`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${target} is unreachable from this gateway (network)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${target}`;
  return `${target}: ${message}`;
}
