import type { Command } from 'commander';
import { initCa, issueGateway, issueServer, PkiError } from './pki/openssl-pki.js';

/** `medtel-collector pki ...`: the small private CA (pki/openssl-pki.ts) for sites without their own. */
export function registerPkiCommands(program: Command): void {
  const pki = program.command('pki').description("a small private CA for the collector's TLS certificate and gateway client certificates (needs openssl)");
  const run = (what: () => string) => {
    try {
      process.stdout.write(`${what()}\n`);
    } catch (err) {
      if (!(err instanceof PkiError)) throw err;
      process.stderr.write(`medtel-collector: pki: ${err.message}\n`);
      process.exit(1);
    }
  };
  const days = (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new PkiError(`--days: found "${v}", expected a whole number of days`);
    return n;
  };
  pki
    .command('init')
    .description('create the CA (ca.crt, ca.key) in --dir')
    .option('--dir <dir>', 'PKI directory', './pki')
    .option('--name <cn>', "the CA's common name", 'medtel private CA')
    .option('--days <n>', 'validity', '3650')
    .action((opts: { dir: string; name: string; days: string }) =>
      run(() => {
        const p = initCa(opts.dir, { name: opts.name, days: days(opts.days) });
        return `CA written: ${p.caCert} (give it to gateways as collector.tls.caFile and to the collector as mqtt.tls.caFile)\nCA key: ${p.caKey} (keep it offline)`;
      }),
    );
  pki
    .command('issue-server <names...>')
    .description("the collector's server certificate for the host names / IP addresses gateways connect to")
    .option('--dir <dir>', 'PKI directory', './pki')
    .option('--days <n>', 'validity', '825')
    .action((names: string[], opts: { dir: string; days: string }) =>
      run(() => {
        const out = issueServer(opts.dir, names, { days: days(opts.days) });
        return `server certificate: ${out.cert}\nkey: ${out.key}\n(mqtt.tls.certFile / keyFile)`;
      }),
    );
  pki
    .command('issue-gateway <id>')
    .description("a gateway's client certificate (CN and SAN = the id)")
    .option('--dir <dir>', 'PKI directory', './pki')
    .option('--days <n>', 'validity', '825')
    .action((id: string, opts: { dir: string; days: string }) =>
      run(() => {
        const out = issueGateway(opts.dir, id, { days: days(opts.days) });
        return `gateway certificate: ${out.cert}\nkey: ${out.key}\n(copy both and ca.crt to the gateway: collector.tls.certFile / keyFile / caFile)`;
      }),
    );
}
