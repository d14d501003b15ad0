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

/**
 * A private CA and a server certificate it signed, for 127.0.0.1 and localhost, made with
 * openssl in `dir`: `ca.crt` (the CA, PEM) and `server.key` / `server.crt` (for the server).
 */
export function makePrivateCa(dir: string): void {
  const openssl = (args: string): void =>
    void execFileSync('openssl', args.split(' '), { cwd: dir, stdio: 'ignore' });
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  openssl(
    `req -x509 ${ec} -days 2 -subj /CN=crew-test-ca -addext basicConstraints=critical,CA:TRUE ` +
      '-addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.crt',
  );
  openssl(
    `req -new ${ec} -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost ` +
      '-keyout server.key -out server.csr',
  );
  openssl(
    'x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 ' +
      '-copy_extensions copy -out server.crt',
  );
}
