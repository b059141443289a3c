import type { CommandHandler } from '@gatehouse/core';
import { auditCommand } from './audit-command.ts';

/** The gateway's `gatehouse <verb>` handlers. */
export const gatewayCommands: { audit: CommandHandler } = { audit: auditCommand };
