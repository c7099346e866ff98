// Apollo Client with its persisted query link (automatic persisted queries over GET) against a
// live soilapi. Prints JSON: the answers, the error of a refused query, every request sent.
//
// usage: node apollo.mjs <graphql url> [unlisted]
//   unlisted: also ask a query that a server in trusted-documents mode does not list
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { recordingFetch, report, revalidateLast } from "./recording.mjs";

const [url, mode] = process.argv.slice(2);

const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new PersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: true,
  }).concat(new HttpLink({ uri: url, fetch: recordingFetch })),
});

const PARTNERSHIP = gql`
  query Partnership($slug: String!) {
    organization(slug: $slug) { name acronym }
  }
`;
const ask = { query: PARTNERSHIP, variables: { slug: "gsp" }, fetchPolicy: "network-only" };
const first = await client.query(ask);
const second = await client.query(ask);
const revalidated = await revalidateLast();

let refused = null;
if (mode === "unlisted") {
  try {
    await client.query({ query: gql`{ __typename }`, fetchPolicy: "network-only" });
  } catch (error) {
    refused = { name: error.name, errors: error.errors };
  }
}
report({ first: first.data, second: second.data, revalidated, refused });
