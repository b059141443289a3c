import type { ControlPlaneContext } from './control-plane-context.ts';
import { fieldError } from './control-plane-error.ts';
import { nested, oneMember, requiredObject, requiredString, type Input } from './input-fields.ts';

const LAMBDA_ARN = /^arn:(aws[a-zA-Z-]*)?:lambda:([a-z]{2}(-gov)?-[a-z]+-\d{1}|[a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** The function name of a Lambda ARN (`arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`). */
export function lambdaFunctionName(arn: string): string | undefined {
  return LAMBDA_ARN.exec(arn)?.[5];
}

/**
 * `targetConfiguration.mcp.lambda` in AWS's shape — `lambdaArn` and `toolSchema` (`inlinePayload`: a list of
 * `{name, description, inputSchema, outputSchema?}`, or `s3`). There is no Lambda here: the ARN's function name
 * must be one of gatehouse.yaml's `controlPlane.functions`.
 */
export function lambdaTarget(inner: Input, functions: ControlPlaneContext['functions']): Input {
  const lambdaArn = requiredString(inner, 'lambdaArn', { pattern: LAMBDA_ARN, patternHint: 'be a Lambda function ARN (arn:aws:lambda:{region}:{account}:function:{name})', max: 170 });
  const name = lambdaFunctionName(lambdaArn)!;
  if (!Object.hasOwn(functions, name)) {
    throw fieldError('lambdaArn', `names function ${name}, which this Gatehouse does not have (there is no Lambda here): declare it in gatehouse.yaml controlPlane.functions (${name}: {module: ./file.mjs}) and restart`);
  }
  const schema = requiredObject(inner, 'toolSchema');
  const source = oneMember(schema, 'toolSchema', ['s3', 'inlinePayload']);
  if (source === 's3') return { lambdaArn, toolSchema: { s3: nested('toolSchema', () => requiredObject(schema, 's3')) } };
  const tools = schema.inlinePayload;
  if (!Array.isArray(tools) || tools.length === 0 || tools.length > 1000) throw fieldError('toolSchema.inlinePayload', 'must be a list of 1 to 1000 tool definitions ({name, description, inputSchema})');
  tools.forEach((tool: unknown, index) => {
    const entry = (tool ?? {}) as Input;
    if (typeof entry.name !== 'string' || !TOOL_NAME.test(entry.name)) throw fieldError(`toolSchema.inlinePayload[${index}].name`, 'must be 1–128 letters, digits, _ and -');
    if (typeof entry.description !== 'string') throw fieldError(`toolSchema.inlinePayload[${index}].description`, 'is required: what the tool does (the model reads it)');
    if (entry.inputSchema === null || typeof entry.inputSchema !== 'object' || Array.isArray(entry.inputSchema)) throw fieldError(`toolSchema.inlinePayload[${index}].inputSchema`, 'is required: a JSON schema object ({"type": "object", …})');
  });
  return { lambdaArn, toolSchema: { inlinePayload: tools } };
}
