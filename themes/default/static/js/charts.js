/* runsite charts: renders Vega-Lite specs made by the Python side (Altair).
 *
 *   <figure class="rs-chart" data-spec="chart-rmse"></figure>
 *   <script type="application/json" id="chart-rmse">
 *     {"spec": {...Vega-Lite, data {"name": "series"}...},
 *      "data": {"series": {"step": [0, 1], "value": [0.5, null], "run": ["a", "a"]}}}
 *   </script>
 *
 * Load after vendor/vega.min.js, vega-lite.min.js, vega-interpreter.js, vega-embed.min.js.
 * Expressions run through vega-interpreter (ast: true), so no eval / new Function is
 * needed and the page works under a CSP without 'unsafe-eval'.
 * Other scripts can call window.runsiteCharts.render(el[, payload]) (a Promise that
 * never rejects); window.runsiteCharts.ready settles after the initial render.
 *
 * A figure with data-defer is drawn when the <details> around it opens. A spec with
 * usermeta.runsite.smooth gets a "smooth" column (exponential moving average with the
 * weight of its .chart-tools slider, debiased as TensorBoard does) and, with
 * usermeta.runsite.log, that log-scale variant of the spec when the tool's box is ticked.
 */
(function () {
  "use strict";

  const LIGHT = { text: "#333333", title: "#111111", grid: "#e6e6e6", domain: "#888888" };
  const DARK = { text: "#d4d4d4", title: "#f0f0f0", grid: "#3a3a3a", domain: "#9a9a9a" };
  const rendered = new Map(); // element -> vega-embed result, for re-rendering on theme change

  const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function isDark() {
    const theme = document.documentElement.getAttribute("data-theme");
    if (theme) return theme === "dark";
    return Boolean(darkQuery && darkQuery.matches);
  }

  function themeConfig(c) {
    const axis = { labelColor: c.text, titleColor: c.title, gridColor: c.grid,
                   domainColor: c.domain, tickColor: c.domain };
    return {
      background: "transparent",
      axis: axis,
      legend: { labelColor: c.text, titleColor: c.title },
      title: { color: c.title, subtitleColor: c.text },
      header: { labelColor: c.text, titleColor: c.title },
      view: { stroke: c.grid },
    };
  }

  // {"step": [0, 1], "value": [0.5, null]} -> [{step: 0, value: 0.5}, {step: 1, value: null}]
  function toRows(name, columns) {
    if (Array.isArray(columns)) return columns; // already rows
    const fields = Object.keys(columns || {});
    if (!fields.length) return [];
    const n = columns[fields[0]].length;
    for (const f of fields) {
      if (!Array.isArray(columns[f]) || columns[f].length !== n) {
        throw new Error(`dataset "${name}": column "${f}" is not an array of length ${n}`);
      }
    }
    const rows = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = {};
      for (const f of fields) row[f] = columns[f][i];
      rows[i] = row;
    }
    return rows;
  }

  function readPayload(el) {
    const id = el.getAttribute("data-spec");
    const script = id && document.getElementById(id);
    if (!script) throw new Error(`no chart data element #${id}`);
    return JSON.parse(script.textContent);
  }

  function showError(el, err) {
    const label = el.getAttribute("data-spec") || "chart";
    console.error(`runsite charts: could not render ${label}:`, err);
    const msg = document.createElement("p");
    msg.className = "rs-chart-error";
    msg.setAttribute("role", "alert");
    msg.textContent = `This chart could not be drawn (${(err && err.message) || err}).`;
    el.replaceChildren(msg);
  }

  // Renders one figure; resolves to the vega-embed result, or null after showing an error.
  async function render(el, payload) {
    try {
      if (rendered.has(el)) rendered.get(el).finalize();
      rendered.delete(el);
      if (typeof vegaEmbed !== "function" || typeof vega === "undefined") {
        throw new Error("the Vega scripts did not load");
      }
      const data = withTools(el, payload || readPayload(el));
      if (!data || typeof data.spec !== "object") throw new Error("payload has no spec");
      const spec = Object.assign({}, data.spec);
      spec.datasets = Object.assign({}, spec.datasets);
      for (const [name, columns] of Object.entries(data.data || {})) {
        spec.datasets[name] = toRows(name, columns);
      }
      // Drawn into a box of its own: Vega sizes a "container" width from its element's
      // clientWidth, which counts the figure's padding, so a chart drawn into the padded
      // figure itself ends past its right edge.
      const body = document.createElement("div");
      body.className = "rs-chart-body";
      el.replaceChildren(body);
      const result = await vegaEmbed(body, spec, {
        actions: false,
        renderer: "svg",
        ast: true, // parse expressions to an AST ...
        expr: vega.expressionInterpreter, // ... and interpret them: no eval
        config: themeConfig(isDark() ? DARK : LIGHT),
      });
      el._rsPayload = payload || null;
      rendered.set(el, result);
      return result;
    } catch (err) {
      showError(el, err);
      return null;
    }
  }

  // The series' smoothed values (null while the weight is 0) and the raw line's opacity.
  function smoothed(columns, weight) {
    const value = columns.value || [];
    const series = columns.series;
    const n = value.length;
    const out = Object.assign({}, columns);
    out.smooth = new Array(n).fill(null);
    out.alpha = new Array(n).fill(weight > 0 ? 0.25 : 1);
    if (weight > 0) {
      let last = null;
      let acc = 0;
      let count = 0;
      for (let i = 0; i < n; i++) {
        const key = series ? series[i] : null;
        if (key !== last) { acc = 0; count = 0; last = key; }
        const v = value[i];
        if (v === null || v === undefined || !isFinite(v)) continue;
        acc = acc * weight + (1 - weight) * v;
        count++;
        out.smooth[i] = acc / (1 - Math.pow(weight, count));
      }
    }
    return out;
  }

  // The payload as the figure's tools want it drawn.
  function withTools(el, data) {
    const meta = (data.spec && data.spec.usermeta && data.spec.usermeta.runsite) || null;
    if (!meta) return data;
    const weight = Number(el.dataset.smooth || 0);
    const useLog = el.dataset.log === "1" && meta.log;
    const spec = useLog ? meta.log : data.spec;
    const series = data.data && data.data.series;
    return { spec: spec, data: Object.assign({}, data.data, series ? { series: smoothed(series, weight) } : {}) };
  }

  function wireTools(root) {
    for (const tools of (root || document).querySelectorAll(".chart-tools[data-for]")) {
      if (tools._rsWired) continue;
      tools._rsWired = true;
      const fig = document.querySelector(`.rs-chart[data-spec="${tools.getAttribute("data-for")}"]`);
      if (!fig) continue;
      const slider = tools.querySelector('[data-tool="smooth"]');
      const box = tools.querySelector('[data-tool="log"]');
      let payload = null;
      try { payload = readPayload(fig); } catch (err) { continue; }
      const meta = (payload.spec.usermeta && payload.spec.usermeta.runsite) || {};
      if (box && !meta.log) box.closest("label").hidden = true; // a value ≤ 0: no log scale
      const redraw = () => {
        fig.dataset.smooth = slider ? slider.value : "0";
        fig.dataset.log = box && box.checked ? "1" : "0";
        if (!fig.hasAttribute("data-defer")) render(fig, payload);
      };
      if (slider) slider.addEventListener("input", redraw);
      if (box) box.addEventListener("change", redraw);
    }
  }

  function renderAll(root) {
    wireTools(root);
    const figures = (root || document).querySelectorAll(".rs-chart[data-spec]:not([data-defer])");
    return Promise.all(Array.from(figures, (el) => render(el)));
  }

  // Deferred figures: drawn the first time their <details> opens (it has a width then).
  document.addEventListener("toggle", (ev) => {
    const details = ev.target;
    if (!details.open || !details.querySelectorAll) return;
    for (const fig of details.querySelectorAll(".rs-chart[data-defer]")) {
      fig.removeAttribute("data-defer");
      render(fig);
    }
  }, true);

  function rerender() {
    for (const el of Array.from(rendered.keys())) render(el, el._rsPayload);
  }

  new MutationObserver(rerender).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });
  if (darkQuery && darkQuery.addEventListener) darkQuery.addEventListener("change", rerender);

  // `ready` resolves once the figures present at DOMContentLoaded have been rendered.
  const ready = new Promise((resolve) => {
    if (document.readyState !== "loading") resolve(renderAll());
    else document.addEventListener("DOMContentLoaded", () => resolve(renderAll()));
  });
  window.runsiteCharts = { render: render, renderAll: renderAll, isDark: isDark, ready: ready };
})();
