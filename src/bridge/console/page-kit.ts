// What every console page handler uses: drawing a page in the layout, the person's CSRF token and
// its check on a posted form, and reading a posted form. Made once per app by the console plugin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import type { GatehouseConfig } from '../../config/load-config.js';
import { GatehouseError } from '../errors.js';
import type { ConsoleAssets } from './assets.js';
import type { BridgeApi } from './bridge-api.js';
import type { CsrfTokens } from './csrf.js';
import { html, type Html } from './html.js';
import { layout, type Section, type Viewer } from './layout.js';

export const csrfField = 'csrf';

export interface PageKit {
  api: BridgeApi;
  config: GatehouseConfig;
  viewer(request: FastifyRequest): Viewer;
  /** Sends the page (HTML, the status given). */
  send(
    request: FastifyRequest,
    reply: FastifyReply,
    page: { title: string; section: Section; body: Html },
    status?: number,
  ): FastifyReply;
  /** The hidden CSRF field for a form of this person's session. */
  csrfInput(request: FastifyRequest): Html;
  /** A posted form's fields, after its CSRF token is checked (403 otherwise). */
  postedForm(request: FastifyRequest): URLSearchParams;
}

export function createPageKit(options: {
  api: BridgeApi;
  config: GatehouseConfig;
  csrf: CsrfTokens;
  assets: ConsoleAssets;
  sessionCookie: string;
}): PageKit {
  const { api, csrf, assets, sessionCookie } = options;
  /**
   * The session the request was authenticated by: its `sid` (the auth hook has verified this very
   * cookie on this request). A bearer token cannot be sent by another site, so it needs no token:
   * undefined then.
   */
  const sessionId = (request: FastifyRequest): string | undefined => {
    const cookie = request.cookies?.[sessionCookie];
    if (request.headers.authorization !== undefined || cookie === undefined) return undefined;
    const sid = decodeJwt(cookie).sid;
    return typeof sid === 'string' ? sid : '';
  };
  const viewer = (request: FastifyRequest): Viewer => {
    const identity = (request.identity as Viewer['identity'] | null) ?? undefined;
    return { identity, admin: identity !== undefined && api.isAdmin(identity) };
  };
  return {
    api,
    config: options.config,
    viewer,
    send(request, reply, page, status = 200) {
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(layout(assets, viewer(request), page));
    },
    csrfInput(request) {
      const token = csrf.issue(request.identity.principal, sessionId(request) ?? '');
      return html`<input type="hidden" name="${csrfField}" value="${token}" />`;
    },
    postedForm(request) {
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
      const sid = sessionId(request);
      if (sid !== undefined && !csrf.check(form.get(csrfField), request.identity.principal, sid)) {
        throw new GatehouseError(
          'GATEHOUSE_CROSS_SITE_REQUEST',
          'The form is out of date or did not come from this site; open the page again and resend it',
        );
      }
      return form;
    },
  };
}
