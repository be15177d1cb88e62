import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BasicAuthSecurity, Client, createClientAsync } from 'soap';

export interface SapClientConfig {
  /** The WSDL on disk (the project's own, or the one exported from the real system). */
  wsdlPath: string;
  endpoint: string;
  username: string;
  password: string;
  timeoutMs: number;
}

type SoapResult = Record<string, unknown>;

/**
 * SAP over SOAP with the `soap` package. The WSDL is parsed once; each unit of work gets its own
 * lightweight client so that its stateful session (the cookies SAP sets, which tie an update BAPI to
 * the BAPI_TRANSACTION_COMMIT that makes it permanent) is never shared with a concurrent activity.
 */
export class SapClient {
  private template?: Promise<Client>;
  private readonly httpAgent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 32 });

  constructor(private readonly config: SapClientConfig) {}

  /** How long one SOAP call may take before the client gives up (SAP_TIMEOUT_MS). */
  get timeoutMs(): number {
    return this.config.timeoutMs;
  }

  private async newClient(): Promise<Client> {
    this.template ??= createClientAsync(this.config.wsdlPath, { endpoint: this.config.endpoint }).catch(
      (err: unknown) => {
        this.template = undefined;
        throw err;
      },
    );
    const template = await this.template;
    const client = new Client(template.wsdl, this.config.endpoint, {});
    client.setSecurity(new BasicAuthSecurity(this.config.username, this.config.password));
    return client;
  }

  /**
   * Runs `work` in one stateful SAP session (one LUW): every call sends back the session cookies SAP
   * set. A request that arrives without them is its own session, whose uncommitted work SAP discards
   * when the request ends, so the session is opened first with a call that changes nothing
   * (BAPI_TRANSACTION_ROLLBACK) before the update BAPI and its commit.
   */
  async session<T>(work: (session: SapSession) => Promise<T>): Promise<T> {
    const session = this.newSession(await this.newClient());
    await session.call('BAPI_TRANSACTION_ROLLBACK', {});
    try {
      return await work(session);
    } catch (err) {
      // After a definite failure, give back what the unit of work holds (reserved numbers, order locks)
      // now rather than at SAP's session timeout. Not after a timeout or a dropped connection: the
      // request may still be running in SAP, and a rollback racing a late commit would undo it.
      if (!isAmbiguous(err)) await session.call('BAPI_TRANSACTION_ROLLBACK', {}).catch(() => undefined);
      throw err;
    }
  }

  /** A single stateless call (reads). */
  async call(operation: string, args: SoapResult): Promise<SoapResult> {
    return this.newSession(await this.newClient()).call(operation, args);
  }

  private newSession(client: Client): SapSession {
    return new SapSession(client, {
      timeout: this.config.timeoutMs,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export class SapSession {
  private cookies = new Map<string, string>();

  constructor(
    private readonly client: Client,
    private readonly requestOptions: Record<string, unknown>,
  ) {}

  async call(operation: string, args: SoapResult): Promise<SoapResult> {
    const method = (this.client as unknown as Record<string, unknown>)[`${operation}Async`];
    if (typeof method !== 'function') throw new Error(`the SAP WSDL has no operation ${operation}`);
    const headers = this.cookies.size
      ? { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
      : {};
    const [result] = (await (method as (...a: unknown[]) => Promise<unknown[]>).call(
      this.client,
      args,
      this.requestOptions,
      headers,
    )) as [SoapResult | null];
    this.remember(this.client.lastResponseHeaders?.['set-cookie']);
    return result ?? {};
  }

  private remember(setCookie: string[] | string | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
}

function isAmbiguous(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  return (
    code === 'ECONNABORTED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === 'EPIPE' ||
    /timeout of \d+ms exceeded|socket hang up|ECONNRESET|ECONNABORTED|ETIMEDOUT|EPIPE/.test(e.message ?? '')
  );
}
