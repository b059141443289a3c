export interface AccountSummary {
  readonly name: string;
  readonly accountId?: string;
  readonly description?: string;
}

/**
 * Finds the account list in a `list_accounts` tool result. The result may be the tool's structured
 * output, an MCP CallToolResult (structuredContent, or JSON in a text block) or a bare array, so this
 * looks for the first array of objects that carry an account name.
 */
export function extractAccounts(result: unknown, depth = 0): AccountSummary[] | undefined {
  if (depth > 5 || result === null || result === undefined) return undefined;
  if (typeof result === 'string') {
    try {
      return extractAccounts(JSON.parse(result), depth + 1);
    } catch {
      return undefined;
    }
  }
  if (Array.isArray(result)) {
    const accounts = result.flatMap((item) => {
      const account = toAccount(item);
      return account ? [account] : [];
    });
    if (accounts.length > 0) return accounts;
    for (const item of result) {
      const found = extractAccounts(item, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof result === 'object') {
    const record = result as Record<string, unknown>;
    for (const key of ['accounts', 'structuredContent', 'items', 'content', 'result', 'text']) {
      if (key in record) {
        const found = extractAccounts(record[key], depth + 1);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function toAccount(item: unknown): AccountSummary | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const record = item as Record<string, unknown>;
  const name = [record['name'], record['alias'], record['accountName']].find((value) => typeof value === 'string');
  if (typeof name !== 'string') return undefined;
  const id = [record['accountId'], record['id'], record['account_id']].find((value) => typeof value === 'string');
  const description = [record['description'], record['environment']].find((value) => typeof value === 'string');
  return {
    name,
    ...(typeof id === 'string' ? { accountId: id } : {}),
    ...(typeof description === 'string' ? { description } : {}),
  };
}
