/**
 * Keys and certificates for an HTTPS server on 127.0.0.1 that no client should trust, made
 * with openssl in a directory of the test's: `self-signed` (valid now, signed by itself)
 * and `expired` (valid for one day in 2020). Each is `<name>.key` and `<name>.crt`.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function makeCertificates(dir: string): void {
  const openssl = (args: string): void =>
    void execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
  const subject = '-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1';
  openssl(
    `req -x509 -newkey rsa:2048 -nodes -days 2 ${subject} -keyout self-signed.key -out self-signed.crt`,
  );
  // openssl req cannot backdate a certificate; openssl ca can, given a CA database.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(
    join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca = d\n[d]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\n' +
      'serial = serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n' +
      '[p]\ncommonName = supplied\n',
  );
  openssl(`req -new -newkey rsa:2048 -nodes ${subject} -keyout expired.key -out expired.csr`);
  openssl(
    'ca -batch -config ca.cnf -selfsign -create_serial -keyfile expired.key -in expired.csr ' +
      '-out expired.crt -startdate 20200101000000Z -enddate 20200102000000Z',
  );
}
