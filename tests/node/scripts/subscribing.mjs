// What the subscription scripts share: the subscription they run, the mutation that changes the
// order they watch, and a wait until the gateway has started serving their subscriptions.
import { setTimeout as sleep } from "node:timers/promises";

export const ORDER_UPDATED = `subscription OrderUpdated($id: ID) {
  orderUpdated(id: $id) { id type orderId status version }
}`;

const CANCEL_ORDER = `mutation Cancel($input: CancelOrderInput!) {
  cancelOrder(input: $input) { order { id status } userErrors { code message } }
}`;

/** Cancels the order over HTTP as its customer; the mutation's answer. */
export async function cancelOrder(graphqlUrl, token, orderId) {
  const response = await fetch(graphqlUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: CANCEL_ORDER, variables: { input: { orderId } } }),
  });
  return { status: response.status, body: await response.json() };
}

/** The subscriptions the gateway serves now, over every transport, from its /metrics. */
export async function activeSubscriptions(baseUrl) {
  const metrics = await (await fetch(baseUrl + "/metrics")).text();
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (line.startsWith("manifold_subscriptions_active{")) {
      total += Number(line.trim().split(/\s+/).at(-1));
    }
  }
  return total;
}

/**
 * Until the gateway reports `count` active subscriptions on its /metrics (no event is replayed to
 * a subscription that starts after it was published, so the change must come after this), then a
 * moment more for the subscription's source stream to be opened behind that count. With
 * `atMost`: until it reports `count` or fewer (the subscriptions have ended).
 */
export async function waitForSubscriptions(baseUrl, count, { timeoutMs = 10_000, atMost = false } = {}) {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = await activeSubscriptions(baseUrl);
    if (atMost ? seen <= count : seen >= count) {
      if (!atMost) {
        await sleep(250);
      }
      return seen;
    }
    await sleep(50);
  }
  throw new Error(`the gateway reported ${seen} active subscriptions, not ${atMost ? "at most " : ""}${count}, within ${timeoutMs} ms`);
}

/** The first value `promise` gives, or `onTimeout` after `ms`. */
export function within(promise, ms, onTimeout) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(onTimeout), ms);
    }),
  ]);
}
