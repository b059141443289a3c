import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import forge from 'node-forge';

/** The files `gatehouse up --https` serves with, all in `{dataDir}/tls`. */
export interface LocalCertificate {
  /** PEM of the server's private key (the file is 0600). */
  readonly key: string;
  /** PEM of the server certificate followed by the CA certificate (the chain a client is sent). */
  readonly cert: string;
  /** PEM of the local CA certificate: what a browser or `NODE_EXTRA_CA_CERTS` must trust. */
  readonly caPem: string;
  readonly caFile: string;
  /** What happened on this start, for the log: every file reused, a new server certificate, or a new CA too. */
  readonly made: 'reused' | 'server-certificate' | 'ca-and-server-certificate';
}

const DAY_MS = 86_400_000;
/** A server certificate within this of its end is replaced at start; the CA too. */
const RENEW_BEFORE_MS = 30 * DAY_MS;
const CA_VALIDITY_MS = 10 * 365 * DAY_MS;
// Browsers cap publicly trusted server certificates at 398 days; stay inside it though this CA is private.
const SERVER_VALIDITY_MS = 397 * DAY_MS;

/**
 * A local certificate authority and a server certificate for localhost, 127.0.0.1 and ::1 (plus any
 * other host name the public URL uses), made once and kept in `{dataDir}/tls`, so the CA a developer
 * trusted stays the same across restarts. The CA is name-constrained to exactly those names, so even a
 * leaked CA key cannot vouch for any other site. Keys are 0600; nothing here is ever written outside
 * the data directory (which `.gitignore` keeps out of commits).
 */
export function ensureLocalCertificate(dataDir: string, extraHosts: readonly string[] = [], now: Date = new Date()): LocalCertificate {
  const directory = path.join(dataDir, 'tls');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const files = {
    ca: path.join(directory, 'ca.pem'),
    caKey: path.join(directory, 'ca-key.pem'),
    server: path.join(directory, 'server.pem'),
    serverKey: path.join(directory, 'server-key.pem'),
  };
  const names = hostNames(extraHosts);

  let made: LocalCertificate['made'] = 'reused';
  let ca = readPair(files.ca, files.caKey);
  if (!ca || !caStillUsable(ca, names, now)) {
    ca = makeCa(names, now);
    writeFile(files.caKey, ca.keyPem, 0o600);
    writeFile(files.ca, ca.certPem, 0o644);
    made = 'ca-and-server-certificate';
  }
  let server = made === 'reused' ? readPair(files.server, files.serverKey) : undefined;
  if (!server || !serverStillUsable(server, ca, names, now)) {
    server = makeServerCertificate(ca, names, now);
    writeFile(files.serverKey, server.keyPem, 0o600);
    writeFile(files.server, server.certPem, 0o644);
    if (made === 'reused') made = 'server-certificate';
  }
  return { key: server.keyPem, cert: `${server.certPem.trimEnd()}\n${ca.certPem.trimEnd()}\n`, caPem: ca.certPem, caFile: files.ca, made };
}

interface HostNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

