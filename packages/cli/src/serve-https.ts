import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { ConfigError, type Logger } from '@gatehouse/core';
import { ensureLocalCertificate } from './local-certificate.ts';

export type LocalCertificate = ReturnType<typeof ensureLocalCertificate>;

export interface LocalCertificateRequest {
  readonly dataDir: string;
  readonly publicUrl: string | undefined;
  readonly listenHost: string;
  readonly logger: Logger;
}

/**
 * The local CA and server certificate for `--https` (made once, then reused from the data dir). This
 * process trusts the CA too: identity, the gateway and the runtime reach each other and the public URL
 * over HTTPS. The CA is name-constrained to the local names, so trusting it grants nothing elsewhere.
 */
export function localCertificate({ dataDir, publicUrl, listenHost, logger }: LocalCertificateRequest): LocalCertificate {
  const hosts = [listenHost];
  if (publicUrl !== undefined) {
    const url = new URL(publicUrl);
    if (url.protocol !== 'https:') {
      throw new ConfigError('the configuration', [`publicUrl: must start with https:// when https is on (got ${url.protocol}//…); drop publicUrl or --https`]);
    }
    hosts.push(url.hostname);
  }
  const certificate = ensureLocalCertificate(dataDir, hosts);
  if (certificate.made === 'ca-and-server-certificate') logger.warn({ caCertificate: certificate.caFile }, 'made a new local CA for HTTPS: trust this certificate in your browser or OS (development only)');
  else if (certificate.made === 'server-certificate') logger.info({ caCertificate: certificate.caFile }, 'made a new server certificate, signed by the existing local CA');
  const trusted = getCACertificates('default');
  if (!trusted.includes(certificate.caPem)) setDefaultCACertificates([...trusted, certificate.caPem]);
  return certificate;
}

/**
 * What agents get as NODE_EXTRA_CA_CERTS (Node reads one file): the local CA, plus whatever file this
 * process was already told to trust, so a corporate proxy's CA keeps working in the agent.
 */
export function agentCaFile(caFile: string, env: NodeJS.ProcessEnv): string {
  const existing = env.NODE_EXTRA_CA_CERTS;
  if (!existing || !existsSync(existing)) return caFile;
  const bundle = path.join(path.dirname(caFile), 'agent-ca-bundle.pem');
  writeFileSync(bundle, `${readFileSync(existing, 'utf8').trimEnd()}\n${readFileSync(caFile, 'utf8')}`, { mode: 0o644 });
  return bundle;
}
