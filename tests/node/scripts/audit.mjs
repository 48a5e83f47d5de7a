// The GraphQL-over-HTTP spec's own compliance suite (graphql-http's serverAudits) against a
// running gateway: every audit's result, and the counts per requirement level.
import { serverAudits } from "graphql-http";
import { input, run } from "./harness.mjs";

run(async () => {
  const url = input("MANIFOLD_GRAPHQL_URL");
  const results = [];
  for (const audit of serverAudits({ url })) {
    results.push(await audit.fn());
  }
  const counts = {};
  for (const level of ["MUST", "SHOULD", "MAY"]) {
    const ofLevel = results.filter((result) => result.name.startsWith(level));
    counts[level] = {
      total: ofLevel.length,
      passed: ofLevel.filter((result) => result.status === "ok").length,
    };
  }
  const failures = results
    .filter((result) => result.status !== "ok" && !result.name.startsWith("MAY"))
    .map((result) => ({ id: result.id, name: result.name, reason: result.reason }));
  return { ok: failures.length === 0, counts, failures };
});
