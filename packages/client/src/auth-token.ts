import type { CallContext } from "./call-options.js";

/** User name and password for etcd's simple or JWT token authentication. */
export interface AuthCredentials {
  username: string;
  password: string;
}

/** Fetches a fresh token (an `Authenticate` call). */
export type Authenticator = (credentials: AuthCredentials, ctx: CallContext) => Promise<string>;

/**
 * The client's auth token: fetched on first use, shared by concurrent calls, and refetched
 * once when etcd reports it invalid or stale (`invalidAuthToken`, `authOldRevision`).
 */
export class AuthTokens {
  private pending: Promise<string> | undefined;
  private current: string | undefined;

  constructor(
    private readonly credentials: AuthCredentials,
    private readonly authenticate: Authenticator,
  ) {}

  /** The current token, authenticating first if there is none. */
  get(ctx: CallContext): Promise<string> {
    if (this.current !== undefined) return Promise.resolve(this.current);
    this.pending ??= this.authenticate(this.credentials, ctx).then(
      (token) => {
        this.pending = undefined;
        this.current = token;
        return token;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  /** Forgets `token` if it is still the current one, so the next call authenticates again. */
  invalidate(token: string): void {
    if (this.current === token) this.current = undefined;
  }
}
