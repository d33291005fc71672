/** Types of free-port.mjs, for the tests. */
export function freePort(host?: string): Promise<number>;
export function portNear(preferred: number, host?: string): Promise<number>;
