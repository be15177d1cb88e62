/**
 * The flow-cost benchmark's load generator, a process of its own (forked by bench/flow-cost.ts), so
 * its work never shares an event loop or a CPU account with what it measures.
 *
 * Open loop: arrival i is due at start + i / rate and goes out then, whether or not earlier ones were
 * answered, so a saturated system shows up as latency and backlog rather than as a lower offered rate.
 * An arrival is a `POST /v1/customers` (the project's API, or the no-durability coordinator) or, for
 * the engine floor, a workflow start through a Temporal client. Each arrival reports when it was due,
 * when it went out and when it was acknowledged.
 */
import { Client, Connection } from '@temporalio/client';

export type Target =
  | { kind: 'http'; url: string; token?: string }
  | { kind: 'temporal'; address: string; namespace: string; taskQueue: string; shape: string };

export interface RunRequest {
  type: 'run';
  tag: string;
  rate: number;
  count: number;
  target: Target;
}

export interface Arrival {
  id: string;
  dueAt: number;
  sentAt: number;
  ackAt?: number;
  status?: number;
  error?: string;
}

export function customerBody(reference: string) {
  return {
    reference,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `${reference}@example.com`,
    phone: '+44 20 7946 0958',
    company: reference.slice(-35), // unique: SAP's check-before-create finds nothing, every flow creates
    address: { street: '12 Bench Street', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  };
}

const clients = new Map<string, Promise<Client>>();

function temporalClient(address: string, namespace: string): Promise<Client> {
  const key = `${address}/${namespace}`;
  let client = clients.get(key);
  if (!client) {
    client = Connection.connect({ address }).then((connection) => new Client({ connection, namespace }));
    clients.set(key, client);
  }
  return client;
}

async function send(target: Target, id: string): Promise<number> {
  if (target.kind === 'http') {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
      },
      body: JSON.stringify(customerBody(id)),
    });
    await res.arrayBuffer();
    return res.status;
  }
  const client = await temporalClient(target.address, target.namespace);
  await client.workflow.start('engineFloor', {
    workflowId: id,
    taskQueue: target.taskQueue,
    args: [{ shape: target.shape }],
  });
  return 201;
}

async function run(req: RunRequest): Promise<Arrival[]> {
  if (req.target.kind === 'temporal') await temporalClient(req.target.address, req.target.namespace);
  const arrivals: Arrival[] = [];
  const pending: Promise<void>[] = [];
  const start = Date.now() + 20;
  for (let i = 0; i < req.count; i++) {
    const dueAt = start + (i * 1000) / req.rate;
    const wait = dueAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const arrival: Arrival = { id: `${req.tag}-${i}`, dueAt, sentAt: Date.now() };
    arrivals.push(arrival);
    pending.push(
      send(req.target, arrival.id).then(
        (status) => {
          arrival.status = status;
          arrival.ackAt = Date.now();
        },
        (err: unknown) => {
          arrival.error = (err as Error).message;
          arrival.ackAt = Date.now();
        },
      ),
    );
  }
  await Promise.all(pending);
  return arrivals;
}

if (require.main === module) {
  process.on('message', (msg: RunRequest) => {
    if (msg.type !== 'run') return;
    run(msg).then(
      (arrivals) => process.send?.({ type: 'done', arrivals }),
      (err: unknown) => process.send?.({ type: 'failed', error: (err as Error).message }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready' });
}
