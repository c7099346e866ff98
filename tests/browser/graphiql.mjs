// GraphiQL's Explain panel (tests/test_browser.py): open GraphiQL, open the panel, run the
// first example tab, and report what the panel shows, the explain report the server sent
// (the answers GraphiQL received that carry one), and everything the browser logged (a
// Content-Security-Policy violation is logged as an error).
export default async function (browser, [url]) {
  const page = await browser.newPage();
  const logged = [];
  const reports = [];
  page.on("console", (message) => logged.push({ type: message.type(), text: message.text() }));
  page.on("pageerror", (error) => logged.push({ type: "pageerror", text: String(error) }));
  page.on("response", async (response) => {
    if (response.request().method() !== "POST") return;
    const report = (await response.json()).extensions?.explain;
    if (report) reports.push(report);
  });
  await page.goto(url);
  const show = await page.waitForSelector('button[aria-label="Show Explain"]', { timeout: 30_000 });
  await show.click();
  const before = await page.$eval(".soilapi-explain", (panel) => panel.innerText);
  await page.click(".graphiql-execute-button");
  await page.waitForSelector(".soilapi-explain-summary", { timeout: 15_000 });
  await page.waitForFunction(
    () => document.querySelector(".result-window")?.innerText.includes("Global Soil Partnership"),
    { timeout: 15_000 },
  );
  const shown = await page.$$eval(".soilapi-explain-statement", (statements) =>
    statements.map((statement) => ({
      sql: statement.querySelector(".soilapi-explain-sql").textContent,
      values: statement.querySelector(".soilapi-explain-values")?.textContent ?? null,
      plan: statement.querySelector(".soilapi-explain-plan").textContent,
    })),
  );
  const summary = await page.$eval(".soilapi-explain-summary", (element) => element.textContent);
  // The response's body reaches this script on its own time: give it a few seconds at most.
  for (let waited = 0; reports.length === 0 && waited < 5_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { before, summary, statements: shown, reports, logged };
}
