import { Connection } from 'jsforce';

export interface SalesforceClientConfig {
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  /** With username and password: OAuth2 password flow (refresh token). Without: client credentials. */
  username?: string;
  password?: string;
  apiVersion: string;
  /** Sent as `Sforce-Call-Options: client=<name>`; change events carry it back in `changeOrigin`. */
  callClient: string;
}

/**
 * A thin wrapper over one jsforce Connection shared by all Salesforce activities of a worker. It logs in
 * lazily (once, even under concurrency) and re-authenticates when Salesforce answers 401: jsforce does
 * this itself with the refresh token of the password flow; for client credentials we give it a
 * refresh function that asks for a new token.
 */
export class SalesforceClient {
  readonly connection: Connection;
  private login?: Promise<void>;

  constructor(private readonly config: SalesforceClientConfig) {
    const usesPassword = Boolean(config.username && config.password);
    this.connection = new Connection({
      loginUrl: config.loginUrl,
      version: config.apiVersion,
      oauth2: { clientId: config.clientId, clientSecret: config.clientSecret, loginUrl: config.loginUrl },
      callOptions: { client: config.callClient },
      ...(usesPassword
        ? {}
        : {
            refreshFn: (conn: Connection, callback: (err: Error | null, accessToken?: string) => void) => {
              conn.oauth2
                .requestToken({ grant_type: 'client_credentials' })
                // jsforce stores the new token itself; the instance URL stays the one from login.
                .then((res) => callback(null, res.access_token))
                .catch((err: Error) => callback(err));
            },
          }),
    });
  }

  /** Resolves once the connection holds a session; concurrent callers share one login. */
  async ready(): Promise<Connection> {
    this.login ??= this.authenticate().catch((err: unknown) => {
      this.login = undefined; // let the next attempt try again
      throw err;
    });
    await this.login;
    return this.connection;
  }

  private async authenticate(): Promise<void> {
    const { username, password } = this.config;
    if (username && password) {
      await this.connection.login(username, password);
    } else {
      await this.connection.authorize({ grant_type: 'client_credentials' });
    }
  }
}

/** SOQL string literal: backslash and single quote escaped as Salesforce requires. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
