// Generated from openapi.yaml by scripts/keyed.mjs (npm run generate): do not edit.
// The operations that take an Idempotency-Key: the POST and PATCH requests the SDK may retry.
export const keyedOperations: ReadonlyArray<readonly [string, string]> = [
  ["POST", "/api/admin/webhook-events/{id}/replay"],
  ["POST", "/api/auth/password-reset/confirm"],
  ["POST", "/api/auth/password-reset"],
  ["POST", "/api/posts/{id}/comments"],
  ["POST", "/api/posts/{id}/publish"],
  ["PATCH", "/api/posts/{id}"],
  ["POST", "/api/posts"],
  ["PATCH", "/api/users/{id}"],
  ["POST", "/api/users"],
  ["POST", "/api/webhook-endpoints/{id}/deliveries/{deliveryId}/retry"],
  ["POST", "/api/webhook-endpoints/{id}/recover"],
  ["POST", "/api/webhook-endpoints/{id}/test"],
  ["PATCH", "/api/webhook-endpoints/{id}"],
];
