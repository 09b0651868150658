/**
 * Which `userDid` from a call event the agent may rely on. The event says whatever its sender wrote,
 * so a DID counts as the user's only when it is proven for the signed-in Matrix user: the
 * `did:matrix:` form of their user ID (protocol/user-did.ts) always is; any other DID is, when the
 * operator's resolver (USER_DID_RESOLVER, an ES module) says so. What happens to the rest is
 * USER_DID_POLICY: `verify` refuses the sync (403 user_did_unverified), `claim` passes the DID on
 * only as `claimedUserDid`, `drop` leaves it out.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { matrixUserDid } from '../protocol/index.ts';
import { ConfigError } from './config.ts';
import type { ServerConfig } from './config.ts';
import { ApiError } from './errors.ts';

/** The operator's rule for DIDs other than the derived one: whether `did` belongs to the Matrix user `userId`. */
export type UserDidResolver = (did: string, userId: string) => boolean | Promise<boolean>;

export interface UserDids {
  /** Proven for the user: the agent may rely on it. */
  readonly verifiedUserDid?: string;
  /** Only what the event says (policy `claim`). */
  readonly claimedUserDid?: string;
}

export class UserDidPolicy {
  constructor(
    private readonly policy: ServerConfig['userDidPolicy'],
    private readonly resolver?: UserDidResolver,
  ) {}

  /** Loads the resolver module named by USER_DID_RESOLVER (its default export), when set. */
  static async load(config: ServerConfig): Promise<UserDidPolicy> {
    if (!config.userDidResolver) return new UserDidPolicy(config.userDidPolicy);
    let resolver: unknown;
    try {
      resolver = (await import(pathToFileURL(path.resolve(config.userDidResolver)).href)).default;
    } catch (error) {
      throw new ConfigError(`USER_DID_RESOLVER: ${config.userDidResolver} could not be loaded (${(error as Error).message})`);
    }
    if (typeof resolver !== 'function')
      throw new ConfigError(`USER_DID_RESOLVER: ${config.userDidResolver} has no default export function (did, userId) => boolean`);
    return new UserDidPolicy(config.userDidPolicy, resolver as UserDidResolver);
  }

  /** What the call keeps of the event's `userDid` for the signed-in `userId`; throws the 403 under `verify`. */
  async check(userId: string, did: string): Promise<UserDids> {
    if (did === matrixUserDid(userId) || (this.resolver && (await this.resolver(did, userId)) === true)) return { verifiedUserDid: did };
    if (this.policy === 'claim') return { claimedUserDid: did };
    if (this.policy === 'drop') return {};
    throw ApiError.forbidden(
      'user_did_unverified',
      `The call's userDid is not proven for ${userId}: use ${matrixUserDid(userId)}, or a DID the oracle's resolver vouches for`,
    );
  }
}
