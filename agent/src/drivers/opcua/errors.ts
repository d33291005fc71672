/**
 * OPC UA failures in words an engineer can act on: what went wrong and what
 * to do about it. These become the device's status reason in the registry.
 * No node-opcua import: messages are matched as text.
 */

/** A browse path the server does not have (a profile written for another model or firmware). */
export class NodePathError extends Error {
  constructor(path: string, endpoint: string) {
    super(`node path not found: ${path} on ${endpoint}; browse the server (medtel-agent opcua browse ${endpoint}) and fix the profile`);
  }
}

export interface ErrorContext {
  endpoint: string;
  mode: string;
  policy: string;
  pkiDir: string;
}

export function describeOpcuaError(err: unknown, c: ErrorContext): string {
  if (err instanceof NodePathError) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (/server Certificate verification failed/i.test(message) || /BadCertificate(Untrusted|Invalid|ChainIncomplete)/.test(message)) {
    const why = /Untrusted|BadCertificateChainIncomplete/.test(message) ? 'is not trusted' : `was refused (${/Bad\w+/.exec(message)?.[0] ?? 'invalid'})`;
    return (
      `certificate rejected: the server certificate of ${c.endpoint} ${why}; check its thumbprint and trust it with ` +
      `"medtel-agent opcua trust ${c.endpoint} -c <agent.yaml>" or list it in trustedServerCertificates (refused certificates are kept in ${c.pkiDir}/rejected)`
    );
  }
  if (/Cannot find an Endpoint matching|endpoint.*not found|BadSecurityPolicyRejected|BadSecurityModeRejected/i.test(message)) {
    return `security mismatch: ${c.endpoint} offers no endpoint with security mode ${c.mode} and policy ${c.policy}; run "medtel-agent opcua browse ${c.endpoint}" to list what it offers and fix connection.security`;
  }
  if (/BadSecurityChecksFailed|BadCertificateUntrusted|BadTcpSecureChannelUnknown/.test(message)) {
    return `the server refused the agent's certificate; trust ${c.pkiDir}/own/certs/client_certificate.pem on the server (${c.endpoint}), then the agent connects at its next attempt`;
  }
  if (/BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserAccessDenied/.test(message)) {
    return `the server refused the session identity (${/Bad\w+/.exec(message)?.[0]}); check connection.identity (user name, password file or user certificate)`;
  }
  if (code === 'ECONNREFUSED' || /ECONNREFUSED|connect ECONNREFUSED/.test(message)) {
    return `cannot reach ${c.endpoint}: connection refused; is the OPC UA server running and the endpoint's host and port right?`;
  }
  if (code === 'ENOTFOUND' || /ENOTFOUND|EAI_AGAIN/.test(message)) return `cannot resolve the host of ${c.endpoint}; check the endpoint`;
  if (/timeout|timed out|ETIMEDOUT/i.test(message)) return `no answer from ${c.endpoint} in time; check the network path and that the server is running`;
  return `OPC UA error with ${c.endpoint}: ${message.split('\n')[0]}`;
}
