// Runs the GraphQL-over-HTTP server audits of the npm package `graphql-http` against a live
// server and prints one JSON array of results on stdout.
//
// usage: node run_audit.mjs <graphql url> <folder whose node_modules holds graphql-http>
//
// The package lives outside the repository (tests/http/test_audit.py installs it into a cache
// folder), so it is imported by path rather than by name.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [url, prefix] = process.argv.slice(2);
if (!url || !prefix) {
  process.stderr.write("usage: node run_audit.mjs <graphql url> <node_modules parent folder>\n");
  process.exit(2);
}
const entry = join(prefix, "node_modules", "graphql-http", "lib", "index.mjs");
const { serverAudits } = await import(pathToFileURL(entry).href);

const results = [];
// One audit at a time: a failure's response is then easy to match to its request in logs.
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  const row = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    row.reason = result.reason;
    row.httpStatus = result.response?.status;
    row.contentType = result.response?.headers.get("content-type");
    // The audit may have read the body already; then there is nothing more to show.
    row.body = (await result.response?.text().catch(() => "")) ?? "";
    row.body = row.body.slice(0, 400);
  }
  results.push(row);
}
process.stdout.write(JSON.stringify(results));
