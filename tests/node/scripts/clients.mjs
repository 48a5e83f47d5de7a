// GraphQL clients as applications use them, unmodified, in their GET modes: urql with its
// persisted-queries exchange (hash-only GETs, then the query once on a miss) and
// graphql-request with `method: "GET"`. Every request they send is recorded, so the test can
// see they went out as cookieless GETs with no CSRF preflight header, and were served.
import { Client, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { GraphQLClient } from "graphql-request";
import { Checks, input, run } from "./harness.mjs";

const QUERY = "query Me { me { name orders(first: 2) { edges { node { number } } } } }";

function recordingFetch(sent) {
  return async (resource, init = {}) => {
    const headers = new Headers(init.headers ?? (resource instanceof Request ? resource.headers : {}));
    const url = new URL(resource instanceof Request ? resource.url : String(resource));
    const response = await fetch(resource, init);
    sent.push({
      method: init.method ?? (resource instanceof Request ? resource.method : "GET"),
      query: url.searchParams.has("query"),
      hashOnly: url.searchParams.has("extensions") && !url.searchParams.has("query"),
      preflightHeader:
        headers.has("apollo-require-preflight") || headers.has("x-apollo-operation-name"),
      status: response.status,
    });
    return response;
  };
}

async function urql(url, token, expectedName, checks) {
  const sent = [];
  const client = new Client({
    url,
    exchanges: [persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
    fetch: recordingFetch(sent),
    fetchOptions: { headers: { authorization: `Bearer ${token}` } },
    requestPolicy: "network-only",
  });
  const first = await client.query(QUERY, {}).toPromise();
  const second = await client.query(QUERY, {}).toPromise();
  checks.check("urql: first query answered", first.data?.me?.name === expectedName, first.error?.message ?? first.data);
  checks.check("urql: second query answered", second.data?.me?.name === expectedName, second.error?.message ?? second.data);
  checks.check("urql: every request was a GET", sent.every((r) => r.method === "GET"), sent);
  checks.check("urql: no CSRF preflight header was needed", sent.every((r) => !r.preflightHeader), sent);
  // A miss (hash only), the query registered with its hash, then a hit from the hash alone.
  checks.check(
    "urql: the repeat was served from the hash alone",
    sent.length === 3 && sent[0].hashOnly && sent[1].query && sent[2].hashOnly && sent[2].status === 200,
    sent,
  );
  return sent;
}

async function graphqlRequest(url, token, expectedName, checks) {
  const sent = [];
  const client = new GraphQLClient(url, {
    method: "GET",
    headers: { authorization: `Bearer ${token}` },
    fetch: recordingFetch(sent),
  });
  let data;
  try {
    data = await client.request(QUERY);
  } catch (error) {
    checks.check("graphql-request: GET query answered", false, String(error));
    return sent;
  }
  checks.check("graphql-request: GET query answered", data?.me?.name === expectedName, data);
  checks.check(
    "graphql-request: sent one GET without a preflight header",
    sent.length === 1 && sent[0].method === "GET" && !sent[0].preflightHeader && sent[0].status === 200,
    sent,
  );
  return sent;
}

run(async () => {
  const url = input("MANIFOLD_GRAPHQL_URL");
  const token = input("MANIFOLD_TOKEN");
  const expectedName = input("MANIFOLD_EXPECTED_NAME");
  const checks = new Checks();
  const urqlRequests = await urql(url, token, expectedName, checks);
  const graphqlRequestRequests = await graphqlRequest(url, token, expectedName, checks);
  return checks.report({ requests: { urql: urqlRequests, graphqlRequest: graphqlRequestRequests } });
});