function hostNames(extraHosts: readonly string[]): HostNames {
  const dns = new Set(['localhost']);
  const ips = new Set(['127.0.0.1', '::1']);
  for (const raw of extraHosts) {
    const host = raw.replace(/^\[|\]$/g, '').toLowerCase();
    if (!host || host === '0.0.0.0' || host === '::') continue;
    if (isIP(host)) ips.add(host);
    else dns.add(host);
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

interface Pair {
  readonly certPem: string;
  readonly keyPem: string;
}

function readPair(certFile: string, keyFile: string): Pair | undefined {
  if (!existsSync(certFile) || !existsSync(keyFile)) return undefined;
  try {
    const pair = { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
    // A key someone loosened (copied with the wrong mode) is tightened again, not served as is.
    chmodSync(keyFile, 0o600);
    return new X509Certificate(pair.certPem).checkPrivateKey(createPrivateKey(pair.keyPem)) ? pair : undefined;
  } catch {
    return undefined;
  }
}

function lastsBeyond(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS && new Date(certificate.validFrom).getTime() <= now.getTime() + DAY_MS;
}

function caStillUsable(ca: Pair, names: HostNames, now: Date): boolean {
  const certificate = new X509Certificate(ca.certPem);
  if (!certificate.ca || !lastsBeyond(certificate, now)) return false;
  const permitted = permittedNames(forge.pki.certificateFromPem(ca.certPem));
  return names.dns.every((name) => permitted.dns.some((base) => name === base || name.endsWith(`.${base}`))) &&
    names.ips.every((ip) => permitted.ips.some((range) => inRange(ipBytes(ip), range)));
}

function serverStillUsable(server: Pair, ca: Pair, names: HostNames, now: Date): boolean {
  const certificate = new X509Certificate(server.certPem);
  const authority = new X509Certificate(ca.certPem);
  return certificate.checkIssued(authority) && certificate.verify(authority.publicKey) && lastsBeyond(certificate, now) &&
    names.dns.every((name) => certificate.checkHost(name, { wildcards: false }) === name) && names.ips.every((ip) => certificate.checkIP(ip) === ip);
}

function newRsaKey(): { keyPem: string; publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  // node:crypto makes the key (native, fast); node-forge only assembles and signs the certificate.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem);
  return { keyPem, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serialNumber(): string {
  // Positive, 16 random bytes (RFC 5280 wants ≤ 20 octets and unpredictable for a CA's certificates).
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function makeCa(names: HostNames, now: Date): Pair {
  const key = newRsaKey();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = key.publicKey;
  certificate.serialNumber = serialNumber();
  certificate.validity.notBefore = new Date(now.getTime() - 60_000);
  certificate.validity.notAfter = new Date(now.getTime() + CA_VALIDITY_MS);
  const subject = [
    { name: 'commonName', value: `Gatehouse local CA ${randomBytes(3).toString('hex')}` },
    { name: 'organizationName', value: 'Gatehouse (development only)' },
  ];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { id: '2.5.29.30', critical: true, value: nameConstraints(names) },
  ]);
  certificate.sign(key.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(certificate), keyPem: key.keyPem };
}

function makeServerCertificate(ca: Pair, names: HostNames, now: Date): Pair {
  const key = newRsaKey();
  const authority = forge.pki.certificateFromPem(ca.certPem);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = key.publicKey;
  certificate.serialNumber = serialNumber();
  certificate.validity.notBefore = new Date(now.getTime() - 60_000);
  certificate.validity.notAfter = new Date(Math.min(now.getTime() + SERVER_VALIDITY_MS, authority.validity.notAfter.getTime()));
  certificate.setSubject([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'Gatehouse (development only)' }]);
  certificate.setIssuer(authority.subject.attributes);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authority.generateSubjectKeyIdentifier().getBytes() },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(certificate), keyPem: key.keyPem };
}

interface IpRange {
  readonly address: Buffer;
  readonly mask: Buffer;
}

/** The CA may vouch only for these names: `localhost` (and below it), 127.0.0.0/8, ::1 and the extra hosts. */
function nameConstraints(names: HostNames): forge.asn1.Asn1 {
  const { asn1 } = forge;
  const ranges: IpRange[] = [{ address: ipBytes('127.0.0.0'), mask: Buffer.from([255, 0, 0, 0]) }];
  for (const ip of names.ips) {
    const address = ipBytes(ip);
    if (!ranges.some((range) => inRange(address, range))) ranges.push({ address, mask: Buffer.alloc(address.length, 255) });
  }
  const subtree = (base: forge.asn1.Asn1): forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [base]);
  const permitted = [
    ...names.dns.map((name) => subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, name))),
    ...ranges.map((range) => subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, Buffer.concat([range.address, range.mask]).toString('binary')))),
  ];
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, permitted)]);
}

function permittedNames(certificate: forge.pki.Certificate): { dns: string[]; ips: IpRange[] } {
  const extension = certificate.getExtension('nameConstraints') as { permittedSubtrees?: { type: number; value: string }[] } | undefined;
  const dns: string[] = [];
  const ips: IpRange[] = [];
  for (const subtree of extension?.permittedSubtrees ?? []) {
    if (subtree.type === 2) dns.push(subtree.value.toLowerCase());
    if (subtree.type === 7 && (subtree.value.length === 8 || subtree.value.length === 32)) {
      const bytes = Buffer.from(subtree.value, 'binary');
      ips.push({ address: bytes.subarray(0, bytes.length / 2), mask: bytes.subarray(bytes.length / 2) });
    }
  }
  return { dns, ips };
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const groups = (text: string): number[] => (text ? text.split(':').map((group) => Number.parseInt(group, 16)) : []);
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(group, index * 2));
  return bytes;
}

function inRange(address: Buffer, range: IpRange): boolean {
  return address.length === range.address.length && address.every((byte, index) => (byte & range.mask[index]!) === (range.address[index]! & range.mask[index]!));
}

function writeFile(file: string, content: string, mode: number): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, file);
}
