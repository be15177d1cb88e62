/** OAuth 2.0: the token endpoint (password, client credentials, refresh token), revocation, the identity URL. */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyFaults } from '../common/server';
import { sessionInvalid } from './errors';
import { normalizeId } from './ids';
import type { SalesforceOrg, Session } from './org';
import { JSON_TYPE } from './rendering';

function randomToken(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._';
  const bytes = randomBytes(length);
  let s = '';
  for (const b of bytes) s += alphabet.charAt(b % alphabet.length);
  return s;
}

export function createOAuth(org: SalesforceOrg) {
  const { options, now, core, sessions, refreshTokens, issued, baseUrl } = org;
  const oauthError = (reply: FastifyReply, status: number, error: string, description: string) =>
    reply
      .code(status)
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify({ error, error_description: description }));

  const issueToken = (req: FastifyRequest, grantType: string, userId: string, withRefresh: boolean) => {
    const url = baseUrl(req);
    const accessToken = `${options.orgId.slice(0, 15)}!AQ8AQ${randomToken(96)}`;
    sessions.set(accessToken, { userId, expiresAt: now() + options.sessionTtlMs });
    let refreshToken: string | undefined;
    if (withRefresh) {
      refreshToken = `5Aep861${randomToken(80)}`;
      refreshTokens.set(refreshToken, { userId, revoked: false });
    }
    issued.push({ grantType, accessToken, refreshToken, at: now() });
    const id = `${url}/id/${options.orgId}/${userId}`;
    const issuedAt = String(now());
    const signature = createHmac('sha256', options.clientSecret)
      .update(id + issuedAt)
      .digest('base64');
    return {
      access_token: accessToken,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      signature,
      scope: withRefresh ? 'refresh_token api' : 'api',
      instance_url: url,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    };
  };

  const tokenHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const decision = await applyFaults(core, req, reply, 'token');
    if (decision === 'handled') return reply;
    if (decision.rule) {
      switch (decision.rule.kind) {
        case 'server-unavailable':
          return oauthError(reply, 503, 'unknown_error', 'retry your request');
        case 'request-limit-exceeded':
          return oauthError(reply, 400, 'rate_limit_exceeded', 'too many requests');
        case 'session-expired':
          return oauthError(reply, 400, 'invalid_grant', 'expired access/refresh token');
        case 'unable-to-lock-row':
        case 'server-error':
        default:
          return oauthError(reply, 500, 'unknown_error', 'retry your request');
      }
    }
    const params = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    let clientId = params.get('client_id') ?? undefined;
    let clientSecret = params.get('client_secret') ?? undefined;
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId ??= id !== undefined ? decodeURIComponent(id) : undefined;
      clientSecret ??= secret !== undefined ? decodeURIComponent(secret) : undefined;
    }
    const grantType = params.get('grant_type');
    if (!grantType) return oauthError(reply, 400, 'invalid_request', 'grant type is missing');
    if (!['password', 'client_credentials', 'refresh_token'].includes(grantType)) {
      return oauthError(reply, 400, 'unsupported_grant_type', 'grant type not supported');
    }
    if (clientId !== options.clientId)
      return oauthError(reply, 400, 'invalid_client_id', 'client identifier invalid');
    // The refresh_token grant may omit the secret (public clients); when sent, it must be right.
    if (
      (grantType !== 'refresh_token' || clientSecret !== undefined) &&
      clientSecret !== options.clientSecret
    ) {
      return oauthError(reply, 400, 'invalid_client', 'invalid client credentials');
    }
    if (grantType === 'password') {
      if (params.get('username') !== options.username || params.get('password') !== options.password) {
        return oauthError(reply, 400, 'invalid_grant', 'authentication failure');
      }
      return reply
        .header('content-type', JSON_TYPE)
        .send(JSON.stringify(issueToken(req, grantType, options.userId, true)));
    }
    if (grantType === 'client_credentials') {
      return reply
        .header('content-type', JSON_TYPE)
        .send(JSON.stringify(issueToken(req, grantType, options.userId, false)));
    }
    const rt = refreshTokens.get(params.get('refresh_token') ?? '');
    if (!rt || rt.revoked) return oauthError(reply, 400, 'invalid_grant', 'expired access/refresh token');
    return reply
      .header('content-type', JSON_TYPE)
      .send(JSON.stringify(issueToken(req, grantType, rt.userId, false)));
  };

  const authenticate = (req: FastifyRequest): Session => {
    const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const session = m ? sessions.get(m[1]!.trim()) : undefined;
    if (!session || session.expiresAt <= now()) {
      if (m) sessions.delete(m[1]!.trim());
      throw sessionInvalid();
    }
    return session;
  };

  const identityHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const { org, user } = req.params as { org: string; user: string };
    let session: Session;
    try {
      session = authenticate(req);
    } catch {
      return reply.code(403).header('content-type', 'text/plain').send('Bad_OAuth_Token');
    }
    if (normalizeId(org) !== options.orgId || normalizeId(user) !== session.userId) {
      return reply.code(403).header('content-type', 'text/plain').send('Bad_Id');
    }
    const url = baseUrl(req);
    return reply.header('content-type', JSON_TYPE).send(
      JSON.stringify({
        id: `${url}/id/${options.orgId}/${session.userId}`,
        asserted_user: true,
        user_id: session.userId,
        organization_id: options.orgId,
        username: options.username,
        nick_name: options.username.split('@')[0],
        display_name: 'Integration User',
        email: options.username,
        email_verified: true,
        active: true,
        user_type: 'STANDARD',
        language: 'en_US',
        locale: 'en_US',
        utcOffset: 0,
        is_app_installed: true,
        urls: {
          rest: `${url}/services/data/v{version}/`,
          sobjects: `${url}/services/data/v{version}/sobjects/`,
          query: `${url}/services/data/v{version}/query/`,
          profile: `${url}/${session.userId}`,
        },
      }),
    );
  };

  const revokeHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const params = new URLSearchParams(
      typeof req.body === 'string' ? req.body : (req.url.split('?')[1] ?? ''),
    );
    const token = params.get('token') ?? '';
    const rt = refreshTokens.get(token);
    if (rt) rt.revoked = true;
    else if (!sessions.delete(token))
      return oauthError(reply, 400, 'unsupported_token_type', 'this token type is not supported');
    return reply.code(200).send();
  };
  return { tokenHandler, revokeHandler, identityHandler, authenticate };
}
