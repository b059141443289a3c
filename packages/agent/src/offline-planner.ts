import type { ContentBlock, ModelChunk, ModelProvider, ModelRequest, ToolSpec } from './model-provider.ts';

export const OFFLINE_LABEL = '(offline planner — no model configured)';

const CAPABILITIES = [
  '• "List my accounts"',
  '• "List S3 buckets in the Production account"',
  '• "List objects in bucket <name> in the Staging account"',
  '• "Describe resources in the Development account"',
  '• "Read s3://<bucket>/<key> in the Production account"',
  '• "Write \'hello\' to s3://<bucket>/<key> in the Development account"',
  '• "Can I write to bucket <name> in the Staging account?"',
];

interface Plan {
  readonly tool: string;
  readonly input: Record<string, unknown>;
}

/**
 * A deterministic stand-in for a model: reads the last user message, picks one gateway tool for the
 * reference tasks, then words the tool's result. Says plainly what it is in every answer, so nobody
 * mistakes it for a language model.
 */
export function createOfflinePlanner(): ModelProvider {
  return {
    label: 'offline planner',
    async check() {
      return 'offline planner, nothing to check';
    },
    async *stream(request: ModelRequest): AsyncGenerator<ModelChunk> {
      const last = request.messages.at(-1);
      const results = last?.content.filter((block): block is Extract<ContentBlock, { type: 'tool-result' }> => block.type === 'tool-result') ?? [];
      if (results.length > 0) {
        yield* streamText(`${OFFLINE_LABEL} ${results.map(describeResult).join('\n\n')}`);
        yield { type: 'stop', reason: 'end_turn' };
        return;
      }
      const prompt = last?.content.find((block) => block.type === 'text')?.text ?? '';
      const outcome = planByToolName(prompt, request.tools) ?? planFor(prompt);
      if ('answer' in outcome) {
        yield* streamText(`${OFFLINE_LABEL} ${outcome.answer}`);
        yield { type: 'stop', reason: 'end_turn' };
        return;
      }
      const turn = request.messages.length;
      yield { type: 'tool-use', id: `offline-${turn}-1`, name: toolName(outcome.tool, request.tools), input: outcome.input };
      yield { type: 'stop', reason: 'tool_use' };
    },
  };
}

/** Splits the answer at word boundaries so clients see it arrive as deltas, like a model's. */
function* streamText(text: string): Generator<ModelChunk> {
  const parts = text.match(/\S+\s*|\s+/g) ?? [text];
  for (let index = 0; index < parts.length; index += 4) yield { type: 'text-delta', delta: parts.slice(index, index + 4).join('') };
}

/** The gateway's prefixed name when it lists the tool; the default target's otherwise. */
function toolName(bare: string, tools: readonly ToolSpec[]): string {
  return tools.find((tool) => tool.name === bare || tool.name.endsWith(`___${bare}`))?.name ?? `ops___${bare}`;
}

/**
 * Any gateway's tools, by name: a prompt that spells a tool's name ("list tickets" → `tickets___list_tickets`)
 * calls it without arguments; one that names a target whose tools need the user to connect a SaaS account
 * first calls its `connect` stand-in (which answers with the consent link).
 */
export function planByToolName(prompt: string, tools: readonly ToolSpec[]): Plan | undefined {
  const lower = ` ${prompt.toLowerCase().replace(/[^a-z0-9]+/g, ' ')} `;
  const bare = (name: string): string => name.slice(name.lastIndexOf('___') + 3);
  const spelled = tools.find((tool) => tool.name.includes('___') && bare(tool.name) !== 'connect' && lower.includes(` ${bare(tool.name).replace(/_/g, ' ')} `));
  if (spelled) return { tool: spelled.name, input: {} };
  const connect = tools.find((tool) => bare(tool.name) === 'connect' && lower.includes(` ${tool.name.slice(0, tool.name.lastIndexOf('___')).toLowerCase()} `));
  return connect ? { tool: connect.name, input: {} } : undefined;
}

