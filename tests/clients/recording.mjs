// A fetch that notes each request and its answer's status and validator, for the tests to
// read which requests a client library sent; plus a JSON printer for the results.
export const requests = [];

export async function recordingFetch(input, init = {}) {
  const response = await fetch(input, init);
  requests.push({
    method: init.method ?? "GET",
    url: String(input),
    headers: Object.fromEntries(new Headers(init.headers).entries()),
    body: typeof init.body === "string" ? JSON.parse(init.body) : null,
    status: response.status,
    etag: response.headers.get("etag"),
  });
  return response;
}

// Send the last GET again as a browser revalidates it: the status says whether it was fresh.
export async function revalidateLast() {
  const last = requests.findLast((r) => r.method === "GET" && r.etag);
  const again = await fetch(last.url, { headers: { ...last.headers, "if-none-match": last.etag } });
  return again.status;
}

export function report(results) {
  process.stdout.write(JSON.stringify({ ...results, requests }));
}
