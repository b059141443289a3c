import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export type Json = unknown;
export type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: Record<string, Json> }>; Outputs?: Record<string, { Value: Json; Export?: { Name: string } }>; Parameters?: Record<string, Json> };

/** Every `{stack}.template.json` of a cloud assembly directory, by stack name. */
export function readTemplates(outDir: string): Map<string, CfnTemplate> {
  const templates = new Map<string, CfnTemplate>();
  for (const file of readdirSync(outDir)) {
    if (file.endsWith('.template.json')) templates.set(file.slice(0, -'.template.json'.length), JSON.parse(readFileSync(path.join(outDir, file), 'utf8')) as CfnTemplate);
  }
  return templates;
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, Record<string, Json>][] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id, resource]) => [id, resource.Properties ?? {}]);
}

export function onlyResource(template: CfnTemplate, type: string): [string, Record<string, Json>] {
  const found = resourcesOfType(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/**
 * Replaces every `Fn::ImportValue` with the exporting stack's output value, so expressions from two
 * stacks can be compared (same environment: pseudo parameters mean the same thing on both sides).
 */
export function resolveImports(value: Json, templates: ReadonlyMap<string, CfnTemplate>): Json {
  if (Array.isArray(value)) return value.map((entry) => resolveImports(entry, templates));
  if (value && typeof value === 'object') {
    const record = value as Record<string, Json>;
    const imported = record['Fn::ImportValue'];
    if (typeof imported === 'string' && Object.keys(record).length === 1) {
      for (const template of templates.values()) {
        for (const output of Object.values(template.Outputs ?? {})) if (output.Export?.Name === imported) return resolveImports(output.Value, templates);
      }
      throw new Error(`no stack exports ${imported}`);
    }
    return Object.fromEntries(Object.entries(record).map(([key, entry]) => [key, resolveImports(entry, templates)]));
  }
  return value;
}

/** Every IAM policy statement in a template (roles' inline policies, managed policies, bucket policies, trust policies). */
export function policyStatements(template: CfnTemplate): { resource: string; statement: Record<string, Json> }[] {
  const statements: { resource: string; statement: Record<string, Json> }[] = [];
  const visit = (resource: string, value: Json): void => {
    if (Array.isArray(value)) for (const entry of value) visit(resource, entry);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, Json>;
      if (Array.isArray(record.Statement)) for (const statement of record.Statement) statements.push({ resource, statement: statement as Record<string, Json> });
      else for (const entry of Object.values(record)) visit(resource, entry);
    }
  };
  for (const [id, resource] of Object.entries(template.Resources)) visit(id, resource.Properties);
  return statements;
}

export const asList = (value: Json): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * A CloudFormation expression as one comparable string: `Ref X` → `${X}`, `Fn::GetAtt [A, B]` → `${A.B}`,
 * `Fn::Join` → its parts concatenated (after imports are resolved, both sides name the same resources).
 */
export function renderExpression(value: Json): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, Json>;
    if (typeof record.Ref === 'string') return `\${${record.Ref}}`;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${${getAtt.join('.')}}`;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) return (join[1] as Json[]).map(renderExpression).join(String(join[0]));
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}
