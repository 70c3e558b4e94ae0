// Drive saxi's own web page in headless Chromium the way a person does: drag an SVG onto the
// page, choose the paper, type the settings into saxi's inputs, pick layers; then read back what
// saxi shows and the motion plan its planner made.
//
//   node drive.mjs job.json > result.json
//
// job.json: {"chromium": path, "runs": [{"file": svg path, "settings": {...}, "layers": [ids] | null,
//            "screenshot": png path | null}], "fresh": true}
// Settings are keyed by the words on saxi's page ("fit page", "down max vel.", ...) plus "paper"
// (a name in saxi's paper list, or "Custom" with "width (mm)" and "height (mm)") and "landscape".
// Every run starts from a fresh browser profile (saxi's defaults) unless "fresh" is false.
//
// Out: one JSON object per run: what saxi's page shows (paper, margin, options, layer list, the
// duration it prints) and the plan saxi's planner posted back to the page: its duration and every
// pen-down path in mm on saxi's paper (saxi's planning unit is 1/5 mm).
//
// saxi is started from this folder's node_modules (npm ci) on a free port; it needs no plotter.
// Its server loads the serial port's native module at start; where that was not built (npm ci
// --ignore-scripts), the same page (saxi's dist/ui) is served as static files instead: it plans
// the same, and shows "disconnected" with no server to talk to. "server" in the output says which.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const STEPS_PER_MM = 5; // saxi's Device.Axidraw.stepsPerMm

