import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseForm, readBodyFor, type FailureTable } from '@gatehouse/core';
import { StsError } from './sts-error.ts';
import { createSandboxSigV4 } from './sandbox-sigv4.ts';
import { assumedRoleArn, type SandboxStsOptions, type StsRequest } from './sts-request.ts';
import { assumeRole } from './sts-assume-role.ts';
import { assumeRoleWithWebIdentity } from './sts-assume-role-with-web-identity.ts';
import { getCallerIdentity } from './sts-get-caller-identity.ts';

export { assumedRoleArn, type SandboxStsOptions, type StsObservation } from './sts-request.ts';

/** The actions the sandbox STS serves, one file each. */
const ACTIONS: Record<string, (sts: StsRequest) => Promise<string>> = {
  AssumeRole: assumeRole,
  AssumeRoleWithWebIdentity: assumeRoleWithWebIdentity,
  GetCallerIdentity: getCallerIdentity,
};

/** The STS surface's answers to internal failures. */
const STS_FAILURES: FailureTable<StsError> = {
  bodyTooLarge: () => new StsError('ValidationError', 'Request body exceeds 65536 bytes'),
};

/**
 * The sandbox's STS query API at `{base}/sts`: AssumeRole (SigV4 from an admin key or a session this STS issued),
 * AssumeRoleWithWebIdentity (a JWT verified by the injected authorizer) and GetCallerIdentity.
 */
export function createSandboxSts(options: SandboxStsOptions) {
  const sigv4 = createSandboxSigV4({ service: 'sts', store: options.store, lookupAccessKey: options.lookupAccessKey, now: options.now, sessionArn: assumedRoleArn });
  return {
    async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
      let action = 'unknown';
      const requestId = randomUUID();
      try {
        if (request.method !== 'POST') throw new StsError('InvalidAction', 'STS takes form-encoded POST requests (Action=…&Version=2011-06-15)');
        const body = await readBodyFor(request, 64 * 1024, STS_FAILURES);
        const form = parseForm(body);
        action = form.Action ?? 'unknown';
        if (form.Version !== undefined && form.Version !== '2011-06-15') throw new StsError('InvalidAction', `Version ${form.Version} is not supported (use 2011-06-15)`);
        const run = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
        if (!run) throw new StsError('InvalidAction', `Could not find operation ${action.slice(0, 64)} for version 2011-06-15 (the sandbox serves AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity)`);
        const xml = await run({ options, request, body, form, requestId, authenticate: sigv4.authenticate });
        response.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml), 'x-amzn-requestid': requestId }).end(xml);
      } catch (error) {
        const stsError = error instanceof StsError ? error : new StsError('InternalFailure', 'internal');
        if (!(error instanceof StsError)) options.logger.error({ err: error, action }, 'sandbox STS failed');
        options.observe({ action, outcome: stsError.code });
        const wire = stsError.toResponse(requestId);
        if (!response.headersSent) response.writeHead(wire.status, { ...wire.headers, 'content-length': String(Buffer.byteLength(wire.body)), 'x-amzn-requestid': requestId }).end(wire.body);
        else response.destroy();
      }
    },
  };
}
