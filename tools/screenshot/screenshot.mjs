// Screenshot of a scheduler.decision trace in the Aspire dashboard, for the docs.
//
// Usage (from tools/screenshot/, after `npm install`):
//   node screenshot.mjs [--trace TRACE_ID] [--span "scheduler.decision relocate"]
//                       [--out ../../docs/images/relocation-trace.png]
//                       [--dashboard http://127.0.0.1:18888] [--width 1600] [--height 1000]
//                       [--split 0.58] [--nameWiden 90] [--settleMs 3000]
//
// Without --trace, the script asks the dashboard's telemetry API
// (GET {dashboard}/api/telemetry/traces) for the newest trace that holds a span named --span.
// Chromium comes from $CHROMIUM, else from `command -v chromium` (Debian package `chromium`).

import { chromium } from 'playwright-core';
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = {
    dashboard: 'http://127.0.0.1:18888',
    span: 'scheduler.decision relocate',
    trace: null,
    out: resolve(here, '../../docs/images/relocation-trace.png'),
    width: 1600,
    height: 1000,
    settleMs: 3000,
    nameWiden: 90, // px added to the span tree's Name column; 0 keeps the default
    split: 0.58, // fraction of the width for the span tree; 0 keeps the dashboard default
  };
  for (let i = 2; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[++i];
    if (!(key in opts) || value === undefined) {
      console.error(`unknown or incomplete option: ${argv[i - 1]}`);
      process.exit(2);
    }
    opts[key] = ['width', 'height', 'settleMs', 'split', 'nameWiden'].includes(key) ? Number(value) : value;
  }
  opts.out = resolve(opts.out);
  return opts;
}

// Newest trace id that contains a span with exactly this name.
async function findTrace(dashboard, spanName) {
  // Without a limit the API returns only the newest traces; ask for more so older ones are found.
  const res = await fetch(`${dashboard}/api/telemetry/traces?limit=10000`);
  if (!res.ok) throw new Error(`GET /api/telemetry/traces: HTTP ${res.status}`);
  const body = await res.json();
  let best = null;
  for (const rs of body?.data?.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        if (span.name !== spanName) continue;
        const start = BigInt(span.startTimeUnixNano ?? 0);
        if (!best || start > best.start) best = { traceId: span.traceId, start };
      }
    }
  }
  return best?.traceId ?? null;
}

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  try {
    return execSync('command -v chromium', { shell: '/bin/sh' }).toString().trim();
  } catch {
    throw new Error('chromium not found: apt-get install -y chromium, or set CHROMIUM=/path/to/chrome');
  }
}

async function main() {
  const opts = parseArgs(process.argv);
  const traceId = opts.trace ?? (await findTrace(opts.dashboard, opts.span));
  if (!traceId) {
    console.error(`no trace with a span named "${opts.span}" in ${opts.dashboard} yet`);
    process.exit(1);
  }
  console.log(`trace ${traceId}`);

  const userDataDir = mkdtempSync(join(tmpdir(), 'screenshot-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: { width: opts.width, height: opts.height },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const url = `${opts.dashboard}/traces/detail/${traceId}`;
    await page.goto(url, { waitUntil: 'networkidle', timeout: 60_000 });
    // The dashboard is a Blazor Server app: the page is rendered over a websocket after load.
    const row = page.getByText(opts.span, { exact: false }).first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    await page.waitForTimeout(opts.settleMs);

    // Dismiss the "Endpoint is unsecured" banner (the dashboard runs with anonymous access).
    const dismiss = page.locator('.dashboard-message-bar-dismiss');
    if (await dismiss.count()) {
      await dismiss.first().click();
      await page.waitForTimeout(500);
    }

    // Open the span's details panel (attributes and events).
    await row.click();
    await page.waitForTimeout(opts.settleMs);

    // Give the span tree more room: drag the splitter between the tree and the details panel.
    const bar = page.locator('.fluent-multi-splitter-bar').first();
    const box = await bar.boundingBox();
    if (box && opts.split > 0) {
      const y = box.y + box.height / 2;
      await page.mouse.move(box.x + box.width / 2, y);
      await page.mouse.down();
      await page.mouse.move(opts.width * opts.split, y, { steps: 10 });
      await page.mouse.up();
      await page.waitForTimeout(1000);
    }

    // Widen the Name column (drag its resize handle) so span names are not cut off.
    const handle = page.locator('thead th[col-index="1"] [resize-handle]').first();
    const hbox = (await handle.count()) ? await handle.boundingBox() : null;
    if (hbox && opts.nameWiden > 0) {
      const x = hbox.x + hbox.width / 2;
      const y = hbox.y + hbox.height / 2;
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x + opts.nameWiden, y, { steps: 10 });
      await page.mouse.up();
      await page.waitForTimeout(1000);
    }

    // Park the mouse so no hover tooltip shows up in the picture.
    await page.mouse.move(opts.width - 5, opts.height - 5);
    await page.waitForTimeout(1000);

    mkdirSync(dirname(opts.out), { recursive: true });
    await page.screenshot({ path: opts.out, type: 'png' });
    console.log(`wrote ${opts.out} (${statSync(opts.out).size} bytes)`);
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
