import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import { isIP } from 'node:net';
import { getCACertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { closeServer, listen } from '@gatehouse/core';
import { ensureLocalCertificate } from '../src/local-certificate.ts';

const DAY_MS = 86_400_000;

/** GET / over TLS to 127.0.0.1 trusting only `ca`, with `servername` as the name to check; the body or the TLS error code. */
async function tlsGet(port: number, servername: string, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const call = request({ host: '127.0.0.1', port, path: '/', ca, agent: false, headers: { host: servername }, ...(isIP(servername) ? {} : { servername }) }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    });
    call.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? ''} ${error.message}`));
    call.end();
  });
}

test('the local CA and server certificate are made once with private keys at 0600, and reused unchanged on the next start', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-tls-'));
  const first = ensureLocalCertificate(dataDir);
  assert.equal(first.made, 'ca-and-server-certificate');
  assert.equal(first.caFile, path.join(dataDir, 'tls', 'ca.pem'));
  for (const file of ['ca-key.pem', 'server-key.pem']) assert.equal(statSync(path.join(dataDir, 'tls', file)).mode & 0o777, 0o600, file);
  assert.equal(statSync(path.join(dataDir, 'tls')).mode & 0o777, 0o700);
  const server = new X509Certificate(readFileSync(path.join(dataDir, 'tls', 'server.pem')));
  const ca = new X509Certificate(first.caPem);
  assert.equal(ca.ca, true);
  assert.equal(server.ca, false);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey));
  assert.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');

  const second = ensureLocalCertificate(dataDir);
  assert.equal(second.made, 'reused');
  assert.deepEqual(second, { ...first, made: 'reused' });
});

test('a server certificate near its end is replaced at start, signed by the same CA the developer already trusts', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-tls-'));
  const first = ensureLocalCertificate(dataDir);
  const later = ensureLocalCertificate(dataDir, [], new Date(Date.now() + 380 * DAY_MS));
  assert.equal(later.made, 'server-certificate');
  assert.equal(later.caPem, first.caPem);
  assert.notEqual(later.key, first.key);
  assert.ok(new X509Certificate(later.cert).checkIssued(new X509Certificate(first.caPem)));
});

test('a public host name the CA may not vouch for gets a new CA (and says so), whose certificate names that host', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-tls-'));
  const first = ensureLocalCertificate(dataDir);
  const widened = ensureLocalCertificate(dataDir, ['gatehouse.test', '0.0.0.0']);
  assert.equal(widened.made, 'ca-and-server-certificate');
  assert.notEqual(widened.caPem, first.caPem);
  assert.equal(new X509Certificate(widened.cert).checkHost('gatehouse.test'), 'gatehouse.test');
  assert.equal(ensureLocalCertificate(dataDir, ['gatehouse.test']).made, 'reused');
});

/** A certificate for `name` signed with the local CA's key: what a leaked CA key would be used for. */
function signedByLocalCa(dataDir: string, caPem: string, name: string): { key: string; cert: string } {
  const caKey = forge.pki.privateKeyFromPem(readFileSync(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'));
  const caCertificate = forge.pki.certificateFromPem(caPem);
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(key);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  certificate.serialNumber = '0badbeef';
  certificate.validity.notBefore = new Date(Date.now() - 60_000);
  certificate.validity.notAfter = new Date(Date.now() + DAY_MS);
  certificate.setSubject([{ name: 'commonName', value: name }]);
  certificate.setIssuer(caCertificate.subject.attributes);
  certificate.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: name }] }, { name: 'extKeyUsage', serverAuth: true }]);
  certificate.sign(caKey, forge.md.sha256.create());
  return { key, cert: `${forge.pki.certificateToPem(certificate)}${caPem}` };
}

test('clients trusting only the local CA connect to localhost and 127.0.0.1; a certificate its key signs for another site is refused (name constraints)', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-tls-'));
  const local = ensureLocalCertificate(dataDir);
  const serve = (tls: { key: string; cert: string }, body: string): Server => createServer(tls, (_request, response) => response.end(body));
  const servers = [serve(local, 'served'), serve(signedByLocalCa(dataDir, local.caPem, 'app.localhost'), 'inside'), serve(signedByLocalCa(dataDir, local.caPem, 'bank.example'), 'rogue')];
  const [goodPort, insidePort, roguePort] = await Promise.all(servers.map((server) => listen(server, 0)));
  try {
    assert.equal(await tlsGet(goodPort!, 'localhost', local.caPem), 'served');
    assert.equal(await tlsGet(goodPort!, '127.0.0.1', local.caPem), 'served');
    // the system's roots alone do not trust it
    assert.match(await tlsGet(goodPort!, 'localhost', getCACertificates('bundled').join('\n')), /^error SELF_SIGNED_CERT_IN_CHAIN/);
    // control: the same kind of certificate, for a name under localhost, is accepted
    assert.equal(await tlsGet(insidePort!, 'app.localhost', local.caPem), 'inside');
    assert.match(await tlsGet(roguePort!, 'bank.example', local.caPem), /permitted subtree violation/);
  } finally {
    await Promise.all(servers.map((server) => closeServer(server)));
  }
});
