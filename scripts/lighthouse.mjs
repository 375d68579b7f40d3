// Lighthouse on the public pages, at phone and desktop settings, with Debian's chromium.
//
//   node scripts/lighthouse.mjs BASE_URL [--slug SLUG] [--min 95] [--categories a,b]
//                                        [--json FILE] [--pages list,detail,fact-sheet,/path]
//
// Prints one line per page and setting with the four category scores (0-100). With --min,
// exits 1 when any printed score is below it. CHROME_PATH picks the browser
// (default /usr/bin/chromium); one browser serves every run.
import { writeFileSync } from "node:fs";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

function parseArgs(argv) {
  const args = { slug: "andes-amazon-corridor", min: null, categories: CATEGORIES, json: null };
  args.pages = ["list", "detail", "fact-sheet"];
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--slug") args.slug = value();
    else if (a === "--min") args.min = Number(value());
    else if (a === "--categories") args.categories = value().split(",");
    else if (a === "--json") args.json = value();
    else if (a === "--pages") args.pages = value().split(",");
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length !== 1) throw new Error("usage: lighthouse.mjs BASE_URL [options]");
  args.base = rest[0].replace(/\/+$/, "");
  for (const c of args.categories) {
    if (!CATEGORIES.includes(c)) throw new Error(`unknown category ${c}`);
  }
  for (const p of args.pages) pageUrl(args.base, args.slug, p);
  if (args.min !== null && !(args.min >= 0 && args.min <= 100)) {
    throw new Error("--min is a score from 0 to 100");
  }
  return args;
}

function pageUrl(base, slug, page) {
  const paths = {
    list: "/projects/",
    detail: `/projects/${slug}/`,
    "fact-sheet": `/projects/${slug}/fact-sheet/`,
  };
  if (page.startsWith("/")) return base + page; // any path of the site (the benchmark's baseline)
  if (!(page in paths)) throw new Error(`unknown page ${page} (list, detail, fact-sheet or a /path)`);
  return base + paths[page];
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(String(err.message || err));
    process.exit(2);
  }
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
    chromeFlags: FLAGS,
  });
  const results = [];
  let failed = false;
  try {
    for (const page of args.pages) {
      const url = pageUrl(args.base, args.slug, page);
      for (const setting of ["phone", "desktop"]) {
        const flags = { port: chrome.port, output: "json", logLevel: "error" };
        flags.onlyCategories = args.categories;
        const config = setting === "desktop" ? desktopConfig : undefined;
        // A busy machine sometimes loses the trace (NO_NAVSTART, NO_FCP): run that page again.
        let lhr;
        for (let attempt = 1; ; attempt++) {
          lhr = (await lighthouse(url, flags, config)).lhr;
          if (!lhr.runtimeError) break;
          if (attempt >= 3) throw new Error(`${url}: ${lhr.runtimeError.message}`);
          console.error(`${page} ${setting}: ${lhr.runtimeError.code}, running again`);
        }
        const scores = {};
        for (const c of args.categories) {
          const s = lhr.categories[c]?.score;
          scores[c] = s === null || s === undefined ? null : Math.round(s * 100);
        }
        const below = [];
        for (const c of args.categories) {
          if (args.min !== null && (scores[c] === null || scores[c] < args.min)) below.push(c);
          if (args.min !== null && scores[c] !== null && scores[c] < 100) {
            // Say which audits cost points, so a failure explains itself.
            const refs = lhr.categories[c].auditRefs.filter((r) => r.weight > 0);
            for (const r of refs) {
              const audit = lhr.audits[r.id];
              if (audit.score !== null && audit.score < 1) {
                below.push(`  ${c}: ${r.id} (${audit.title}) score ${audit.score}`);
              }
            }
          }
        }
        if (below.some((b) => !b.startsWith(" "))) failed = true;
        results.push({ page, setting, url, scores });
        const line = args.categories.map((c) => `${c} ${scores[c] ?? "n/a"}`).join("  ");
        console.log(`${page.padEnd(10)} ${setting.padEnd(7)} ${line}`);
        for (const b of below.filter((x) => x.startsWith(" "))) console.log(b);
      }
    }
  } finally {
    await chrome.kill();
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
  if (failed) {
    console.error(`Some scores are below ${args.min}.`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(2);
});
