/** Sizes in config files: "512KiB", "256MiB", "2GiB" (or kB/MB/GB, powers of 1000). A bare number is bytes. */
const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1000, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3 };
export const SIZE_PATTERN = '^\\d+(\\.\\d+)?\\s?(B|KiB|MiB|GiB|kB|KB|MB|GB)?$';

export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`invalid size ${value}: expected a non-negative number of bytes`);
    return value;
  }
  const match = /^(\d+(?:\.\d+)?)\s?([A-Za-z]+)?$/.exec(value.trim());
  const unit = match?.[2] ?? 'B';
  if (!match || UNIT_BYTES[unit] === undefined) throw new Error(`invalid size "${value}": expected e.g. 512KiB, 256MiB or 2GiB`);
  return Math.round(Number(match[1]) * (UNIT_BYTES[unit] as number));
}
