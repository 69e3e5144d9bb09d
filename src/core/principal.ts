// Principals: the one name of an actor, used as the job owner everywhere (GatehouseOwner, the
// memo, the Cedar principal id, the ledger, list filters). A principal is qualified by where the
// actor was authenticated and built only from ids that cannot be renamed or reused:
//   jwt:<issuer>#<sub>                a bearer-token caller (OIDC issuers have no '#' in them)
//   webhook:<instance>:<account id>   a Git provider's sender: GitHub/Gitea `sender.id`, GitLab
//                                     `user_id`, Bitbucket `account_id`; never a login or nickname
// so a token whose `sub` looks like a webhook sender, or another issuer's subject, is someone else.

export function jwtPrincipal(issuer: string, subject: string): string {
  return `jwt:${issuer}#${subject}`;
}

/** `instance` is the provider's name, or the hook's own instance name (two GitHub servers). */
export function webhookPrincipal(instance: string, accountId: string): string {
  return `webhook:${instance}:${accountId}`;
}

/** A principal as an operator may type it in a query or an entities file. */
export const principalPattern = /^(jwt:[^#\s]+#\S{1,255}|webhook:[a-z][a-z0-9-]{0,62}:[A-Za-z0-9{}:_-]{1,128})$/;

export function isPrincipal(value: string): boolean {
  return principalPattern.test(value);
}
