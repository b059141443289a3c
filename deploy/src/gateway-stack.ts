import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TOOL_SCHEMA } from '@gatehouse/tools';
import type { PlannedAuthorizer, PlannedGateway } from './deploy-plan.ts';

export interface GatewayStackProps extends StackProps {
  readonly gateways: readonly PlannedGateway[];
  readonly webClient: cognito.IUserPoolClient;
  readonly discoveryUrl: string;
  readonly toolsFunction: lambda.IFunction;
  /** Bundled directories of the other Lambda targets, by `{gateway}/{target}`. */
  readonly lambdaBundles: ReadonlyMap<string, { readonly dir: string; readonly handler: string }>;
}

type JsonSchema = { type?: unknown; description?: unknown; properties?: Record<string, JsonSchema>; items?: JsonSchema; required?: unknown };

/** AgentCore's inline tool schema keeps type, description, properties, items and required (no additionalProperties). */
function toSchemaDefinition(schema: JsonSchema): agentcore.SchemaDefinition {
  return {
    type: agentcore.SchemaDefinitionType.of(typeof schema.type === 'string' ? schema.type : 'object'),
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    ...(schema.properties ? { properties: Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, toSchemaDefinition(value)])) } : {}),
    ...(schema.items ? { items: toSchemaDefinition(schema.items) } : {}),
    ...(Array.isArray(schema.required) && schema.required.length > 0 ? { required: schema.required.map(String) } : {}),
  };
}

function toToolDefinitions(tools: readonly unknown[]): agentcore.ToolDefinition[] {
  return tools.map((tool) => {
    const entry = tool as { name: string; description?: string; inputSchema?: JsonSchema };
    return { name: entry.name, description: entry.description ?? entry.name, inputSchema: toSchemaDefinition(entry.inputSchema ?? { type: 'object' }) };
  });
}

/** `default` → `Default`, `ops-tools` → `OpsTools`: output keys are alphanumeric. */
export function outputSuffix(name: string): string {
  return name.split(/[^a-zA-Z0-9]+/).map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
}

function gatewayAuthorizer(authorizer: PlannedAuthorizer, discoveryUrl: string, webClient: cognito.IUserPoolClient): agentcore.IGatewayAuthorizerConfig {
  if (authorizer.kind === 'iam') return agentcore.GatewayAuthorizer.usingAwsIam();
  if (authorizer.kind === 'cognito') return agentcore.GatewayAuthorizer.usingCustomJwt({ discoveryUrl, allowedClients: [webClient.userPoolClientId] });
  const jwt = authorizer.jwt;
  return agentcore.GatewayAuthorizer.usingCustomJwt({
    discoveryUrl: jwt.discoveryUrl,
    ...(jwt.allowedClients ? { allowedClients: [...jwt.allowedClients] } : {}),
    ...(jwt.allowedAudience ? { allowedAudience: [...jwt.allowedAudience] } : {}),
    ...(jwt.allowedScopes ? { allowedScopes: [...jwt.allowedScopes] } : {}),
  });
}

/** Seed 004's gateway stack: each configured gateway with JWT inbound and its targets; the ops tools are the tools Lambda. */
export class GatewayStack extends Stack {
  readonly gateways = new Map<string, agentcore.Gateway>();

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    for (const planned of props.gateways) {
      const gateway = new agentcore.Gateway(this, `Gateway-${planned.name}`, {
        gatewayName: planned.name,
        ...(planned.description ? { description: planned.description } : {}),
        authorizerConfiguration: gatewayAuthorizer(planned.authorizer, props.discoveryUrl, props.webClient),
      });
      this.gateways.set(planned.name, gateway);
      for (const target of planned.targets) {
        const description = target.description ? { description: target.description.slice(0, 200) } : {};
        switch (target.kind) {
          case 'ops-tools':
            gateway.addLambdaTarget(`Target-${target.name}`, {
              gatewayTargetName: target.name,
              ...description,
              lambdaFunction: props.toolsFunction,
              toolSchema: agentcore.ToolSchema.fromInline(toToolDefinitions(TOOL_SCHEMA)),
            });
            break;
          case 'lambda': {
            const bundle = props.lambdaBundles.get(`${planned.name}/${target.name}`);
            if (!bundle) throw new Error(`internal: no bundle for ${planned.name}/${target.name}`);
            const fn = new lambda.Function(this, `Function-${planned.name}-${target.name}`, {
              runtime: lambda.Runtime.NODEJS_24_X,
              architecture: lambda.Architecture.ARM_64,
              handler: bundle.handler,
              code: lambda.Code.fromAsset(bundle.dir),
              timeout: Duration.seconds(30),
              logGroup: new logs.LogGroup(this, `Logs-${planned.name}-${target.name}`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
            });
            gateway.addLambdaTarget(`Target-${target.name}`, {
              gatewayTargetName: target.name,
              ...description,
              lambdaFunction: fn,
              toolSchema: agentcore.ToolSchema.fromInline(toToolDefinitions(target.toolSchema)),
            });
            break;
          }
          case 'mcp-server':
            gateway.addMcpServerTarget(`Target-${target.name}`, { gatewayTargetName: target.name, ...description, endpoint: target.endpoint, credentialProviderConfigurations: [] });
            break;
          case 'openapi':
            gateway.addOpenApiTarget(`Target-${target.name}`, {
              gatewayTargetName: target.name,
              ...description,
              apiSchema: agentcore.ApiSchema.fromInline(target.inline),
            });
            break;
        }
      }
      new CfnOutput(this, `GatewayUrl${outputSuffix(planned.name)}`, { value: gateway.gatewayUrl ?? '' });
      new CfnOutput(this, `GatewayId${outputSuffix(planned.name)}`, { value: gateway.gatewayId });
    }
  }
}
