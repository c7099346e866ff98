// The CORS test's browser side (tests/test_browser.py): open each page URL, wait until its
// script has called the API, and report what the page showed and what the browser logged.
export default async function (browser, pages) {
  const seen = [];
  for (const url of pages) {
    const page = await browser.newPage();
    const logged = [];
    page.on("console", (message) => logged.push({ type: message.type(), text: message.text() }));
    await page.goto(url);
    await page.waitForSelector("#result[data-done]", { timeout: 15_000 });
    const shown = await page.$eval("#result", (element) => JSON.parse(element.textContent));
    seen.push({ url, shown, logged });
    await page.close();
  }
  return seen;
}
