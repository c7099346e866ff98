// Unpack the Chromium that @sparticuz/chromium carries (brotli-compressed, with the NSS and
// expat libraries it links against) into TMPDIR, where that package puts it, and print the
// executable's path and the libraries' folder as JSON. tests/browser.py runs it once per
// install, under a lock.
import chromium, { inflate } from "@sparticuz/chromium";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = join(dirname(fileURLToPath(import.meta.resolve("@sparticuz/chromium"))), "..", "bin");
// Off Amazon Linux the package leaves its libraries packed: machines without NSS need them.
const libraries = join(await inflate(join(bin, "al2023.tar.br")), "lib");
const executable = await chromium.executablePath(bin);
process.stdout.write(JSON.stringify({ executable, libraries, tmp: tmpdir() }));
