/** The local sandbox's member accounts and their sample content (seeded once, kept across restarts). */
export interface SandboxAccountSeed {
  readonly accountId: string;
  readonly name: string;
  readonly environment: string;
  readonly buckets: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export const SANDBOX_ACCOUNTS: readonly SandboxAccountSeed[] = [
  {
    accountId: '111111111111',
    name: 'Production',
    environment: 'prod',
    buckets: {
      'prod-app-logs': {
        'app/2026/11/23/web-01.log': '2026-11-23T09:14:02Z INFO request served path=/checkout status=200 ms=41\n2026-11-23T09:14:07Z WARN slow upstream payment-api ms=1840\n',
        'app/2026/11/24/web-01.log': '2026-11-24T01:02:11Z INFO request served path=/ status=200 ms=12\n',
      },
      'prod-customer-assets': {
        'invoices/INV-1001.txt': 'Invoice INV-1001\nCustomer: Example Corp\nTotal: 1,250.00 EUR\n',
        'logos/example-corp.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="#2a6"/></svg>\n',
      },
      'prod-backups': {
        'db/2026-11-23.manifest.json': '{"database":"orders","snapshot":"2026-11-23T00:00:00Z","tables":12}\n',
      },
    },
  },
  {
    accountId: '222222222222',
    name: 'Staging',
    environment: 'staging',
    buckets: {
      'staging-app-logs': { 'app/2026/11/24/web-01.log': '2026-11-24T02:10:00Z INFO deploy finished version=2026.11.24-rc1\n' },
      'staging-build-artifacts': {
        'releases/2026.11.24-rc1/manifest.json': '{"version":"2026.11.24-rc1","commit":"4f2c9e1"}\n',
        'releases/2026.11.24-rc1/CHANGELOG.md': '# 2026.11.24-rc1\n- faster checkout\n- fixed invoice rounding\n',
      },
    },
  },
  {
    accountId: '333333333333',
    name: 'Development',
    environment: 'dev',
    buckets: {
      'dev-scratch': { 'notes/readme.txt': 'Scratch space for the development account. Anything here may be deleted.\n' },
      'dev-test-fixtures': {
        'fixtures/users.csv': 'id,name,email\n1,Ada,ada@example.com\n2,Linus,linus@example.com\n',
        'fixtures/orders.json': '[{"id":1,"user":1,"total":12.5},{"id":2,"user":2,"total":99}]\n',
      },
    },
  },
];
