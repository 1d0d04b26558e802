import Foundation

/// `GET /`: the operator's page. One self-contained HTML file (inline CSS and JS, no fonts, no CDN: it works on a
/// line with no internet) that lists the models (`/v1/models`), sends each chosen or dropped image to
/// `/v1/models/NAME/inspect?map=png`, and shows the overlay, colour bar, score, threshold and pass/fail of the last
/// results; the threshold slider recolours pass/fail in the page without asking the server again.
enum OperatorPage {
    /// Nothing but this origin, inline script/style and data: images (the overlays).
    static let contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'"

    /// Results kept on the page.
    static let keptResults = 20

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ClipAD inspection</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 18px; display: flex; gap: 18px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 17px; margin: 0 12px 0 0; }
  label { display: inline-flex; gap: 6px; align-items: center; }
  select, input, button { font: inherit; }
  main { padding: 16px 18px; }
  #drop { border: 2px dashed #8a94a6; border-radius: 8px; padding: 18px; text-align: center; background: #fff; margin-bottom: 14px; }
  #drop.over { border-color: #2f6fed; background: #eef3ff; }
  #status { min-height: 1.4em; color: #5a6478; margin: 6px 0 12px; }
  #status.error { color: #b3261e; }
  #results { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 12px; }
  .result { background: #fff; border-radius: 8px; padding: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  .result .images { display: flex; gap: 6px; align-items: flex-start; }
  .result img.overlay { width: 200px; height: 200px; image-rendering: pixelated; border-radius: 4px; }
  .result img.colorbar { height: 200px; }
  .result .name { font-weight: 600; word-break: break-all; margin-bottom: 6px; }
  .verdict { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 700; color: #fff; }
  .verdict.pass { background: #1e8e3e; } .verdict.fail { background: #c5221f; } .verdict.none { background: #8a94a6; }
  #thresholdValue { min-width: 5em; display: inline-block; }
</style>
</head>
<body>
<header>
  <h1>ClipAD inspection</h1>
  <label>Product <select id="model"></select></label>
  <label>Colour scale <select id="colorScale"><option value="fixed">fixed</option><option value="per-image">per-image</option></select></label>
  <label>Threshold <input id="threshold" type="range" min="0" max="1" step="0.0001" value="0"> <span id="thresholdValue">none</span></label>
  <label>API key <input id="apiKey" type="password" size="12" autocomplete="off" placeholder="if required"></label>
</header>
<main>
  <form id="upload">
    <div id="drop">Drop PNG/JPEG images here, or
      <input id="files" name="files" type="file" accept="image/png,image/jpeg" multiple>
      <button id="submit" type="submit">Inspect</button>
    </div>
  </form>
  <div id="status"></div>
  <div id="results"></div>
</main>
<script>
"use strict";
const KEEP = __KEEP__;
const $ = (id) => document.getElementById(id);
const models = new Map();      // name -> model info from /v1/models
let threshold = null;          // the slider's value (null: the model has none and the slider was not moved)

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = $("apiKey").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

async function loadModels() {
  const r = await fetch("/v1/models", { headers: headers() });
  const body = await r.json();
  if (!r.ok) { setStatus("models: " + (body.error || r.status), true); return; }
  const select = $("model");
  select.textContent = "";
  models.clear();
  for (const m of body.models) {
    models.set(m.name, m);
    const option = document.createElement("option");
    option.value = m.name;
    option.textContent = m.name + (m.ready ? "" : " (not ready)");
    option.disabled = !m.ready;
    select.appendChild(option);
  }
  const firstReady = body.models.find((m) => m.ready);
  if (firstReady) select.value = firstReady.name;
  modelChanged();
  setStatus(body.models.length ? "" : "the model repository is empty", !body.models.length);
}

function modelChanged() {
  const m = models.get($("model").value);
  threshold = m && m.thresholds ? m.thresholds.image : null;
  updateSliderRange();
  recolour();
}

function updateSliderRange() {
  const slider = $("threshold");
  let hi = 1;
  for (const card of document.querySelectorAll(".result")) hi = Math.max(hi, 1.25 * Number(card.dataset.score));
  if (threshold !== null) hi = Math.max(hi, 2 * threshold);
  slider.max = String(hi);
  slider.step = String(hi / 2000);
  slider.value = String(threshold === null ? 0 : threshold);
  $("thresholdValue").textContent = threshold === null ? "none" : threshold.toFixed(4);
}

function recolour() {
  for (const card of document.querySelectorAll(".result")) {
    const verdict = card.querySelector(".verdict");
    const t = card.dataset.model === $("model").value ? threshold : (card.dataset.threshold === "" ? null : Number(card.dataset.threshold));
    const score = Number(card.dataset.score);
    if (t === null) { verdict.textContent = "no threshold"; verdict.className = "verdict none"; }
    else if (score > t) { verdict.textContent = "FAIL"; verdict.className = "verdict fail"; }
    else { verdict.textContent = "PASS"; verdict.className = "verdict pass"; }
    card.querySelector(".threshold").textContent = t === null ? "none" : t.toFixed(4);
  }
}

function addResult(file, model, body) {
  const card = document.createElement("div");
  card.className = "result";
  card.dataset.model = model;
  card.dataset.score = String(body.score);
  card.dataset.threshold = body.thresholds ? String(body.thresholds.image) : "";
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = file.name + " \u2014 " + model;
  const images = document.createElement("div");
  images.className = "images";
  const overlay = document.createElement("img");
  overlay.className = "overlay";
  overlay.alt = "anomaly map overlay";
  overlay.src = "data:image/png;base64," + body.map_png;
  const bar = document.createElement("img");
  bar.className = "colorbar";
  bar.alt = "colour bar " + body.map_range[0] + " to " + body.map_range[1];
  bar.src = "data:image/png;base64," + body.colorbar_png;
  images.append(overlay, bar);
  const facts = document.createElement("div");
  facts.innerHTML = 'score <b class="score"></b> \u00b7 threshold <span class="threshold"></span> \u00b7 <span class="verdict"></span>';
  facts.querySelector(".score").textContent = body.score.toFixed(4);
  card.append(name, images, facts);
  $("results").prepend(card);
  while ($("results").children.length > KEEP) $("results").lastElementChild.remove();
  updateSliderRange();
  recolour();
}

async function inspect(files) {
  const model = $("model").value;
  if (!model) { setStatus("no ready model to send to", true); return; }
  const images = Array.from(files).filter((f) => f.type === "image/png" || f.type === "image/jpeg");
  if (!images.length) { setStatus("choose PNG or JPEG images", true); return; }
  let done = 0;
  for (const file of images) {
    setStatus("inspecting " + file.name + " (" + (done + 1) + " of " + images.length + ")", false);
    const url = "/v1/models/" + encodeURIComponent(model) + "/inspect?map=png&color_scale=" + encodeURIComponent($("colorScale").value);
    try {
      const r = await fetch(url, { method: "POST", headers: headers({ "Content-Type": file.type }), body: file });
      const body = await r.json();
      if (!r.ok) { setStatus(file.name + ": " + (body.error || ("HTTP " + r.status)), true); return; }
      addResult(file, model, body);
      done += 1;
    } catch (e) {
      setStatus(file.name + ": " + e, true);
      return;
    }
  }
  setStatus("inspected " + done + " image" + (done === 1 ? "" : "s"), false);
}

$("upload").addEventListener("submit", (e) => { e.preventDefault(); inspect($("files").files); });
$("model").addEventListener("change", modelChanged);
$("apiKey").addEventListener("change", loadModels);
$("threshold").addEventListener("input", () => {
  threshold = Number($("threshold").value);
  $("thresholdValue").textContent = threshold.toFixed(4);
  recolour();
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); inspect(e.dataTransfer.files); });
loadModels().catch((e) => setStatus("models: " + e, true));
</script>
</body>
</html>
"""#.replacingOccurrences(of: "__KEEP__", with: "\(keptResults)")
}
