/**
 * An open byte pipe to a device, whatever carries it (tty or TCP). Protocol code
 * sees only this, so it runs unchanged on a USB adapter and a terminal server.
 */
export interface ByteLink {
  write(bytes: Buffer): Promise<void>;
  /** Closes the pipe; never rejects. */
  close(): Promise<void>;
}

export interface LinkEvents {
  data(bytes: Buffer): void;
  /** The pipe failed or the far end closed it. Called at most once. */
  closed(reason: string): void;
}
