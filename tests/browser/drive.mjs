// Open pages in headless Chromium and report what each showed: `node drive.mjs CHROMIUM
// SCRIPT.mjs ARGS...` launches the browser, imports SCRIPT.mjs and calls its default export
// with (browser, ARGS), then prints its result as JSON. The flags are our own, not
// @sparticuz/chromium's serverless set, which turns off web security (CORS) for Lambda.
import puppeteer from "puppeteer-core";
import { pathToFileURL } from "node:url";

const [executablePath, script, ...args] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath,
  headless: "shell",
  args: [
    "--no-sandbox", // the tests may run as root, where Chromium's sandbox refuses to start
    "--no-zygote",
    "--disable-gpu",
    "--no-first-run",
    // Nothing but the pages asked for: no update checks, sync or telemetry on a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
  ],
  timeout: 30_000,
});
try {
  const run = (await import(pathToFileURL(script).href)).default;
  process.stdout.write(JSON.stringify(await run(browser, args)));
} finally {
  await browser.close();
}
