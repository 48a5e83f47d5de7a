// Manifold in a supergraph, with real tools from npm: its subgraph SDL (read from the running
// gateway's `_service { sdl }`, as a router's tooling reads it) composed with a second subgraph
// by @theguild/federation-composition, then queries through Hive Gateway's runtime that join
// the two both ways, with the caller's token forwarded to Manifold.
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";
import { composeServices } from "@theguild/federation-composition";
import { parse } from "graphql";
import { Checks, input, run } from "./harness.mjs";
import { REVIEWS, SDL as REVIEWS_SDL, serveReviews } from "./reviews-subgraph.mjs";

async function post(url, query, headers = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

run(async () => {
  const manifoldUrl = input("MANIFOLD_GRAPHQL_URL");
  const token = input("MANIFOLD_TOKEN");
  const names = JSON.parse(input("MANIFOLD_USER_NAMES")); // global id -> name
  const checks = new Checks();

  const service = await post(manifoldUrl, "{ _service { sdl } }");
  const manifoldSdl = service.data?._service?.sdl;
  if (!checks.check("Manifold serves its subgraph SDL", typeof manifoldSdl === "string", service)) {
    return checks.report();
  }

  const reviews = await serveReviews();
  try {
    const composed = composeServices([
      { name: "manifold", typeDefs: parse(manifoldSdl), url: manifoldUrl },
      { name: "reviews", typeDefs: parse(REVIEWS_SDL), url: reviews.url },
    ]);
    const errors = (composed.errors ?? []).map((error) => error.message);
    if (!checks.check("the two subgraphs compose", errors.length === 0, errors)) {
      return checks.report();
    }
    checks.check(
      "User is an entity of both subgraphs in the supergraph",
      /type User[^{]*@join__type\(graph: MANIFOLD[^)]*\)[^{]*@join__type\(graph: REVIEWS/.test(composed.supergraphSdl),
      composed.supergraphSdl.split("\n").filter((line) => line.startsWith("type User")),
    );

    const gateway = createGatewayRuntime({
      supergraph: composed.supergraphSdl,
      logging: false,
      maskedErrors: false,
      propagateHeaders: {
        fromClientToSubgraphs: ({ request, subgraphName }) =>
          subgraphName === "manifold" ? { authorization: request.headers.get("authorization") } : {},
      },
    });
    const ask = async (query) => {
      const response = await gateway.fetch("http://hive.gateway/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      return response.json();
    };
    try {
      // Reviews first, then Manifold's _entities for their authors and products.
      const latest = await ask("{ latestReviews { body author { id name } product { title } } }");
      const rows = latest.data?.latestReviews ?? [];
      checks.check("reviews join Manifold's users", rows.length === REVIEWS.length && rows.every((row) => row.author.name === names[row.author.id]), latest);
      checks.check("reviews join Manifold's content", rows.every((row) => typeof row.product?.title === "string"), latest);
      checks.check("no errors joining reviews to Manifold", !latest.errors, latest.errors);

      // Manifold first (with the caller's token), then the reviews subgraph's _entities.
      const me = await ask("{ me { id name reviews { stars } } }");
      const caller = me.data?.me;
      const mine = REVIEWS.filter((row) => row.author === caller?.id).map((row) => row.stars);
      checks.check(
        "Manifold's caller joins its reviews",
        Boolean(caller) && caller.name === names[caller.id] && mine.length > 0 &&
          JSON.stringify(caller.reviews.map((r) => r.stars)) === JSON.stringify(mine),
        me,
      );

      // Authorization stays Manifold's: without users:read an author's name is refused there.
      const anonymous = await gateway.fetch("http://hive.gateway/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ latestReviews { body author { name } } }" }),
      }).then((response) => response.json());
      const codes = (anonymous.errors ?? []).map((error) => error.extensions?.code);
      checks.check("an anonymous caller gets Manifold's refusal, not the names", !JSON.stringify(anonymous.data ?? {}).includes(Object.values(names)[0]) && codes.length > 0, anonymous);
      return checks.report({ supergraphTypes: composed.supergraphSdl.split("\n").filter((line) => line.startsWith("type ")).length });
    } finally {
      await gateway.dispose?.();
    }
  } finally {
    reviews.close();
  }
});
