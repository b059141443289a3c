import type { ToolDefinition } from './tool-definition.ts';

export const SEARCH_TOOL_NAME = 'x_amz_bedrock_agentcore_search';

export const SEARCH_TOOL: ToolDefinition = {
  name: SEARCH_TOOL_NAME,
  description: 'Find the tools of this gateway that fit a task: give a natural-language query, get the best-matching tool definitions (offline BM25 ranking over names and descriptions).',
  inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'What you want to do' } }, required: ['query'] },
  annotations: { readOnlyHint: true },
};

function terms(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[^a-z0-9]+/)
    .filter((term) => term.length > 1);
}

/** BM25 (k1 = 1.2, b = 0.75) over each tool's name (counted twice: names are the strongest signal) and description. */
export function searchTools(tools: readonly ToolDefinition[], query: string, limit = 10): ToolDefinition[] {
  const queryTerms = [...new Set(terms(query))];
  if (queryTerms.length === 0) return [];
  const documents = tools.map((tool) => {
    const words = [...terms(tool.name), ...terms(tool.name), ...terms(tool.description ?? '')];
    const counts = new Map<string, number>();
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    return { tool, counts, length: words.length };
  });
  const averageLength = documents.reduce((sum, document) => sum + document.length, 0) / Math.max(1, documents.length);
  const idf = new Map<string, number>();
  for (const term of queryTerms) {
    const containing = documents.filter((document) => document.counts.has(term)).length;
    idf.set(term, Math.log(1 + (documents.length - containing + 0.5) / (containing + 0.5)));
  }
  return documents
    .map((document) => {
      let score = 0;
      for (const term of queryTerms) {
        const frequency = document.counts.get(term) ?? 0;
        if (frequency === 0) continue;
        score += idf.get(term)! * ((frequency * 2.2) / (frequency + 1.2 * (0.25 + (0.75 * document.length) / averageLength)));
      }
      return { tool: document.tool, score };
    })
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score || a.tool.name.localeCompare(b.tool.name))
    .slice(0, limit)
    .map((entry) => entry.tool);
}
