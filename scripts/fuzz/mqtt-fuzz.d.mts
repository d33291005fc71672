/** Types for mqtt-fuzz.mjs (used by collector/test/broker-fuzz.test.ts). */
export interface Credentials {
  username: string;
  password: string;
}
export function rng(seed: number): () => number;
export function connectPacket(options: { clientId: string; username?: string; password?: string; keepalive?: number }): Buffer;
export function publishPacket(topic: string, payload: string | Buffer, qos?: number, id?: number): Buffer;
export function subscribePacket(filter: string, id?: number): Buffer;
export function malformedPacket(r: () => number): Buffer;
export function malformedJson(r: () => number, seq: number): string;
export function fuzzPackets(options: {
  host: string;
  port: number;
  packets: number;
  connections?: number;
  seed?: number;
  burst?: number;
  authenticated?: { share: number; credentials: () => Credentials };
  onProgress?: (sent: number) => void;
}): Promise<{ packets: number; sockets: number; closedByBroker: number }>;
export function fuzzJson(options: {
  host: string;
  port: number;
  count: number;
  connections?: number;
  seed?: number;
  credentials: (worker: number) => Credentials;
  topicFor: (gateway: string) => string;
}): Promise<{ payloads: number; acked: number }>;
