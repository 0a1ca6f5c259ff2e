/* runsite compare page: compare.html#runs=<id>,<id>,...
 *
 * Loads data/runs/<id>.js for each id with <script src> (works from file://, allowed by
 * the CSP: same origin), then draws side-by-side tables and charts. The Vega-Lite specs
 * come from the page (#compare-specs, made with Altair at build time); this script only
 * fills in the named dataset "series" as columns and calls window.runsiteCharts.render.
 * Run names, params, tags... are untrusted: text goes through textContent only.
 * window.runsiteCompare.ready is a Promise that settles when the current drawing is done.
 */
(function () {
  "use strict";

  const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
  const MISSING = "–";
  const PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b",
                   "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];
  const loads = new Map(); // id -> Promise<boolean>

  const api = { ready: Promise.resolve(), runs: [] };
  window.runsiteCompare = api;

  // ------------------------------------------------------------------ helpers

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = String(v);
      else if (k === "className") node.className = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children || []) {
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  function clone(obj) {
    return JSON.parse(JSON.stringify(obj));
  }

  const F = window.runsiteFormat; // format.js: the same numbers as runsite.fmt
  const fmtTime = F.time;
  const fmtDuration = F.duration;
  const fmtNum = F.num;

  function toNumber(text) {
    if (text === null || text === undefined || typeof text === "boolean") return null;
    if (typeof text === "number") return isFinite(text) ? text : null;
    const t = String(text).trim();
    if (t === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return null;
    const n = Number(t);
    return isFinite(n) ? n : null;
  }

  function finite(v) {
    return typeof v === "number" && isFinite(v);
  }

  function parseHash() {
    const m = /(?:^|[#&])runs=([^&]*)/.exec(location.hash || "");
    if (!m) return [];
    let raw = m[1];
    try { raw = decodeURIComponent(raw); } catch (e) { /* keep it raw */ }
    const ids = [];
    for (const part of raw.split(",")) {
      const id = part.trim();
      if (id && !ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  function findRun(id) {
    const all = window.RUNSITE_DATA || [];
    for (let i = all.length - 1; i >= 0; i--) {
      const d = all[i];
      if (d && d.kind === "run" && d.id === id) return d;
    }
    return null;
  }

  function loadRun(root, id) {
    if (findRun(id)) return Promise.resolve(true);
    if (!ID_RE.test(id)) return Promise.resolve(false); // never build a path from it
    if (!loads.has(id)) {
      loads.set(id, new Promise((resolve) => {
        const s = document.createElement("script");
        s.src = `${root}data/runs/${encodeURIComponent(id)}.js`;
        s.async = true;
        s.addEventListener("load", () => resolve(Boolean(findRun(id))));
        s.addEventListener("error", () => { loads.delete(id); s.remove(); resolve(false); });
        document.head.appendChild(s);
      }));
    }
    return loads.get(id);
  }

  // Display labels: the run name, with part of the id when two runs share a name.
  function labelRuns(runs) {
    const counts = new Map();
    for (const r of runs) counts.set(r.name, (counts.get(r.name) || 0) + 1);
    runs.forEach((r, i) => {
      const name = r.name === null || r.name === undefined || r.name === "" ? r.id : String(r.name);
      r.label = counts.get(r.name) > 1 ? `${name} (${String(r.id).slice(-6)})` : name;
      r.color = PALETTE[i % PALETTE.length];
    });
  }

  // Same colour per run in every chart: fix the colour scale of every "run" encoding.
  const LEGEND_RUNS = 8;

  function fixColors(spec, runs) {
    const domain = runs.map((r) => r.label);
    const range = runs.map((r) => r.color);
    (function walk(node) {
      if (!node || typeof node !== "object") return;
      if (Array.isArray(node)) { node.forEach(walk); return; }
      const color = node.encoding && node.encoding.color;
      if (color && color.field === "run") {
        color.scale = { domain: domain, range: range };
        // many runs: a legend taller than the chart; the tables' swatches and the
        // tooltips name the runs instead
        if (runs.length > LEGEND_RUNS) color.legend = null;
      }
      for (const v of Object.values(node)) walk(v);
    })(spec);
    return spec;
  }

  function swatch(run) {
    const s = el("span", { className: "cmp-swatch", "aria-hidden": "true" });
    s.style.background = run.color;
    return s;
  }

  function section(title, id, extra) {
    const head = el("div", { className: "cmp-head" }, [el("h2", { text: title })].concat(extra || []));
    return el("section", { className: "cmp-section", id: id }, [head]);
  }

  function checkbox(label, id, checked) {
    const input = el("input", { type: "checkbox", id: id, checked: checked || null });
    return { input: input, label: el("label", { className: "cmp-switch", for: id }, [input, ` ${label}`]) };
  }

  // ------------------------------------------------------------------ tables

  function runHeadCells(runs, root) {
    return runs.map((r) => el("th", { className: "cmp-run", scope: "col" }, [
      swatch(r),
      el("a", { href: root + r.url, text: r.label, title: r.id }),
    ]));
  }

  function headerTable(runs, root) {
    const rows = runs.map((r) => {
      const commit = el("td", { className: "mono" });
      if (r.commit) {
        commit.appendChild(el("span", { text: String(r.commit).slice(0, 8), title: r.commit }));
        if (r.dirty) commit.append(" ", el("span", { className: "badge dirty", text: "dirty", title: "uncommitted changes when the run started" }));
      } else {
        commit.appendChild(el("span", { className: "muted", text: MISSING }));
      }
      const status = String(r.status || "").toLowerCase();
      const expUrl = r.experimentId ? `${root}experiments/${encodeURIComponent(r.experimentId)}.html` : null;
      return el("tr", { "data-run": r.id }, [
        el("td", {}, [swatch(r), el("a", { href: root + r.url, text: r.label, className: "cmp-name" })]),
        el("td", {}, [expUrl ? el("a", { href: expUrl, text: r.experiment || r.experimentId }) : el("span", { text: r.experiment || MISSING })]),
        el("td", {}, [el("span", { className: `badge status-${status.replace(/[^a-z]/g, "")}`, text: status || "?" })]),
        el("td", { className: "nowrap", text: fmtTime(r.start) }),
        el("td", { className: "num", text: fmtDuration(r.duration) }),
        el("td", { text: r.user || MISSING }),
        commit,
      ]);
    });
    const head = el("tr", {}, ["Run", "Experiment", "Status", "Started", "Duration", "User", "Commit"]
      .map((t) => el("th", { text: t, className: t === "Duration" ? "num" : null })));
    return el("div", { className: "table-wrap" }, [
      el("table", { className: "data cmp-runs", id: "cmp-runs" }, [el("thead", {}, [head]), el("tbody", {}, rows)]),
    ]);
  }

  // rows: [{key, values: [string|null per run], title?: [..]}]; rows whose values differ
  // are marked; the "only differences" switch hides the others.
  function diffSection(title, id, runs, root, rows, emptyText) {
    const toggle = checkbox("only differences", `${id}-only-diff`, false);
    const sec = section(title, id, rows.length ? [toggle.label] : []);
    if (!rows.length) {
      sec.appendChild(el("p", { className: "muted", text: emptyText }));
      return sec;
    }
    let nDiff = 0;
    const body = rows.map((row) => {
      const distinct = new Set((row.compare || row.values).map((v) => (v === null || v === undefined ? "\u0000missing" : String(v))));
      const differs = distinct.size > 1;
      if (differs) nDiff++;
      const cells = row.values.map((v, i) => {
        const missing = v === null || v === undefined;
        return el("td", {
          className: missing ? "muted" : "mono",
          text: missing ? MISSING : String(v),
          title: row.titles && row.titles[i] ? row.titles[i] : null,
        });
      });
      return el("tr", { className: differs ? "cmp-diff" : "cmp-same", "data-key": row.key },
        [el("th", { scope: "row", className: "mono", text: row.key })].concat(cells));
    });
    const table = el("table", { className: "data cmp-table" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: "" })].concat(runHeadCells(runs, root)))]),
      el("tbody", {}, body),
    ]);
    toggle.input.addEventListener("change", () => table.classList.toggle("cmp-only-diff", toggle.input.checked));
    sec.querySelector(".cmp-head").appendChild(el("span", {
      className: "muted small", text: `${nDiff} of ${rows.length} differ`,
    }));
    sec.appendChild(el("div", { className: "table-wrap" }, [table]));
    return sec;
  }

  function keyRows(runs, pick) {
    const keys = [];
    for (const r of runs) for (const k of Object.keys(pick(r) || {})) if (!keys.includes(k)) keys.push(k);
    keys.sort();
    return keys.map((k) => ({ key: k, values: runs.map((r) => {
      const obj = pick(r) || {};
      return Object.prototype.hasOwnProperty.call(obj, k) ? obj[k] : null;
    }) }));
  }

  function inputRows(runs) {
    const names = [];
    for (const r of runs) for (const i of r.inputs || []) {
      const n = i && i.name ? String(i.name) : "(unnamed)";
      if (!names.includes(n)) names.push(n);
    }
    names.sort();
    return names.map((n) => {
      const hashes = runs.map((r) => {
        const found = (r.inputs || []).filter((i) => (i && i.name ? String(i.name) : "(unnamed)") === n);
        return found.length ? found.map((i) => String(i.hash || "")).join(", ") : null;
      });
      return {
        key: n,
        values: hashes.map((h) => (h === null ? null : h.split(", ").map((x) => x.split(":").pop().slice(0, 12)).join(", "))),
        titles: hashes,
        compare: hashes, // differences by the full hashes; the short ones are shown
      };
    });
  }

  function metricsTable(runs, root) {
    const keys = [];
    for (const r of runs) for (const k of Object.keys(r.metrics || {})) if (!keys.includes(k)) keys.push(k);
    keys.sort();
    const sec = section("Metrics", "cmp-metrics");
    if (!keys.length) {
      sec.appendChild(el("p", { className: "muted", text: "None of these runs logged a metric." }));
      return sec;
    }
    const top = el("tr", {}, [el("th", { rowspan: "2", text: "metric" })].concat(runs.map((r) => el("th", {
      colspan: "3", className: "cmp-run cmp-group", scope: "colgroup",
    }, [swatch(r), el("a", { href: root + r.url, text: r.label })]))));
    const sub = el("tr", {}, [].concat(...runs.map(() => ["last", "min", "max"].map((a, j) => el("th", {
      className: `num small${j === 0 ? " cmp-group" : ""}`, text: a,
    })))));
    const body = keys.map((k) => el("tr", { "data-key": k }, [el("th", { scope: "row", className: "mono", text: k })].concat(
      [].concat(...runs.map((r) => {
        const m = (r.metrics || {})[k];
        return ["last", "min", "max"].map((a, j) => el("td", {
          className: `num${j === 0 ? " cmp-group cmp-last" : " muted"}`,
          text: m ? fmtNum(m[a]) : (j === 0 ? MISSING : ""),
        }));
      })))));
    sec.appendChild(el("div", { className: "table-wrap" }, [
      el("table", { className: "data cmp-table cmp-metrics-table" }, [el("thead", {}, [top, sub]), el("tbody", {}, body)]),
    ]));
    return sec;
  }

  // ------------------------------------------------------------------ charts

  function render(fig, spec, columns) {
    if (!window.runsiteCharts) return Promise.resolve(null);
    return window.runsiteCharts.render(fig, { spec: spec, data: { series: columns } });
  }

  function curvesSection(runs, specs, state) {
    const keys = [];
    const counts = new Map();
    for (const r of runs) for (const k of Object.keys(r.series || {})) counts.set(k, (counts.get(k) || 0) + 1);
    for (const [k, n] of counts) if (n >= 2) keys.push(k);
    keys.sort();
    const xStep = el("input", { type: "radio", name: "cmp-x", id: "cmp-x-step", value: "step", checked: true });
    const xTime = el("input", { type: "radio", name: "cmp-x", id: "cmp-x-time", value: "time" });
    const log = checkbox("log scale", "cmp-log", false);
    const controls = el("div", { className: "cmp-controls", role: "group", "aria-label": "chart axes" }, [
      el("span", { className: "muted small", text: "x axis" }),
      el("label", { className: "cmp-switch", for: "cmp-x-step" }, [xStep, " step"]),
      el("label", { className: "cmp-switch", for: "cmp-x-time" }, [xTime, " wall time"]),
      log.label,
    ]);
    const sec = section("Metric curves", "cmp-curves", keys.length ? [controls] : []);
    if (!keys.length) {
      sec.appendChild(el("p", { className: "muted", text: "No metric was logged by two or more of these runs." }));
      return { section: sec, draw: () => Promise.resolve() };
    }
    const grid = el("div", { className: "grid cmp-grid" });
    const figs = keys.map((k) => {
      const fig = el("figure", { className: "rs-chart cmp-curve", "data-metric": k });
      grid.appendChild(fig);
      return fig;
    });
    sec.appendChild(grid);
    const logNote = el("p", { className: "muted small cmp-note", hidden: true, text: "Log scale: values ≤ 0 are left out." });
    sec.appendChild(logNote);

    function draw() {
      const useTime = xTime.checked;
      const useLog = log.input.checked;
      logNote.hidden = !useLog;
      const name = `curves${useTime ? "_time" : ""}${useLog ? "_log" : ""}`;
      return Promise.all(keys.map((k, i) => {
        const cols = { x: [], y: [], run: [] };
        let longest = 0;
        for (const r of runs) {
          const s = (r.series || {})[k];
          if (!s) continue;
          const xs = useTime ? s.time : s.step;
          const t0 = finite(r.start) ? r.start : (s.time && s.time.length ? s.time[0] : 0);
          let n = 0;
          for (let j = 0; j < s.value.length; j++) {
            let y = s.value[j];
            if (!finite(y)) y = null;
            if (useLog && (y === null || y <= 0)) continue;
            let x = xs ? xs[j] : j;
            if (useTime) x = finite(x) ? (x - t0) / 1000 : null;
            cols.x.push(x);
            cols.y.push(y);
            cols.run.push(r.label);
            n++;
          }
          longest = Math.max(longest, n);
        }
        const drawn = runs.filter((r) => (r.series || {})[k]);
        if (longest <= 1) {
          // logged once per run: a bar per run, not a curve of one point
          const bars = { y: [], run: [] };
          for (let j = 0; j < cols.y.length; j++) { bars.y.push(cols.y[j]); bars.run.push(cols.run[j]); }
          const spec = fixColors(clone(specs.bars), drawn);
          spec.title = { text: k, anchor: "start", fontSize: 13 };
          figs[i].classList.add("cmp-bars");
          return render(figs[i], spec, bars);
        }
        figs[i].classList.remove("cmp-bars");
        const spec = fixColors(clone(specs[name]), drawn);
        spec.title = { text: k, anchor: "start", fontSize: 13 };
        if (longest <= 60 && spec.mark && typeof spec.mark === "object") spec.mark.point = true;
        return render(figs[i], spec, cols);
      }));
    }
    for (const input of [xStep, xTime, log.input]) input.addEventListener("change", () => state.redraw(draw));
    return { section: sec, draw: draw };
  }

  function numericParams(runs) {
    const out = [];
    for (const row of keyRows(runs, (r) => r.params)) {
      const present = row.values.filter((v) => v !== null);
      if (present.length >= 2 && present.every((v) => toNumber(v) !== null)) out.push(row.key);
    }
    return out;
  }

  function parallelSection(runs, specs) {
    const sec = section("Parallel coordinates", "cmp-parallel");
    const cols = { run: [], key: [], value: [] };
    const dims = [];
    for (const k of numericParams(runs)) {
      dims.push(k);
      for (const r of runs) {
        const v = toNumber((r.params || {})[k]);
        if (v !== null) { cols.run.push(r.label); cols.key.push(k); cols.value.push(v); }
      }
    }
    const metricKeys = [];
    for (const r of runs) for (const k of Object.keys(r.metrics || {})) if (!metricKeys.includes(k)) metricKeys.push(k);
    metricKeys.sort();
    for (const k of metricKeys) {
      const have = runs.filter((r) => r.metrics[k] && finite(r.metrics[k].last));
      if (have.length < 2) continue;
      const label = dims.includes(k) ? `${k} (metric)` : k;
      dims.push(label);
      for (const r of have) { cols.run.push(r.label); cols.key.push(label); cols.value.push(r.metrics[k].last); }
    }
    sec.querySelector(".cmp-head").appendChild(el("span", {
      className: "muted small", text: "numeric params, then the metrics' last values; each axis spans its own range",
    }));
    if (dims.length < 2) {
      sec.appendChild(el("p", { className: "muted", text: "Fewer than two numeric params or metrics are shared by these runs." }));
      return { section: sec, draw: () => Promise.resolve() };
    }
    const fig = el("figure", { className: "rs-chart cmp-wide", id: "cmp-parallel-chart" });
    sec.appendChild(fig);
    return { section: sec, draw: () => render(fig, fixColors(clone(specs.parallel), runs), cols) };
  }

  // One value on an axis (one run, or a param every run shares): ±5 % around it (±1
  // around 0), as charts.padded_domain does, so the axis has ticks that mean something.
  function paddedDomain(values) {
    const distinct = new Set(values.filter((v) => finite(v)));
    if (distinct.size !== 1) return null;
    const v = distinct.values().next().value;
    const pad = Math.abs(v) * 0.05 || 1;
    return [v - pad, v + pad];
  }

  function scatterSection(runs, specs, state) {
    const sec = section("Param vs metric", "cmp-scatter");
    const params = keyRows(runs, (r) => r.params).map((row) => row.key);
    const metrics = [];
    for (const r of runs) for (const k of Object.keys(r.metrics || {})) if (!metrics.includes(k)) metrics.push(k);
    metrics.sort();
    if (!params.length || !metrics.length) {
      sec.appendChild(el("p", { className: "muted", text: "These runs need at least one param and one metric." }));
      return { section: sec, draw: () => Promise.resolve() };
    }
    const pSel = el("select", { id: "cmp-scatter-param", "aria-label": "param" }, params.map((p) => el("option", { value: p, text: p })));
    const mSel = el("select", { id: "cmp-scatter-metric", "aria-label": "metric" }, metrics.map((m) => el("option", { value: m, text: m })));
    const varying = numericParams(runs).filter((k) => new Set(runs.map((r) => (r.params || {})[k])).size > 1);
    // the first pair (a varying param if any) that the most runs have both of: runs of
    // several experiments may share no param with a metric
    const both = (p, m) => runs.filter((r) => {
      const pv = (r.params || {})[p];
      return pv !== undefined && pv !== null && r.metrics && r.metrics[m] && finite(r.metrics[m].last);
    }).length;
    let pick = [varying.length ? varying[0] : params[0], metrics[0], 0];
    for (const candidates of [varying, params]) {
      for (const p of candidates) {
        for (const m of metrics) {
          const n = both(p, m);
          if (n > pick[2]) pick = [p, m, n];
        }
      }
      if (pick[2] > 0) break;  // a varying numeric param some runs share with a metric
    }
    pSel.value = pick[0];
    mSel.value = pick[1];
    sec.querySelector(".cmp-head").appendChild(el("div", { className: "cmp-controls" }, [
      el("label", { for: "cmp-scatter-param", className: "muted small", text: "param" }), pSel,
      el("label", { for: "cmp-scatter-metric", className: "muted small", text: "metric (last)" }), mSel,
    ]));
    const fig = el("figure", { className: "rs-chart cmp-wide", id: "cmp-scatter-chart" });
    const note = el("p", { className: "muted small cmp-note", hidden: true });
    sec.append(fig, note);

    function draw() {
      const p = pSel.value;
      const m = mSel.value;
      const cols = { x: [], y: [], run: [] };
      const raw = [];
      for (const r of runs) {
        const pv = (r.params || {})[p];
        const mv = r.metrics && r.metrics[m] ? r.metrics[m].last : null;
        if (pv === undefined || pv === null || !finite(mv)) continue;
        raw.push(pv);
        cols.y.push(mv);
        cols.run.push(r.label);
      }
      const numeric = raw.every((v) => toNumber(v) !== null);
      cols.x = raw.map((v) => (numeric ? toNumber(v) : String(v)));
      const spec = fixColors(clone(specs.scatter), runs);
      spec.encoding.x.title = p;
      spec.encoding.y.title = `${m} (last)`;
      if (!numeric) {
        spec.encoding.x.type = "nominal";
        delete spec.encoding.x.scale;
        spec.encoding.x.axis = Object.assign({}, spec.encoding.x.axis, { labelAngle: 0 });
        delete spec.encoding.x.axis.format;  // a number format would turn labels into NaN
      } else {
        const xd = paddedDomain(cols.x);
        if (xd) spec.encoding.x.scale = Object.assign({}, spec.encoding.x.scale, { domain: xd });
      }
      const yd = paddedDomain(cols.y);
      if (yd) spec.encoding.y.scale = Object.assign({}, spec.encoding.y.scale, { domain: yd });
      for (const t of spec.encoding.tooltip || []) {
        if (t.field === "x") { t.title = p; if (!numeric) t.type = "nominal"; }
        if (t.field === "y") t.title = m;
      }
      const left = runs.length - cols.run.length;
      note.hidden = left === 0;
      note.textContent = left ? `${left} run(s) without both ${p} and ${m} are not shown.` : "";
      return render(fig, spec, cols);
    }
    for (const s of [pSel, mSel]) s.addEventListener("change", () => state.redraw(draw));
    return { section: sec, draw: draw };
  }

  // ------------------------------------------------------------------ page

  async function main() {
    const box = document.getElementById("compare");
    const help = document.getElementById("compare-help");
    const status = document.getElementById("compare-status");
    const count = document.getElementById("compare-count");
    if (!box) return;
    const root = box.getAttribute("data-root") || "";
    const specsEl = document.getElementById("compare-specs");
    const specs = specsEl ? JSON.parse(specsEl.textContent) : {};
    const ids = parseHash();
    box.replaceChildren();
    status.replaceChildren();
    count.textContent = "";

    if (ids.length) status.appendChild(el("p", { className: "muted", text: `Loading ${ids.length} run(s)…` }));
    const found = await Promise.all(ids.map((id) => loadRun(root, id)));
    status.replaceChildren();
    const runs = [];
    ids.forEach((id, i) => {
      if (found[i]) runs.push(Object.assign({}, findRun(id)));
      else status.appendChild(el("p", { className: "warning cmp-missing", "data-run": id, text: `run ${id} is not on this site` }));
    });
    api.runs = runs.map((r) => r.id);
    if (runs.length < 2) {
      help.hidden = false;
      box.hidden = true;
      if (runs.length === 1) {
        status.appendChild(el("p", { className: "muted", text: `Only one run to show (${runs[0].name || runs[0].id}): add at least one more.` }));
      }
      return;
    }
    help.hidden = true;
    box.hidden = false;
    labelRuns(runs);
    for (const r of runs) {
      r.params = r.params || {};
      r.tags = r.tags || {};
      r.metrics = r.metrics || {};
      r.series = r.series || {};
    }
    const exps = new Set(runs.map((r) => r.experimentId || r.experiment));
    count.textContent = `${runs.length} runs · ${exps.size} experiment${exps.size > 1 ? "s" : ""}`;

    const state = {
      redraw(fn) {
        api.ready = Promise.resolve(api.ready).then(() => fn(), () => fn());
        return api.ready;
      },
    };

    const headSec = section("Runs", "cmp-header");
    headSec.appendChild(headerTable(runs, root));
    const codeRows = [
      { key: "experiment", values: runs.map((r) => r.experiment || null) },
      { key: "commit", values: runs.map((r) => r.commit || null) },
      { key: "dirty", values: runs.map((r) => (r.commit ? (r.dirty ? "yes" : "no") : null)) },
      { key: "user", values: runs.map((r) => r.user || null) },
    ];
    const curves = curvesSection(runs, specs, state);
    const parallel = parallelSection(runs, specs);
    const scatter = scatterSection(runs, specs, state);
    box.append(
      headSec,
      diffSection("Params", "cmp-params", runs, root, keyRows(runs, (r) => r.params), "None of these runs has params."),
      metricsTable(runs, root),
      curves.section,
      parallel.section,
      scatter.section,
      el("div", { className: "two-col cmp-two" }, [
        diffSection("Tags", "cmp-tags", runs, root, keyRows(runs, (r) => r.tags), "None of these runs has tags."),
        diffSection("Data inputs", "cmp-inputs", runs, root, inputRows(runs), "None of these runs logged a data input."),
      ]),
      diffSection("Code", "cmp-code", runs, root, codeRows, ""),
    );
    api.ready = Promise.all([curves.draw(), parallel.draw(), scatter.draw()]);
    await api.ready;
  }

  function start() {
    api.ready = main().catch((err) => {
      console.error("runsite compare:", err);
      const status = document.getElementById("compare-status");
      if (status) status.appendChild(el("p", { className: "warning", role: "alert", text: `The comparison could not be drawn (${(err && err.message) || err}).` }));
    });
  }

  window.addEventListener("hashchange", start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
