/**
 * A gatehouse.yaml setting the managed service cannot express. Raised while planning, before any
 * construct exists, so a bad config never turns into a half-valid template. `field` is the config path.
 */
export class DeployConfigError extends Error {
  readonly code = 'DeployConfigError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'DeployConfigError';
    this.field = field;
  }
}
