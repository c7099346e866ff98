// A typed soilapi client in plain TypeScript: `graphql()` returns a document whose result
// and variables types graphql-codegen generated from the schema (src/gql/, `npm run codegen`).
//
// usage: node dist/main.js [GRAPHQL_URL]
import { graphql } from "./gql/index.js";
import type { TypedDocumentString } from "./gql/graphql.js";

const url = process.argv[2] ?? "http://127.0.0.1:8000/graphql";

type Answer<Result> = {
  data?: Result | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

// Ask by the document's id (its SHA-256, which codegen wrote beside it and into
// src/gql/persisted-documents.json) in a short GET that HTTP caches keep and revalidate. A
// server locked to this app's documents (TRUSTED_DOCUMENTS) runs them by id alone; any other
// does not know the id (PERSISTED_QUERY_NOT_FOUND) and is sent the document itself.
async function execute<Result, Variables>(
  document: TypedDocumentString<Result, Variables>,
  variables: Variables,
): Promise<Result> {
  const headers = { accept: "application/graphql-response+json" };
  const asked = new URLSearchParams({
    documentId: String(document.__meta__?.["hash"]),
    variables: JSON.stringify(variables),
  });
  let answer = (await (await fetch(`${url}?${asked}`, { headers })).json()) as Answer<Result>;
  if (answer.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_NOT_FOUND") {
    const sent = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ query: document, variables }),
    });
    answer = (await sent.json()) as Answer<Result>;
  }
  if (answer.errors?.length || !answer.data) {
    const errors = answer.errors ?? [];
    throw new Error(errors.map((e) => `${e.extensions?.code}: ${e.message}`).join("\n"));
  }
  return answer.data;
}

const Subregions = graphql(`
  query Subregions($slug: String!) {
    organization(slug: $slug) {
      name
      descendants(first: 10) {
        nodes {
          depth
          organization { name acronym start { iso } }
        }
      }
    }
  }
`);

const { organization } = await execute(Subregions, { slug: "esp" });
if (organization === null) {
  throw new Error("no organization has that slug"); // the type says it may be null: check
}
console.log(organization.name);
for (const { depth, organization: member } of organization.descendants.nodes) {
  const since = member.start?.iso ?? "date unknown";
  console.log(`${"  ".repeat(depth)}${member.name} (${member.acronym ?? "no acronym"}), ${since}`);
}
