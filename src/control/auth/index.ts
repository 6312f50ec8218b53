// Tenants, API keys, roles (docs/auth.md).
export { generateKey, KEY_PATTERN, KEY_PREFIX, parseKey } from './keys.js';
export {
  type AuthService,
  type AuthServiceOptions,
  createAuthService,
  isKeyRole,
  OPERATOR_TENANT,
  type Principal,
  TENANT_ID_PATTERN,
} from './service.js';
export { type ApiKey, KEY_ROLES, type KeyRole, type Tenant } from './store.js';