// Every input saxi's page has, by the words of its label (or the label's title for the icons).
const NUMBER_INPUTS = [
  "up height (%)", "down height (%)", "width (mm)", "height (mm)", "rotate drawing (degrees)", "margin (mm)",
  "point-joining radius (mm)", "path-joining radius (mm)", "minimum path length", "down acc. (mm/s2)",
  "down max vel. (mm/s)", "cornering factor", "up acc. (mm/s2)", "up max vel. (mm/s)", "pen lift duration (s)",
  "pen drop duration (s)",
];
const CHECKBOXES = ["sort paths", "fit page", "crop to margins", "layer by group"];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startSaxi() {
  const port = await freePort();
  const cli = join(HERE, "node_modules", "saxi", "cli.js");
  const child = spawn(process.execPath, [cli, "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`saxi did not start in 30 s: ${log}`)), 30000);
    const onData = (chunk) => {
      log += chunk;
      if (log.includes("Server listening")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`saxi exited with ${code}: ${log}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/`, server: "saxi", stop: () => child.kill() };
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".svg": "image/svg+xml", ".map": "application/json" };

async function serveSaxiPage() {
  const root = join(HERE, "node_modules", "saxi", "dist", "ui");
  const server = createHttpServer((request, response) => {
    const name = new URL(request.url, "http://localhost").pathname.replace(/^\/+/, "") || "index.html";
    try {
      if (name.includes("..")) throw new Error("outside");
      const body = readFileSync(join(root, name));
      response.writeHead(200, { "Content-Type": TYPES[name.slice(name.lastIndexOf("."))] || "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}/`, server: "static", stop: () => server.close() };
}

// Runs in the page before saxi's scripts: record every plan saxi's planning worker posts back.
function hookWorkers() {
  const Native = window.Worker;
  window.__saxi = { started: 0, answered: 0, plan: null, error: null };
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      const id = ++window.__saxi.started;
      this.addEventListener("message", (event) => {
        window.__saxi.answered = Math.max(window.__saxi.answered, id);
        window.__saxi.plan = event.data;
        window.__saxi.error = null;
      });
      this.addEventListener("error", (event) => {
        window.__saxi.answered = Math.max(window.__saxi.answered, id);
        window.__saxi.error = event.message || "the planning worker failed";
      });
    }
  };
}

// Runs in the page: tag every labelled input with data-drive="<label words>".
function tagInputs() {
  for (const label of document.querySelectorAll("label")) {
    const input = label.querySelector("input, select");
    if (!input) continue;
    const words = (label.textContent || "").replace(/\s+/g, " ").trim();
    input.setAttribute("data-drive", words || label.title);
  }
}

async function settle(page) {
  // saxi replans in a web worker after every change and shows "Replanning..." meanwhile; wait
  // until the page has shown no loader for half a second and a plan has come back. (A change
  // back to the last plan's settings reuses that plan without a worker, so a worker that was
  // stopped half-way is not waited for.)
  let quiet = 0;
  for (let i = 0; i < 1200; i++) {
    const { done, error } = await page.evaluate(() => ({
      done: !document.querySelector(".preview-loader, .replan-button") && window.__saxi.answered > 0,
      error: window.__saxi.answered === window.__saxi.started ? window.__saxi.error : null,
    }));
    if (error) throw new Error(`saxi's planner failed (the page keeps showing "Replanning..."): ${error}`);
    quiet = done ? quiet + 1 : 0;
    if (quiet >= 5) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("saxi did not finish planning in 120 s");
}

async function drop(page, path) {
  const text = readFileSync(path, "utf8");
  const name = path.split("/").pop();
  await page.evaluate((svg, fileName) => {
    const data = new DataTransfer();
    data.items.add(new File([svg], fileName, { type: "image/svg+xml" }));
    for (const type of ["dragover", "drop"]) {
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    }
  }, text, name);
}

async function typeNumber(page, key, value) {
  const selector = `input[data-drive="${key}"]`;
  const input = await page.$(selector);
  if (!input) throw new Error(`saxi's page has no input labelled ${JSON.stringify(key)}`);
  await input.click();
  await page.evaluate((sel) => document.querySelector(sel).select(), selector);
  await page.keyboard.type(String(value)); // replaces the selected old value
  await page.evaluate((sel) => document.querySelector(sel).blur(), selector);
  const shown = await page.$eval(selector, (el) => el.value);
  if (shown !== String(value)) throw new Error(`typed ${value} into ${key}, saxi shows ${shown}`);
}

async function setCheckbox(page, key, on) {
  const selector = `input[data-drive="${key}"]`;
  if (!(await page.$(selector))) throw new Error(`saxi's page has no checkbox ${JSON.stringify(key)}`);
  // a click on the box, as the mouse gives it (saxi's styled boxes are not hit-testable by position)
  await page.$eval(selector, (el, want) => { if (el.checked !== want) el.click(); }, on);
  if ((await page.$eval(selector, (el) => el.checked)) !== on) throw new Error(`could not set ${key} to ${on}`);
}

async function apply(page, settings) {
  await page.evaluate(() => {
    const more = document.querySelector("details");
    if (more && !more.open) more.querySelector("summary").click();
  });
  await page.evaluate(tagInputs);
  if (settings.paper !== undefined) {
    await page.select("select:not(.layer-select)", settings.paper);
  }
  if (settings.landscape !== undefined) {
    const [w, h] = await page.evaluate(() => [
      Number(document.querySelector('input[data-drive="width (mm)"]').value),
      Number(document.querySelector('input[data-drive="height (mm)"]').value),
    ]);
    if ((w >= h) !== settings.landscape) await page.click(".paper-sizes__swap");
  }
  for (const [key, value] of Object.entries(settings)) {
    if (key === "paper" || key === "landscape") continue;
    await page.evaluate(tagInputs); // "crop to margins" comes and goes with "fit page"
    if (CHECKBOXES.includes(key)) await setCheckbox(page, key, Boolean(value));
    else if (NUMBER_INPUTS.includes(key)) await typeNumber(page, key, value);
    else throw new Error(`no saxi setting ${JSON.stringify(key)}`);
  }
}

async function shown(page) {
  await page.evaluate(tagInputs);
  return page.evaluate((numbers, boxes) => {
    const value = (k) => {
      const el = document.querySelector(`input[data-drive="${k}"]`);
      return el ? (el.type === "checkbox" ? el.checked : Number(el.value)) : null;
    };
    const out = { paper: document.querySelector("select:not(.layer-select)").value };
    for (const k of [...numbers, ...boxes]) out[k] = value(k);
    const layers = document.querySelector("select.layer-select");
    out.layer_list = layers ? [...layers.options].map((o) => o.value) : [];
    out.layers_selected = layers ? [...layers.selectedOptions].map((o) => o.value) : [];
    out.duration_text = document.querySelector(".duration strong").textContent;
    return out;
  }, NUMBER_INPUTS, CHECKBOXES);
}

// saxi's formatDuration: whole hours, minutes and seconds, leading zero units left out.
function formatDuration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds - h * 3600) / 60);
  const s = Math.floor(seconds - h * 3600 - m * 60);
  const parts = [[h, "h"], [m, "m"], [s, "s"]];
  return parts.slice(parts.findIndex((x) => x[0] !== 0)).map(([v, u]) => `${v}${u}`).join("");
}

// The plan as saxi serialises it: alternating pen-up moves, pen drops, pen-down moves and lifts,
// then the move home and a last pen move. A move's blocks run from p1 to p2 (saxi steps).
function readPlan(plan) {
  let penDown = false;
  let duration = 0;
  const paths = [];
  let penUpMm = 0;
  for (const motion of plan.motions) {
    if (motion.t === "PenMotion") {
      duration += motion.duration;
      penDown = !penDown;
      continue;
    }
    let length = 0;
    const points = [];
    for (const block of motion.blocks) {
      duration += block.duration;
      length += Math.hypot(block.p2.x - block.p1.x, block.p2.y - block.p1.y) / STEPS_PER_MM;
      if (points.length === 0) points.push([block.p1.x / STEPS_PER_MM, block.p1.y / STEPS_PER_MM]);
      points.push([block.p2.x / STEPS_PER_MM, block.p2.y / STEPS_PER_MM]);
    }
    if (penDown) paths.push({ length_mm: length, points });
    else penUpMm += length;
  }
  return {
    duration_s: duration,
    pendown_mm: paths.reduce((a, p) => a + p.length_mm, 0),
    penup_mm: penUpMm,
    lifts: paths.length,
    paths: paths.map((p) => p.points),
  };
}

async function main() {
  const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
  let saxi;
  try {
    saxi = await startSaxi();
  } catch (error) {
    process.stderr.write(`saxi's server did not start, serving its page as files: ${String(error).split("\n")[0]}\n`);
    saxi = await serveSaxiPage();
  }
  const browser = await puppeteer.launch({
    executablePath: job.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const results = [];
  try {
    let context = null;
    let page = null;
    for (const run of job.runs) {
      if (page === null || job.fresh !== false) {
        if (context) await context.close();
        context = await browser.createBrowserContext(); // a fresh profile: saxi's default settings
        page = await context.newPage();
        await page.setViewport({ width: 1280, height: 1360 }); // saxi's whole control panel in view
        await page.evaluateOnNewDocument(hookWorkers);
        await page.goto(saxi.url, { waitUntil: "load" });
        await page.waitForSelector(".drag-target");
      }
      await drop(page, run.file);
      await settle(page);
      await apply(page, run.settings || {});
      await settle(page);
      if (run.layers) {
        const ids = await page.$$eval("select.layer-select option", (os) => os.map((o) => o.value));
        for (const id of run.layers) if (!ids.includes(id)) throw new Error(`saxi lists no layer ${id}: ${ids}`);
        await page.select("select.layer-select", ...run.layers);
        await settle(page);
      }
      const page_state = await shown(page);
      const plan = readPlan(await page.evaluate(() => window.__saxi.plan));
      if (formatDuration(plan.duration_s) !== page_state.duration_text) {
        throw new Error(`the plan read back lasts ${plan.duration_s} s but saxi shows ${page_state.duration_text}`);
      }
      if (run.screenshot) await page.screenshot({ path: run.screenshot });
      results.push({ file: run.file, server: saxi.server, shown: page_state, plan });
    }
  } finally {
    await browser.close();
    saxi.stop();
  }
  process.stdout.write(JSON.stringify(results) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
