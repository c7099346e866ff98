// urql with its persisted exchange (automatic persisted queries, GET while the URL is short)
// against a live soilapi. Prints JSON: the answers and every request sent.
//
// usage: node urql.mjs <graphql url>
import { Client, fetchExchange, gql } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { recordingFetch, report, revalidateLast } from "./recording.mjs";

const [url] = process.argv.slice(2);

const client = new Client({
  url,
  fetch: recordingFetch,
  requestPolicy: "network-only",
  exchanges: [persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
});

const MEMBER = gql`
  query Member($slug: String!) {
    organization(slug: $slug) { name acronym }
  }
`;
const first = await client.query(MEMBER, { slug: "esp" }).toPromise();
const second = await client.query(MEMBER, { slug: "esp" }).toPromise();
const revalidated = await revalidateLast();
report({
  first: first.data ?? first.error?.message,
  second: second.data ?? second.error?.message,
  revalidated,
});
