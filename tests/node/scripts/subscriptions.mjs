// A customer watches an order with a real subscription client, as an application would, and a
// mutation changes the order: the event arrives on the subscription. MANIFOLD_CLIENT picks the
// client: `graphql-ws` (the graphql-transport-ws protocol, over the `ws` package), `urql` (its
// subscription exchange over that graphql-ws client) or `graphql-sse` (Server-Sent Events,
// distinct connections mode).
import { Client, subscriptionExchange } from "@urql/core";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { Checks, input, run } from "./harness.mjs";
import { activeSubscriptions, cancelOrder, ORDER_UPDATED, waitForSubscriptions, within } from "./subscribing.mjs";

const EVENT_TIMEOUT_MS = 5_000;

function socketUrl(base) {
  return base.replace(/^http/, "ws") + "/graphql";
}

function describe(error) {
  if (error && typeof error.code === "number") {
    return { closeCode: error.code, reason: error.reason };
  }
  return { message: String(error?.message ?? JSON.stringify(error)) };
}

/** Each client as `subscribe(request, sink) → dispose`, and how to let it go afterwards. */
const CLIENTS = {
  "graphql-ws"(base, token) {
    const client = createWsClient({
      url: socketUrl(base),
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    return { subscribe: (request, sink) => client.subscribe(request, sink), close: () => client.dispose() };
  },

  urql(base, token) {
    const ws = createWsClient({
      url: socketUrl(base),
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    const client = new Client({
      url: base + "/graphql",
      exchanges: [
        subscriptionExchange({
          forwardSubscription(request) {
            const operation = { ...request, query: request.query ?? "" };
            return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(operation, sink) }) };
          },
        }),
      ],
    });
    return {
      subscribe(request, sink) {
        // urql reports results, including errors, through one callback.
        const { unsubscribe } = client.subscription(request.query, request.variables).subscribe((result) => {
          if (result.error) {
            sink.error(result.error.networkError ?? result.error);
          } else {
            sink.next({ data: result.data });
          }
        });
        return unsubscribe;
      },
      close: () => ws.dispose(),
    };
  },

  "graphql-sse"(base, token) {
    const client = createSseClient({
      url: base + "/graphql",
      headers: { Authorization: `Bearer ${token}` },
      singleConnection: false, // distinct connections mode: one event stream per subscription
      retryAttempts: 0,
    });
    return { subscribe: (request, sink) => client.subscribe(request, sink), close: () => client.dispose() };
  },
};

run(async () => {
  const base = input("MANIFOLD_BASE_URL");
  const token = input("MANIFOLD_TOKEN");
  const orderId = input("MANIFOLD_ORDER_ID");
  const name = input("MANIFOLD_CLIENT");
  const checks = new Checks();
  const client = CLIENTS[name](base, token);
  const results = [];
  let failure = null;
  let arrived;
  const first = new Promise((resolve) => (arrived = resolve));
  const before = await activeSubscriptions(base);
  const dispose = client.subscribe(
    { query: ORDER_UPDATED, variables: { id: orderId } },
    {
      next: (result) => {
        results.push(result);
        arrived(result);
      },
      error: (error) => {
        failure = describe(error);
        arrived(null);
      },
      complete: () => arrived(null),
    },
  );
  try {
    await waitForSubscriptions(base, before + 1);
    const changedAt = Date.now();
    const cancelled = await cancelOrder(base + "/graphql", token, orderId);
    const result = await within(first, EVENT_TIMEOUT_MS, null);
    const latencyMs = Date.now() - changedAt;

    const order = cancelled.body?.data?.cancelOrder?.order;
    checks.check("the mutation cancelled the order", cancelled.status === 200 && order?.status === "CANCELLED", cancelled);
    checks.check("the subscription did not fail", failure === null, failure);
    const event = result?.data?.orderUpdated;
    checks.check("the event arrived", event !== undefined, results);
    checks.check("it came without errors", result !== null && result.errors === undefined, result);
    checks.check("it is the watched order's", event?.orderId === orderId, event);
    checks.check("it says what happened", event?.type === "ORDER_CANCELLED" && event?.status === "CANCELLED", event);
    checks.check("it counts the order's changes", Number.isInteger(event?.version) && event.version >= 1, event);
    return checks.report({ client: name, event, latencyMs });
  } finally {
    dispose();
    await client.close();
  }
});
