/* runsite: the interactive runs table of an experiment page.
 *
 * Reads the experiment's data file (data/experiments/<slug>.js, pushed onto
 * window.RUNSITE_DATA; loaded here with a <script> element when the page did not include
 * it), filters with the search language of runsite.search_runs (query.js), a free-text box
 * and status / user facets, sorts like order_by, pages 100 rows at a time and keeps its
 * state in location.hash. The server-rendered #runs-table stays as the no-JS fallback.
 *
 *   window.runsiteRunsTable.applyNow()  -> apply the inputs at once (no debounce)
 *   #runs-app[data-ready]               -> set once the table has rendered
 *
 * No innerHTML: every node is built with textContent. No network beyond that data file.
 */
(function () {
  "use strict";

  const PAGE_SIZE = 100;
  const DEBOUNCE_MS = 100;
  const AGGS = ["last", "min", "max"];
  const MISSING = "–";

  // ------------------------------------------------------------------------- helpers

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach((k) => {
        const v = attrs[k];
        if (v == null || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "className") node.className = v;
        else node.setAttribute(k, v === true ? "" : v);
      });
    }
    if (children) children.forEach((c) => c != null && node.appendChild(c));
    return node;
  }

  const fmtInt = (n) => n.toLocaleString("en-US");

  const F = window.runsiteFormat; // format.js: the same numbers as runsite.fmt
  const fmtNum = F.num;
  const fmtTime = (ms) => F.time(ms).replace(/ UTC$/, ""); // the table shows no " UTC"
  const fmtDuration = F.duration;

  // ------------------------------------------------------------------------- data

  function findPayload(slug) {
    const list = window.RUNSITE_DATA || [];
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i];
      if (p && p.kind === "experiment" && (slug == null || p.slug === slug)) return p;
    }
    return null;
  }

  /** Columns -> rows in the shape of query.js (and of Python's RunRecord.to_row()). */
  function toRows(data) {
    const r = data.runs;
    const n = r.id.length;
    const paramKeys = Object.keys(data.params || {});
    const tagKeys = Object.keys(data.tags || {});
    const metricKeys = Object.keys(data.metrics || {});
    // attribute name -> its column (runsite.attributes, via data/vocabulary.js)
    const columns = window.runsiteQuery.VOCABULARY.attributes
      .map((a) => [a.name, r[a.column] || []]);
    const rows = new Array(n);
    for (let i = 0; i < n; i++) {
      const params = {}, tags = {}, metrics = {};
      const tagValues = [];
      for (const k of paramKeys) {
        const v = data.params[k][i];
        if (v != null) params[k] = v;
      }
      for (const k of tagKeys) {
        const v = data.tags[k][i];
        if (v != null) {
          tags[k] = v;
          tagValues.push(v);
        }
      }
      for (const k of metricKeys) {
        const m = data.metrics[k];
        if (m.last[i] != null || m.count[i] != null) {
          metrics[k] = { last: m.last[i], min: m.min[i], max: m.max[i], count: m.count[i] };
        }
      }
      const attributes = {};
      for (const [key, column] of columns) attributes[key] = column[i];
      const name = attributes.run_name == null ? "" : String(attributes.run_name);
      rows[i] = {
        run_id: attributes.run_id,
        attributes: attributes,
        params: params,
        tags: tags,
        metrics: metrics,
        url: r.url[i],
        versions: r.versions ? r.versions[i] : null,
        index: i,
        haystack: (name + "\n" + tagValues.join("\n")).toLowerCase(),
      };
    }
    return rows;
  }

  /** True when the column's values (missing included) are not all the same. */
  function varies(column) {
    if (!column.length) return false;
    const first = column[0];
    for (let i = 1; i < column.length; i++) if (column[i] !== first) return true;
    return false;
  }

  // ------------------------------------------------------------------------- identifiers

  const KIND = { metrics: "metric", params: "param", tags: "tag", attributes: "attribute" };

  /** The identifier of the search language for a column, unquoted when that parses back. */
  function identFor(section, key, agg) {
    const suffix = section === "metrics" && agg && agg !== "last" ? "." + agg : "";
    const plain = `${section}.${key}${suffix}`;
    try {
      const ast = window.runsiteQuery.parse(plain + " IS NULL");
      const id = ast.ident;
      if (id && id.kind === KIND[section] && id.key === key &&
          (section !== "metrics" || id.agg === (agg || "last"))) return plain;
    } catch (e) { /* needs quotes */ }
    const q = key.indexOf("`") < 0 ? "`" : key.indexOf('"') < 0 ? '"' : null;
    if (q === null) return null; // cannot be named in the language: not sortable
    return `${section}.${q}${key}${q}${suffix}`;
  }

  // ------------------------------------------------------------------------- hash state

  const escList = (s) => s.replace(/[%,]/g, encodeURIComponent);

  function splitList(v) {
    if (v == null || v === "") return [];
    return v.split(",").map((s) => {
      try { return decodeURIComponent(s); } catch (e) { return s; }
    });
  }

  function readHash() {
    const p = new URLSearchParams((location.hash || "").replace(/^#/, ""));
    const state = {
      q: p.get("q") || "",
      text: p.get("text") || "",
      sort: null,
      cols: p.has("cols") ? splitList(p.get("cols")) : null,
      agg: AGGS.indexOf(p.get("agg")) >= 0 ? p.get("agg") : "last",
      page: Math.max(1, parseInt(p.get("page") || "1", 10) || 1),
      status: splitList(p.get("status")),
      user: splitList(p.get("user")),
    };
    const sort = p.get("sort");
    if (sort) {
      const m = /^([\s\S]*?)\s+(ASC|DESC)$/i.exec(sort.trim());
      state.sort = m ? { ident: m[1], desc: m[2].toUpperCase() === "DESC" }
        : { ident: sort.trim(), desc: false };
    }
    return state;
  }

  // ------------------------------------------------------------------------- the table

  function RunsTable(app, data) {
    this.app = app;
    this.root = app.getAttribute("data-root") || "";
    this.data = data;
    this.rows = toRows(data);
    this.keyMetric = data.keyMetric;
    this.goal = data.goal;
    this.sortedCache = new Map();
    this.selected = new Set();
    this.lastGoodQuery = "";
    this.timer = null;

    const metricKeys = Object.keys(data.metrics || {}).sort();
    if (this.keyMetric && metricKeys.indexOf(this.keyMetric) > 0) {
      metricKeys.splice(metricKeys.indexOf(this.keyMetric), 1);
      metricKeys.unshift(this.keyMetric);
    }
    const paramKeys = Object.keys(data.params || {}).sort();
    const tagKeys = Object.keys(data.tags || {}).sort();
    this.available = [].concat(
      metricKeys.map((k) => ({ id: "metrics." + k, section: "metrics", key: k })),
      paramKeys.map((k) => ({ id: "params." + k, section: "params", key: k })),
      tagKeys.map((k) => ({ id: "tags." + k, section: "tags", key: k })),
    );
    this.byId = new Map(this.available.map((c) => [c.id, c]));
    this.defaultCols = this.available
      .filter((c) => c.section === "metrics" || varies(data[c.section][c.key]))
      .map((c) => c.id);

    this.statusValues = countValues(this.rows, (r) => r.attributes.status);
    this.userValues = countValues(this.rows, (r) => r.attributes.user);
    this.state = this.normalize(readHash());
    this.build();
    this.apply(false);
  }

  function countValues(rows, get) {
    const counts = new Map();
    for (const r of rows) {
      const v = get(r);
      const k = v == null ? "" : String(v);
      counts.set(k, (counts.get(k) || 0) + 1);
    }
    return Array.from(counts.keys()).sort((a, b) => counts.get(b) - counts.get(a) || (a < b ? -1 : 1));
  }

  const proto = RunsTable.prototype;

  proto.normalize = function (s) {
    if (s.cols) s.cols = s.cols.filter((id) => this.byId.has(id));
    s.status = s.status.filter((v) => this.statusValues.indexOf(v) >= 0);
    s.user = s.user.filter((v) => this.userValues.indexOf(v) >= 0);
    return s;
  };

  proto.columns = function () {
    const ids = this.state.cols || this.defaultCols;
    const chosen = new Set(ids);
    // the chooser's order (metrics, params, tags), whatever order the hash lists them in
    return this.available.filter((c) => chosen.has(c.id));
  };

  /** The fixed columns, then the chosen ones: {label, ident, num, cell(row) -> node|string}. */
  proto.headers = function () {
    const agg = this.state.agg;
    const root = this.root;
    const fixed = [
      { label: "Status", ident: "attributes.status", cell: (r) => {
        const s = String(r.attributes.status || "").toLowerCase();
        return el("span", { className: "badge status-" + s, text: s });
      } },
      { label: "Run", ident: "attributes.run_name", className: "rt-name", cell: (r) => {
        const frag = document.createDocumentFragment();
        const name = r.attributes.run_name == null ? r.run_id : String(r.attributes.run_name);
        frag.appendChild(el("a", { href: root + r.url, text: name, title: r.run_id }));
        if (r.attributes.parent_run_id) {
          frag.appendChild(el("span", { className: "muted rt-child", title: "child run", text: " ↳" }));
        }
        return frag;
      } },
      { label: "Started", ident: "attributes.start_time", className: "rt-time", cell: (r) => {
        const t = r.attributes.start_time;
        return el("span", { text: fmtTime(t), title: t == null ? null : new Date(t).toISOString() });
      } },
      { label: "Duration", ident: "attributes.duration", num: true,
        cell: (r) => fmtDuration(r.attributes.duration) },
      { label: "User", ident: "attributes.user", cell: (r) => r.attributes.user || MISSING },
      { label: "Commit", ident: "attributes.commit", cell: (r) => {
        const c = r.attributes.commit;
        if (!c) return el("span", { className: "muted", text: MISSING });
        const frag = document.createDocumentFragment();
        frag.appendChild(el("span", { className: "mono", text: String(c).slice(0, 8), title: c }));
        if (r.attributes.dirty) {
          frag.appendChild(document.createTextNode(" "));
          frag.appendChild(el("span", { className: "badge dirty", text: "dirty",
            title: "uncommitted changes when the run started" }));
        }
        return frag;
      } },
    ];
    const chosen = this.columns().map((c) => {
      const key = c.key;
      if (c.section === "metrics") {
        return { label: key, col: c, num: true, className: "rt-metric",
          title: `${key} (${agg})`, ident: identFor("metrics", key, agg),
          cell: (r) => {
            const m = r.metrics[key];
            const v = m ? m[agg] : null;
            return v == null ? el("span", { className: "muted", text: MISSING }) : fmtNum(v);
          } };
      }
      const section = c.section;
      return { label: key, col: c, className: section === "tags" ? "tag" : "rt-param",
        title: section === "tags" ? `tag ${key}` : `param ${key}`,
        ident: identFor(section, key), cell: (r) => {
          const v = r[section][key];
          return v == null ? el("span", { className: "muted", text: MISSING }) : v;
        } };
    });
    const out = fixed.concat(chosen);
    if (this.data.runs.versions) {
      // last: the registered versions each run became, [["taxi v2", "models/taxi/v2.html"], …]
      out.push({ label: "Versions", ident: null, className: "rt-versions", cell: (r) => {
        if (!r.versions) return "";
        const frag = document.createDocumentFragment();
        for (const [label, page] of r.versions) {
          frag.appendChild(el("a", { className: "badge version", href: root + page, text: label }));
          frag.appendChild(document.createTextNode(" "));
        }
        return frag;
      } });
    }
    return out;
  };

  // ------------------------------------------------------------------------- DOM skeleton

  proto.build = function () {
    const app = this.app;
    while (app.firstChild) app.removeChild(app.firstChild);
    const s = this.state;

    this.qInput = el("input", { type: "search", className: "rt-q mono", id: "rt-q",
      placeholder: "Filter: metrics.rmse < 6 and params.model = 'xgb'",
      "aria-label": "Filter runs with the search language", spellcheck: "false",
      autocomplete: "off" });
    this.qInput.value = s.q;
    this.textInput = el("input", { type: "search", className: "rt-text", id: "rt-text",
      placeholder: "Search names and tags", "aria-label": "Search run names and tag values",
      autocomplete: "off" });
    this.textInput.value = s.text;
    this.errorBox = el("div", { className: "rt-error", id: "rt-error", role: "alert", hidden: true });

    this.statusBox = el("div", { className: "rt-facet", id: "rt-status", role: "group",
      "aria-label": "Status" });
    this.userList = el("div", { className: "rt-menu-body" });
    this.userSummary = el("summary", { text: "User" });
    this.userBox = el("details", { className: "rt-menu", id: "rt-user" }, [this.userSummary, this.userList]);
    this.colList = el("div", { className: "rt-menu-body rt-cols" });
    this.colBox = el("details", { className: "rt-menu", id: "rt-columns" },
      [el("summary", { text: "Columns" }), this.colList]);
    this.aggBox = el("div", { className: "rt-seg", id: "rt-agg", role: "group",
      "aria-label": "Metric values shown" });
    AGGS.forEach((a) => {
      const b = el("button", { type: "button", "data-agg": a, text: a });
      b.addEventListener("click", () => this.setAgg(a));
      this.aggBox.appendChild(b);
    });

    this.count = el("span", { className: "rt-count", id: "rt-count", "aria-live": "polite" });
    this.compare = el("a", { className: "rt-button rt-compare", id: "rt-compare",
      role: "link", "aria-disabled": "true" });
    this.clearSel = el("button", { type: "button", className: "rt-link", id: "rt-clear",
      text: "clear", hidden: true });
    this.clearSel.addEventListener("click", () => {
      this.selected.clear();
      this.render();
    });
    this.prev = el("button", { type: "button", className: "rt-button", id: "rt-prev", text: "‹ Prev" });
    this.next = el("button", { type: "button", className: "rt-button", id: "rt-next", text: "Next ›" });
    this.pageLabel = el("span", { className: "rt-page muted", id: "rt-page" });
    this.prev.addEventListener("click", () => this.goPage(this.state.page - 1));
    this.next.addEventListener("click", () => this.goPage(this.state.page + 1));

    this.table = el("table", { className: "rt-table", id: "rt-table" });
    this.thead = el("thead");
    this.tbody = el("tbody");
    this.table.appendChild(this.thead);
    this.table.appendChild(this.tbody);
    this.empty = el("p", { className: "empty rt-empty", text: "No runs match.", hidden: true });

    app.appendChild(el("div", { className: "rt-toolbar" }, [
      el("div", { className: "rt-qwrap" }, [this.qInput, this.errorBox]),
      this.textInput,
    ]));
    app.appendChild(el("div", { className: "rt-filters" }, [
      el("span", { className: "rt-label", text: "Status" }), this.statusBox,
      this.userBox, this.colBox,
      el("span", { className: "rt-label rt-push", text: "Metrics" }), this.aggBox,
    ]));
    app.appendChild(el("div", { className: "rt-bar" }, [
      this.count,
      el("span", { className: "spacer" }),
      this.compare, this.clearSel,
      el("span", { className: "rt-pager" }, [this.prev, this.pageLabel, this.next]),
    ]));
    app.appendChild(el("div", { className: "table-wrap rt-wrap" }, [this.table, this.empty]));

    this.qInput.addEventListener("input", () => this.schedule());
    this.textInput.addEventListener("input", () => this.schedule());
    this.qInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.applyNow();
    });
    this.tbody.addEventListener("change", (e) => {
      const box = e.target;
      const id = box.getAttribute && box.getAttribute("data-select");
      if (id == null) return;
      if (box.checked) this.selected.add(id);
      else this.selected.delete(id);
      box.closest("tr").classList.toggle("rt-selected", box.checked);
      this.renderSelection();
    });
    this.buildColumnChooser();
  };

  proto.buildColumnChooser = function () {
    const list = this.colList;
    while (list.firstChild) list.removeChild(list.firstChild);
    const shown = new Set(this.state.cols || this.defaultCols);
    [["metrics", "Metrics"], ["params", "Params"], ["tags", "Tags"]].forEach((g) => {
      const cols = this.available.filter((c) => c.section === g[0]);
      if (!cols.length) return;
      list.appendChild(el("div", { className: "rt-group", text: g[1] }));
      cols.forEach((c) => {
        const box = el("input", { type: "checkbox", "data-col": c.id });
        box.checked = shown.has(c.id);
        box.addEventListener("change", () => this.toggleColumn(c.id, box.checked));
        const label = c.key + (c.section === "metrics" && c.key === this.keyMetric ? " ★" : "");
        list.appendChild(el("label", { className: "rt-check" }, [box, el("span", { text: label })]));
      });
    });
    const reset = el("button", { type: "button", className: "rt-link", text: "Reset to defaults" });
    reset.addEventListener("click", () => {
      this.state.cols = null;
      this.buildColumnChooser();
      this.apply(true);
    });
    list.appendChild(reset);
  };

  proto.toggleColumn = function (id, on) {
    const cols = (this.state.cols || this.defaultCols).filter((c) => c !== id);
    if (on) cols.push(id);
    this.state.cols = cols;
    this.apply(true);
  };

  proto.setAgg = function (agg) {
    const before = this.state.agg;
    if (agg === before) return;
    const s = this.state;
    if (s.sort) { // a metric sort follows the values shown
      for (const c of this.columns()) {
        if (c.section === "metrics" && identFor("metrics", c.key, before) === s.sort.ident) {
          s.sort.ident = identFor("metrics", c.key, agg);
        }
      }
    }
    s.agg = agg;
    this.apply(true);
  };

  proto.goPage = function (page) {
    this.state.page = page;
    this.render();
    this.writeHash();
  };

  proto.schedule = function () {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.applyNow(), DEBOUNCE_MS);
  };

  /** Read the inputs and apply them at once (the debounced path, and a hook for tests). */
  proto.applyNow = function () {
    clearTimeout(this.timer);
    const q = this.qInput.value, text = this.textInput.value;
    if (q !== this.state.q || text !== this.state.text) this.state.page = 1;
    this.state.q = q;
    this.state.text = text;
    this.apply(true);
  };

  // ------------------------------------------------------------------------- filtering

  /** The compiled query, or the last good one (and the error shown) when it does not parse. */
  proto.predicate = function () {
    const q = this.state.q;
    try {
      const fn = window.runsiteQuery.compile(q);
      this.lastGoodQuery = q;
      this.showError(null);
      return fn;
    } catch (err) {
      if (!(err instanceof window.runsiteQuery.QueryError)) throw err;
      this.showError(err);
      return window.runsiteQuery.compile(this.lastGoodQuery);
    }
  };

  proto.showError = function (err) {
    const box = this.errorBox;
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!err) {
      box.hidden = true;
      this.qInput.removeAttribute("aria-invalid");
      return;
    }
    this.qInput.setAttribute("aria-invalid", "true");
    box.hidden = false;
    const pos = err.position;
    const head = el("div", { className: "rt-error-msg" }, [
      el("b", { text: err.reason }),
      pos == null ? null : el("span", { className: "muted", text: ` at position ${pos}` }),
      el("span", { className: "muted", text: " · showing the last valid filter" }),
    ]);
    box.appendChild(head);
    if (pos != null) {
      const chars = Array.from(err.query);
      box.appendChild(el("pre", { className: "rt-caret mono" }, [
        document.createTextNode(chars.slice(0, pos).join("")),
        el("mark", { text: pos < chars.length ? chars[pos] : " " }),
        document.createTextNode(chars.slice(pos + 1).join("")),
      ]));
    }
  };

  proto.sortedRows = function () {
    const s = this.state.sort;
    if (!s) return this.rows;
    const key = s.ident + (s.desc ? " DESC" : " ASC");
    let sorted = this.sortedCache.get(key);
    if (!sorted) {
      try {
        // the sort is stable and filtering keeps the order: sort everything once per key
        sorted = window.runsiteQuery.sort(this.rows, [key]);
      } catch (e) {
        this.state.sort = null;
        return this.rows;
      }
      this.sortedCache.set(key, sorted);
    }
    return sorted;
  };

  proto.apply = function (writeHash) {
    const t0 = performance.now();
    const s = this.state;
    const pred = this.predicate();
    const text = s.text.trim().toLowerCase();
    const statuses = new Set(s.status), users = new Set(s.user);
    const statusCounts = new Map(), userCounts = new Map();
    const kept = [];
    for (const row of this.sortedRows()) {
      if (text && row.haystack.indexOf(text) < 0) continue;
      if (!pred(row)) continue;
      const st = row.attributes.status == null ? "" : String(row.attributes.status);
      const us = row.attributes.user == null ? "" : String(row.attributes.user);
      const okStatus = !statuses.size || statuses.has(st);
      const okUser = !users.size || users.has(us);
      if (okUser) statusCounts.set(st, (statusCounts.get(st) || 0) + 1);
      if (okStatus) userCounts.set(us, (userCounts.get(us) || 0) + 1);
      if (okStatus && okUser) kept.push(row);
    }
    this.kept = kept;
    this.renderFacets(statusCounts, userCounts);
    this.render();
    if (writeHash) this.writeHash();
    this.lastApplyMs = performance.now() - t0;
  };

  proto.renderFacets = function (statusCounts, userCounts) {
    const facet = (box, values, counts, chosen, key, pretty) => {
      while (box.firstChild) box.removeChild(box.firstChild);
      values.forEach((v) => {
        const input = el("input", { type: "checkbox", "data-facet": key, value: v });
        input.checked = chosen.indexOf(v) >= 0;
        input.addEventListener("change", () => {
          const list = this.state[key].filter((x) => x !== v);
          if (input.checked) list.push(v);
          this.state[key] = list;
          this.state.page = 1;
          this.apply(true);
        });
        const n = counts.get(v) || 0;
        const label = el("label", { className: "rt-check" + (n ? "" : " rt-zero") }, [
          input, pretty(v), el("span", { className: "rt-n", text: fmtInt(n) }),
        ]);
        box.appendChild(label);
      });
    };
    facet(this.statusBox, this.statusValues, statusCounts, this.state.status, "status",
      (v) => el("span", { className: "badge status-" + v.toLowerCase(), text: v.toLowerCase() || MISSING }));
    facet(this.userList, this.userValues, userCounts, this.state.user, "user",
      (v) => el("span", { text: v || MISSING }));
    const n = this.state.user.length;
    this.userSummary.textContent = n ? `User (${n})` : "User";
  };

  // ------------------------------------------------------------------------- rendering

  proto.render = function () {
    const s = this.state;
    const kept = this.kept;
    const pages = Math.max(1, Math.ceil(kept.length / PAGE_SIZE));
    s.page = Math.min(Math.max(1, s.page), pages);
    const start = (s.page - 1) * PAGE_SIZE;
    const slice = kept.slice(start, start + PAGE_SIZE);
    const heads = this.headers();
    this.heads = heads;

    // header
    const tr = el("tr");
    const all = el("input", { type: "checkbox", "aria-label": "Select the runs on this page",
      id: "rt-select-page" });
    all.checked = slice.length > 0 && slice.every((r) => this.selected.has(r.run_id));
    all.addEventListener("change", () => {
      slice.forEach((r) => (all.checked ? this.selected.add(r.run_id) : this.selected.delete(r.run_id)));
      this.render();
    });
    tr.appendChild(el("th", { className: "rt-sel" }, [all]));
    heads.forEach((h) => {
      const sorted = s.sort && h.ident && s.sort.ident === h.ident;
      const th = el("th", {
        className: [h.num ? "num" : "", h.className || ""].join(" ").trim() || null,
        title: h.title || null, scope: "col",
        "aria-sort": sorted ? (s.sort.desc ? "descending" : "ascending") : null,
        "data-ident": h.ident || null,
      });
      if (h.ident) {
        const b = el("button", { type: "button", className: "rt-sort", text: h.label });
        b.addEventListener("click", () => this.sortBy(h.ident));
        th.appendChild(b);
      } else {
        th.textContent = h.label;
      }
      tr.appendChild(th);
    });
    this.thead.replaceChildren ? this.thead.replaceChildren(tr) : replace(this.thead, tr);

    // body: only the current page
    const frag = document.createDocumentFragment();
    for (const row of slice) {
      const selected = this.selected.has(row.run_id);
      const rtr = el("tr", { "data-run": row.run_id, className: selected ? "rt-selected" : null });
      const box = el("input", { type: "checkbox", "data-select": row.run_id,
        "aria-label": "Select " + (row.attributes.run_name || row.run_id) });
      box.checked = selected;
      rtr.appendChild(el("td", { className: "rt-sel" }, [box]));
      for (const h of heads) {
        const td = el("td", { className: [h.num ? "num" : "", h.className || ""].join(" ").trim() || null });
        const v = h.cell(row);
        if (typeof v === "string") td.textContent = v;
        else td.appendChild(v);
        rtr.appendChild(td);
      }
      frag.appendChild(rtr);
    }
    replace(this.tbody, frag);
    this.empty.hidden = kept.length > 0;

    // count and pager
    const total = this.rows.length;
    let text = kept.length
      ? `Showing ${fmtInt(start + 1)}–${fmtInt(start + slice.length)} of ${fmtInt(kept.length)}`
      : "No runs match";
    if (kept.length !== total) text += ` (filtered from ${fmtInt(total)})`;
    this.count.textContent = text;
    this.pageLabel.textContent = `Page ${fmtInt(s.page)} of ${fmtInt(pages)}`;
    this.prev.disabled = s.page <= 1;
    this.next.disabled = s.page >= pages;
    Array.prototype.forEach.call(this.aggBox.children, (b) => {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-agg") === s.agg));
    });
    Array.prototype.forEach.call(this.colList.querySelectorAll("input[data-col]"), (b) => {
      b.checked = (s.cols || this.defaultCols).indexOf(b.getAttribute("data-col")) >= 0;
    });
    this.renderSelection();
  };

  proto.renderSelection = function () {
    const ids = Array.from(this.selected);
    const c = this.compare;
    c.textContent = `Compare selected (${ids.length})`;
    if (ids.length >= 2) {
      c.setAttribute("href", this.root + "compare.html#runs=" + ids.map(encodeURIComponent).join(","));
      c.setAttribute("aria-disabled", "false");
      c.classList.remove("rt-disabled");
    } else {
      c.removeAttribute("href");
      c.setAttribute("aria-disabled", "true");
      c.classList.add("rt-disabled");
    }
    this.clearSel.hidden = ids.length === 0;
    const all = document.getElementById("rt-select-page");
    if (all) {
      const rows = this.tbody.querySelectorAll("input[data-select]");
      const n = Array.prototype.filter.call(rows, (b) => b.checked).length;
      all.checked = rows.length > 0 && n === rows.length;
      all.indeterminate = n > 0 && n < rows.length;
    }
  };

  function replace(node, child) {
    while (node.firstChild) node.removeChild(node.firstChild);
    node.appendChild(child);
  }

  proto.sortBy = function (ident) {
    const s = this.state;
    if (s.sort && s.sort.ident === ident) s.sort = { ident: ident, desc: !s.sort.desc };
    else s.sort = { ident: ident, desc: false };
    s.page = 1;
    this.apply(true);
  };

  proto.writeHash = function () {
    const s = this.state;
    const p = new URLSearchParams();
    if (s.q) p.set("q", s.q);
    if (s.text) p.set("text", s.text);
    if (s.sort) p.set("sort", s.sort.ident + (s.sort.desc ? " DESC" : " ASC"));
    if (s.cols) p.set("cols", s.cols.map(escList).join(","));
    if (s.agg !== "last") p.set("agg", s.agg);
    if (s.page > 1) p.set("page", String(s.page));
    if (s.status.length) p.set("status", s.status.map(escList).join(","));
    if (s.user.length) p.set("user", s.user.map(escList).join(","));
    const hash = p.toString();
    const url = location.href.replace(/#[\s\S]*$/, "") + (hash ? "#" + hash : "");
    if (url === location.href) return;
    try {
      history.replaceState(history.state, "", hash ? "#" + hash : location.pathname + location.search);
    } catch (e) {
      this.ownHash = "#" + hash;
      location.hash = hash;
    }
  };

  /** The hash changed from outside (a pasted link, back/forward): show that state. */
  proto.readHashAgain = function () {
    if (this.ownHash && this.ownHash === location.hash) return;
    this.state = this.normalize(readHash());
    this.qInput.value = this.state.q;
    this.textInput.value = this.state.text;
    this.buildColumnChooser();
    this.apply(false);
  };

  // ------------------------------------------------------------------------- start

  function start(app) {
    const slug = app.getAttribute("data-slug");
    const data = findPayload(slug);
    if (!data || !data.runs || !window.runsiteQuery) {
      app.setAttribute("data-error", data ? "query.js or data/vocabulary.js is missing" : "no data");
      return;
    }
    const table = new RunsTable(app, data);
    const fallback = document.getElementById("runs-fallback");
    if (fallback) fallback.hidden = true;
    app.hidden = false;
    app.setAttribute("data-ready", "true");
    window.addEventListener("hashchange", () => table.readHashAgain());
    window.runsiteRunsTable = {
      table: table,
      applyNow: () => table.applyNow(),
      state: () => JSON.parse(JSON.stringify(table.state)),
      lastApplyMs: () => table.lastApplyMs,
      readyAt: performance.now(),
    };
    document.dispatchEvent(new CustomEvent("runsite:runs-ready"));
  }

  function init() {
    const app = document.getElementById("runs-app");
    if (!app) return;
    const slug = app.getAttribute("data-slug");
    if (findPayload(slug)) {
      start(app);
      return;
    }
    // the data file, from our own site: a <script> element works from file:// too
    const src = app.getAttribute("data-src");
    if (!src) return;
    const script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", () => start(app));
    script.addEventListener("error", () => app.setAttribute("data-error", "the data file did not load"));
    document.body.appendChild(script);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
