// GET /v1/whoami: the caller as the bridge sees it once the token is verified (principal, issuer,
// subject, groups, roles, scopes): what owns the jobs it starts and what route access is checked
// against. `gatehouse whoami` prints it, so nobody has to decode a token to know how it is read.
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { isAdmin } from '../../core/access.js';
import { ProblemBody } from '../errors.js';

const WhoamiBody = Type.Object({
  principal: Type.String(),
  method: Type.String(),
  issuer: Type.String(),
  subject: Type.String(),
  name: Type.Optional(Type.String()),
  email: Type.Optional(Type.String()),
  groups: Type.Array(Type.String()),
  roles: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  admin: Type.Boolean({ description: 'whether the caller is in admins.groups' }),
});

export async function whoamiRoute(app: FastifyInstance) {
  app.get(
    '/v1/whoami',
    {
      schema: {
        tags: ['jobs'],
        summary: 'The caller as Gatehouse sees it',
        operationId: 'whoami',
        security: [{ bearerAuth: [] }],
        response: { 200: WhoamiBody, '4xx': ProblemBody, '5xx': ProblemBody },
      },
    },
    async (request) => {
      const { principal, method, issuer, subject, name, email, groups, roles, scopes } = request.identity;
      const admin = isAdmin(request.identity, app.jobs.rules);
      return { principal, method, issuer, subject, name, email, groups, roles, scopes, admin };
    },
  );
}
