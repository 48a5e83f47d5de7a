// A tiny second subgraph, "reviews", written the way any team's would be: it owns Review and
// adds User.reviews, keyed by Manifold's global ids. Hand-written on graphql-js (plus
// graphql-http for the server) so it has no dependency of its own to drift.
import { createServer } from "node:http";
import { buildSchema } from "graphql";
import { createHandler } from "graphql-http/lib/use/http";

const userId = (pk) => Buffer.from(`User:${pk}`).toString("base64");
const contentId = (pk) => Buffer.from(`Content:${pk}`).toString("base64");

export const REVIEWS = [
  { id: "r1", body: "Clear and short.", stars: 5, author: userId(1), product: contentId(1) },
  { id: "r2", body: "Too long.", stars: 2, author: userId(2), product: contentId(2) },
  { id: "r3", body: "Bought it twice.", stars: 4, author: userId(1), product: contentId(3) },
];

// What composition reads: the subgraph's own types and its part of Manifold's entities.
export const SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Review {
  id: ID!
  body: String!
  stars: Int!
  author: User!
  product: Content
}

type User @key(fields: "id") {
  id: ID!
  reviews: [Review!]!
}

type Content @key(fields: "id", resolvable: false) {
  id: ID!
}

type Query {
  latestReviews: [Review!]!
}
`;

// What it executes: the same types plus the subgraph plumbing a router calls.
const schema = buildSchema(`
scalar _Any
union _Entity = User
type _Service { sdl: String! }
type Review { id: ID! body: String! stars: Int! author: User! product: Content }
type User { id: ID! reviews: [Review!]! }
type Content { id: ID! }
type Query {
  latestReviews: [Review!]!
  _entities(representations: [_Any!]!): [_Entity]!
  _service: _Service!
}
`);

const review = (row) => ({
  ...row,
  author: { __typename: "User", id: row.author },
  product: { __typename: "Content", id: row.product },
});

const rootValue = {
  latestReviews: () => REVIEWS.map(review),
  _entities: ({ representations }) =>
    representations.map((representation) =>
      representation.__typename === "User"
        ? {
            __typename: "User",
            id: representation.id,
            reviews: REVIEWS.filter((row) => row.author === representation.id).map(review),
          }
        : null,
    ),
  _service: () => ({ sdl: SDL }),
};

/** Serves the subgraph on a free loopback port; resolves with its URL and a way to stop it. */
export function serveReviews() {
  const server = createServer(createHandler({ schema, rootValue }));
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/graphql`, close: () => server.close() });
    });
  });
}
