// A function target (Lambda shape) that answers with the caller the gateway verified: what tools see.
export const toolSchema = [{ name: 'whoami', description: 'Who is calling', inputSchema: { type: 'object', properties: {} } }];
export async function handler(_event, context) {
  const { sub, username, groups, scopes } = context.identity;
  return { sub, username, groups, scopes };
}