export function planFor(prompt: string): Plan | { answer: string } {
  const text = prompt.trim();
  const lower = text.toLowerCase();
  const account = findAccount(text);
  const s3Url = /s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(\S+)/i.exec(text);
  const bucket = s3Url?.[1] ?? findBucket(text);
  const needAccount = (what: string): { answer: string } => ({
    answer: `Which account should I use to ${what}? Name it, e.g. "… in the Production account". Ask "list my accounts" to see them.`,
  });

  if (/\baccounts\b/.test(lower) && !bucket && !/\bbuckets?\b/.test(lower)) return { tool: 'list_accounts', input: {} };

  const write = /\b(?:write|put|upload|save|store)\b\s+(["'“])([\s\S]*?)["'”]/i.exec(text);
  if (write) {
    if (!s3Url) return { answer: 'Tell me where to write it as s3://<bucket>/<key>, e.g. Write \'hello\' to s3://my-bucket/notes.txt in the Development account.' };
    if (!account) return needAccount('write that object');
    return { tool: 'bucket_objects_put', input: { account, bucket: s3Url[1], key: s3Url[2], body: write[2] ?? '' } };
  }
  if (/\b(?:can i|may i|access|permission|allowed)\b/.test(lower) && bucket) {
    if (!account) return needAccount('check that bucket');
    const operations = /\b(?:write|put|upload)\b/.test(lower) ? ['write'] : /\bread\b/.test(lower) ? ['read'] : undefined;
    return { tool: 'bucket_access_check', input: { account, bucket, ...(operations ? { operations } : {}) } };
  }
  if (s3Url && /\b(?:read|get|show|cat|open|fetch|download)\b/.test(lower)) {
    if (!account) return needAccount('read that object');
    return { tool: 'bucket_object_get', input: { account, bucket: s3Url[1], key: s3Url[2] } };
  }
  if (bucket && /\b(?:objects?|files?|contents?|keys?|in bucket|inside)\b/.test(lower)) {
    if (!account) return needAccount('list that bucket');
    const prefix = /\bprefix\s+["'`]?([^\s"'`]+)/i.exec(text)?.[1];
    return { tool: 'bucket_objects_list', input: { account, bucket, ...(prefix ? { prefix } : {}) } };
  }
  if (/\b(?:buckets?|s3)\b/.test(lower)) {
    if (!account) return needAccount('list buckets');
    return { tool: 'call_aws', input: { account, service: 's3', operation: 'ListBuckets' } };
  }
  if (/\b(?:describe|resources?|inventory|what(?:'s| is) (?:in|running))\b/.test(lower)) {
    if (!account) return needAccount('describe resources');
    const [service, operation] = serviceFor(lower);
    return { tool: 'call_aws', input: { account, service, operation } };
  }
  return {
    answer: `I can only handle a few reference tasks without a model. Try:\n${CAPABILITIES.join('\n')}\nTo chat freely, configure a model provider (bedrock, anthropic or openai-compatible) in gatehouse.yaml under "model".`,
  };
}

function serviceFor(lower: string): [string, string] {
  if (/\b(?:ec2|instances?|servers?)\b/.test(lower)) return ['ec2', 'DescribeInstances'];
  if (/\b(?:lambda|functions?)\b/.test(lower)) return ['lambda', 'ListFunctions'];
  if (/\b(?:dynamodb|tables?)\b/.test(lower)) return ['dynamodb', 'ListTables'];
  if (/\b(?:iam|roles?)\b/.test(lower)) return ['iam', 'ListRoles'];
  return ['s3', 'ListBuckets'];
}

function findAccount(text: string): string | undefined {
  const patterns = [
    /\b(?:in|for|from|on|of|to|using)\s+(?:the\s+)?["'`]?([A-Za-z0-9][A-Za-z0-9_-]*)["'`]?\s+account\b/i,
    /\baccount\s+["'`]?([A-Za-z0-9][A-Za-z0-9_-]*)/i,
    /\b(Production|Staging|Development)\b/i,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(text)?.[1];
    if (match && !/^(?:my|the|a|an|this|that|which|each|every|all)$/i.test(match)) return capitalize(match);
  }
  return undefined;
}

function capitalize(name: string): string {
  // Account names are matched case-insensitively by the registry; the sandbox's are capitalised.
  return /^\d+$/.test(name) ? name : name.charAt(0).toUpperCase() + name.slice(1);
}

function findBucket(text: string): string | undefined {
  const patterns = [/\bbucket\s+(?:named\s+|called\s+)?["'`]?([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\b/i, /["'`]?([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])["'`]?\s+bucket\b/i];
  for (const pattern of patterns) {
    const match = pattern.exec(text)?.[1];
    if (match && !/^(?:the|my|this|that|each|which|s3)$/i.test(match)) return match;
  }
  return undefined;
}

function describeResult(block: Extract<ContentBlock, { type: 'tool-result' }>): string {
  const bare = block.name.includes('___') ? block.name.slice(block.name.lastIndexOf('___') + 3) : block.name;
  if (block.isError) return `The ${bare} tool reported an error: ${block.content || 'no details'}`;
  let value: unknown;
  try {
    value = JSON.parse(block.content);
  } catch {
    return `${bare} returned:\n${block.content}`;
  }
  const list = firstArray(value);
  if (!list) return `${bare} returned:\n${JSON.stringify(value, null, 2)}`;
  const noun = { list_accounts: 'account', call_aws: 'item', bucket_objects_list: 'object' }[bare] ?? 'item';
  if (list.length === 0) return `${bare} found no ${noun}s.`;
  const lines = list.slice(0, 50).map((item) => `• ${describeItem(item)}`);
  const more = list.length > 50 ? `\n… and ${list.length - 50} more` : '';
  return `Found ${list.length} ${noun}${list.length === 1 ? '' : 's'}:\n${lines.join('\n')}${more}`;
}

function firstArray(value: unknown, depth = 0): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (!value || typeof value !== 'object' || depth > 2) return undefined;
  for (const child of Object.values(value)) {
    const found = firstArray(child, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function describeItem(item: unknown): string {
  if (!item || typeof item !== 'object') return String(item);
  const record = item as Record<string, unknown>;
  const name = record.name ?? record.Name ?? record.key ?? record.Key ?? record.InstanceId ?? record.FunctionName ?? record.RoleName;
  const detail = ['account_id', 'accountId', 'id', 'environment', 'region', 'Size', 'size', 'CreationDate', 'LastModified', 'last_modified']
    .filter((field) => record[field] !== undefined && record[field] !== name)
    .map((field) => `${field}: ${String(record[field])}`);
  if (name === undefined) return JSON.stringify(item);
  return detail.length ? `${String(name)} (${detail.join(', ')})` : String(name);
}
