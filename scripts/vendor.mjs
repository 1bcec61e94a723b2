// Copy the pinned front-end libraries from node_modules into static/vendor/.
// static/vendor/ is git-ignored: the repository holds only our own code.
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "static", "vendor");
const files = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["@picocss/pico/css/pico.min.css", "pico.min.css"],
];

mkdirSync(vendor, { recursive: true });
for (const [source, target] of files) {
  const from = join(root, "node_modules", source);
  if (!existsSync(from)) {
    console.error(`missing ${from}: run npm ci first`);
    process.exit(1);
  }
  copyFileSync(from, join(vendor, target));
  console.log(`vendored ${source} -> static/vendor/${target}`);
}
