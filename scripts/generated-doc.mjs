// Shared by the scripts that generate docs from code (gen-*-doc.mjs): run directly, a script
// writes its document; imported (test/docs.test.ts), it only exposes the generator, so the test
// can fail when the committed document differs from what the code says.
import { writeFileSync } from 'node:fs';

/** Writes `docPath` (relative to the repository root) from `generate()` when `meta` is the script that was run. */
export function writeWhenRun(meta, docPath, generate) {
  if (meta.url !== `file://${process.argv[1]}`) return;
  writeFileSync(new URL(`../${docPath}`, meta.url), generate());
  process.stdout.write(`${docPath} written\n`);
}
