/**
 * The fields only an operator holding the admin token (ADMIN_TOKEN, sent as
 * `Authorization: Bearer <token>`) gets: reloadModel, and modelInfo.noticeDetail.
 */
import type { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { AdminAccess, RequestState } from '../request-state.js';
import { forbidden } from './errors.js';

/**
 * Why `what` is refused, by what the request sent (RequestState.admin): the same words for every
 * case left a caller who sent "Bearer x" told to send a token, and unable to tell a typo from a
 * gateway where admin is off. Saying a token is not the admin token tells nothing about it.
 */
function refusal(access: Exclude<AdminAccess, 'admin'>, what: string): string {
  switch (access) {
    case 'none':
      return `${what} needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>`;
    case 'malformed':
      return `${what} needs the admin token as Authorization: Bearer <ADMIN_TOKEN>; the Authorization header sent is not "Bearer" followed by a token`;
    case 'mismatch':
      return "the bearer token sent is not the admin token: send this gateway's ADMIN_TOKEN as Authorization: Bearer <ADMIN_TOKEN>";
    case 'disabled':
      return `${what} is off on this gateway: it has no admin token (its operator enables ${what} by setting ADMIN_TOKEN)`;
  }
}

/**
 * Throws FORBIDDEN, saying why, unless `request` sent the admin token. `status`: the HTTP status
 * the answer gets (403 for a mutation refused whole); a field refused within an answer that has
 * data leaves it at 200.
 */
export function requireAdmin(request: RequestState, what: string, status: 403 | null = 403): void {
  const access = request.admin;
  if (access === 'admin') return;
  // Someone holds a token that is not this gateway's: a typo, a stale one, or a guess. (Never the token.)
  if (access === 'mismatch') request.log.warn(`${what} refused: the bearer token sent is not the admin token`);
  throw status === null ? fieldForbidden(refusal(access, what)) : forbidden(refusal(access, what));
}

function fieldForbidden(message: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}
