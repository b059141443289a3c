/** The IAM role names the tools assume in each account (and the sandbox and the deploy create): one place for them. */
export const READ_ONLY_ROLE = 'GatehouseOpsReadOnly';
export const READ_WRITE_ROLE = 'GatehouseOpsReadWrite';
export const BRIDGE_ROLE = 'GatehouseToolsBridge';
