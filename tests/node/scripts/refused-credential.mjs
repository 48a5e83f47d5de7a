// A subscription with a credential the gateway refuses: over graphql-ws the socket closes with
// 4403 before any subscription starts (the credential in connection_init, as a bearer token or
// an API key); over graphql-sse the stream is refused with 401. No event ever arrives.
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { Checks, input, run } from "./harness.mjs";
import { ORDER_UPDATED, within } from "./subscribing.mjs";

const TIMEOUT_MS = 5_000;

function outcome(client, request) {
  return new Promise((resolve) => {
    const events = [];
    client.subscribe(request, {
      next: (result) => events.push(result),
      error: (error) => resolve({ events, error }),
      complete: () => resolve({ events, error: null }),
    });
  });
}

async function overWebSocket(base, connectionParams) {
  let acknowledged = false;
  const client = createWsClient({
    url: base.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    on: { connected: () => (acknowledged = true) },
  });
  try {
    const { events, error } = await within(outcome(client, { query: ORDER_UPDATED }), TIMEOUT_MS, { events: [], error: "timeout" });
    return { events: events.length, acknowledged, closeCode: error?.code ?? null, reason: error?.reason ?? String(error) };
  } finally {
    await client.dispose();
  }
}

async function overEventStream(base, headers) {
  const client = createSseClient({ url: base + "/graphql", headers, singleConnection: false, retryAttempts: 0 });
  try {
    const { events, error } = await within(outcome(client, { query: ORDER_UPDATED }), TIMEOUT_MS, { events: [], error: "timeout" });
    // graphql-sse fails with the refused response attached.
    return { events: events.length, status: error?.response?.status ?? null, message: String(error?.message ?? error) };
  } finally {
    client.dispose();
  }
}

run(async () => {
  const base = input("MANIFOLD_BASE_URL");
  const transport = input("MANIFOLD_TRANSPORT");
  const checks = new Checks();
  if (transport === "websocket") {
    const bearer = await overWebSocket(base, { Authorization: "Bearer not-a-token" });
    const apiKey = await overWebSocket(base, { "X-API-Key": "mfk_unknown_0123456789abcdef0123456789abcdef" });
    checks.check("a refused bearer token closes the socket with 4403", bearer.closeCode === 4403, bearer);
    checks.check("a refused API key closes the socket with 4403", apiKey.closeCode === 4403, apiKey);
    checks.check("neither socket was acknowledged", !bearer.acknowledged && !apiKey.acknowledged, { bearer, apiKey });
    checks.check("no event arrived", bearer.events + apiKey.events === 0, { bearer, apiKey });
    return checks.report({ bearer, apiKey });
  }
  const stream = await overEventStream(base, { Authorization: "Bearer not-a-token" });
  checks.check("a refused bearer token over SSE is a 401", stream.status === 401, stream);
  checks.check("no event arrived", stream.events === 0, stream);
  return checks.report({ stream });
});
