// Chromium for the web viewer's browser tests (Debian's package, driven by playwright-core): where it
// is, a page that records script errors, and what each slice tile of the grid shows.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const REQUIRED = process.env["COINSEG_REQUIRE_BROWSER"] === "1";

/** The `skip` of a browser suite: why it cannot run (no Chromium), or false; never skipped when COINSEG_REQUIRE_BROWSER=1. */
export const browserSkip: string | false = !existsSync(CHROMIUM) && !REQUIRED ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)` : false;

/** Launches Chromium and opens a page; its uncaught errors and console errors are pushed onto `pageErrors`. */
export async function launchViewerPage(pageErrors: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => void (m.type() === "error" && pageErrors.push(m.text())));
  return { browser, page };
}

/** Per tile: its slice index, state, the mask area it states (−1: none), canvas width, and how many canvas pixels carry the mask's cyan tint. */
export const viewerTiles = (page: Page) =>
  page.$$eval("#slices figure", (figures) =>
    figures.map((f) => {
      const canvas = f.querySelector("canvas")!;
      const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let tinted = 0;
      for (let p = 0; p < data.length; p += 4) if (data[p + 2]! - data[p]! > 60) tinted++; // grey has r = g = b
      return { sliceIndex: Number(f.dataset["sliceIndex"]), state: f.dataset["state"], area: Number(f.dataset["maskArea"] || -1), tinted, width: canvas.width };
    }),
  );
