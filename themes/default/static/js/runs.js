/* runsite: the interactive runs table of an experiment page.
 *
 * Reads the experiment's manifest (data/experiments/<slug>.js, pushed onto
 * window.RUNSITE_DATA) and then the column chunks it needs
 * (data/experiments/<slug>/<column>-<chunk>.js), each with a <script> element added at run
 * time: that works from file://, where fetch does not (docs/site.md, "Data files"). A
 * filter or sort loads every chunk of the columns it names; a page of the table, the
 * chunks of its columns that hold its rows (none for the newest rows: the manifest's head
 * holds them); an experiment of one chunk loads everything at once. Rows are indexes into
 * the columns (oldest first, shown newest first), never 100,000 objects.
 *
 * Filters with the search language of runsite.search_runs (query.js), a free-text box and
 * status / user facets, sorts like order_by, pages 100 rows at a time and keeps its state
 * in location.hash. The server-rendered #runs-table stays as the no-JS fallback.
 *
 *   window.runsiteRunsTable.applyNow()  -> apply the inputs at once (no debounce); a
 *                                          Promise, settled once the table shows them
 *   #runs-app[data-ready]               -> set once the table has rendered
 *   #runs-app[data-busy]                -> present while chunks are loading
 *
 * No innerHTML: every node is built with textContent. No network beyond the data files.
 */
(function () {
  "use strict";

  const PAGE_SIZE = 100;
  const DEBOUNCE_MS = 100;
  const BUSY_MS = 300; // "Loading runs…" once chunks take longer than this
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

  const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  function bytesOf(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  /** Little-endian numbers of `width` bytes (8: float64) from base64. */
  function numbersOf(b64, width, count) {
    const raw = bytesOf(b64);
    if (width === 1) return raw;
    const Type = width === 8 ? Float64Array : width === 4 ? Uint32Array : Uint16Array;
    if (LITTLE_ENDIAN) return new Type(raw.buffer, 0, count);
    const view = new DataView(raw.buffer);
    const out = new Type(count);
    for (let i = 0; i < count; i++) {
      out[i] = width === 8 ? view.getFloat64(i * 8, true)
        : width === 4 ? view.getUint32(i * 4, true) : view.getUint16(i * 2, true);
    }
    return out;
  }

  /** A chunk as pushed by its file -> {rows, nums, missing} | {rows, codes, values} | {rows, list}. */
  function decodeChunk(p) {
    if (p.enc === "f64") {
      return { rows: p.rows, nums: numbersOf(p.data, 8, p.rows),
        missing: p.missing ? bytesOf(p.missing) : null };
    }
    if (p.enc === "dict") {
      return { rows: p.rows, codes: numbersOf(p.codes, p.width, p.rows), values: p.values };
    }
    return { rows: p.rows, list: p.values };
  }

  function chunkValue(c, j) {
    if (c.nums) return c.missing && (c.missing[j >> 3] >> (j & 7)) & 1 ? null : c.nums[j];
    if (c.codes) {
      const v = c.values[c.codes[j]];
      return v === undefined ? null : v;
    }
    const v = c.list[j];
    return v === undefined ? null : v;
  }

  /** One column of the table: its chunks as they arrive. */
  function Column(meta, source) {
    this.meta = meta;
    this.source = source;
    this.chunks = new Array(source.chunks).fill(null);
    this.head = null; // the newest rows (from the manifest), until their chunk is here
  }

  Column.prototype.value = function (i) {
    const src = this.source;
    const k = (i / src.chunkRows) | 0;
    const c = this.chunks[k];
    if (c) return chunkValue(c, i - k * src.chunkRows);
    return this.head && i >= src.headFirst ? chunkValue(this.head, i - src.headFirst) : null;
  };

  /** i -> fn(value(i)), fn called once per distinct value of a dictionary-coded chunk. */
  Column.prototype.lift = function (fn) {
    const size = this.source.chunkRows;
    const chunks = this.chunks;
    const tables = chunks.map((c) => (c && c.codes ? c.values.map(fn) : null));
    return (i) => {
      const k = (i / size) | 0;
      const c = chunks[k];
      if (!c) return fn(this.value(i)); // the head's rows, or missing
      const j = i - k * size;
      return tables[k] ? tables[k][c.codes[j]] : fn(chunkValue(c, j));
    };
  };

  // a key the experiment has no column for: missing in every run
  const NO_COLUMN = {
    value: () => null,
    lift: (fn) => {
      const v = fn(null);
      return () => v;
    },
  };

  const columnKey = (section, key, agg) =>
    section + "\0" + key + "\0" + (section === "metrics" ? agg || "last" : "");
  const SECTION_OF = { metric: "metrics", param: "params", tag: "tags", attribute: "attributes" };

  /** The experiment's columns and the <script> loading of their chunks. */
  function Source(manifest, root) {
    this.m = manifest;
    this.root = root;
    this.rows = manifest.rows;
    this.chunkRows = manifest.chunkRows;
    this.chunks = manifest.chunks;
    this.byKey = new Map();
    this.byFile = new Map();
    this.pending = new Map();
    manifest.columns.forEach((meta) => {
      const col = new Column(meta, this);
      this.byKey.set(columnKey(meta.section, meta.key, meta.agg), col);
      this.byFile.set(meta.file, col);
    });
    // an experiment of one chunk has its columns in the manifest
    (manifest.inline || []).forEach((p) => {
      const col = this.byFile.get(p.file);
      if (col) col.chunks[p.chunk] = decodeChunk(p);
    });
    // the newest rows of every column: the table's first page needs no chunk file
    this.headFirst = this.rows;
    (manifest.head || []).forEach((p) => {
      const col = this.byFile.get(p.file);
      if (!col || p.first + p.rows !== this.rows) return;
      col.head = decodeChunk(p);
      this.headFirst = p.first;
    });
  }

  Source.prototype.column = function (section, key, agg) {
    return this.byKey.get(columnKey(section, key, agg)) || null;
  };

  /** The column of a query identifier ({kind, key, agg}), or NO_COLUMN. */
  Source.prototype.resolve = function (ident) {
    return this.column(SECTION_OF[ident.kind], ident.key, ident.agg) || NO_COLUMN;
  };

  Source.prototype.allChunks = function () {
    return Array.from({ length: this.chunks }, (_, k) => k);
  };

  /** The chunks that hold the rows `indexes` (not the newest: the manifest's head has them). */
  Source.prototype.chunksOf = function (indexes) {
    const set = new Set();
    for (const i of indexes) if (i < this.headFirst) set.add((i / this.chunkRows) | 0);
    return Array.from(set);
  };

  /** null when every chunk `chunks` of `columns` is here, else a Promise of them all. */
  Source.prototype.ensure = function (columns, chunks) {
    const waits = [];
    for (const col of columns) {
      if (!col) continue;
      for (const k of chunks) if (!col.chunks[k]) waits.push(this.load(col, k));
    }
    return waits.length ? Promise.all(waits) : null;
  };

  Source.prototype.load = function (col, k) {
    const id = col.meta.file + "-" + k;
    let p = this.pending.get(id);
    if (p) return p;
    p = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = this.root + this.m.folder + encodeURIComponent(id) + ".js";
      script.addEventListener("load", () => {
        this.drain();
        script.remove();
        if (col.chunks[k]) resolve();
        else reject(new Error(`${id}.js did not hold its chunk`));
      });
      script.addEventListener("error", () => {
        this.pending.delete(id);
        script.remove();
        reject(new Error(`${id}.js did not load`));
      });
      document.body.appendChild(script);
    });
    this.pending.set(id, p);
    return p;
  };

  /** Take the chunks the loaded files pushed off RUNSITE_DATA (they are kept decoded). */
  Source.prototype.drain = function () {
    const list = window.RUNSITE_DATA || [];
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i];
      if (!p || p.kind !== "chunk" || p.slug !== this.m.slug) continue;
      list.splice(i, 1);
      const col = this.byFile.get(p.file);
      if (col && p.chunk >= 0 && p.chunk < this.chunks) col.chunks[p.chunk] = decodeChunk(p);
    }
  };

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

  // the attributes a row of the table shows (beside its chosen columns)
  const SHOWN_ATTRIBUTES = ["run_id", "run_name", "status", "start_time", "duration", "user",
    "commit", "dirty", "parent_run_id"];

  function RunsTable(app, manifest, source) {
    this.app = app;
    this.root = app.getAttribute("data-root") || "";
    this.data = manifest;
    this.source = source;
    // row indexes in the default order: newest first (the files hold the oldest first)
    this.rows = Array.from({ length: source.rows }, (_, i) => source.rows - 1 - i);
    this.resolve = (ident) => source.resolve(ident);
    this.keyMetric = manifest.keyMetric;
    this.goal = manifest.goal;
    this.sortedCache = new Map();
    this.selected = new Set();
    this.lastGoodQuery = "";
    this.timer = null;
    this.generation = 0;
    this.textIndex = null;

    const keysOf = (section) => manifest.columns
      .filter((c) => c.section === section && (section !== "metrics" || c.agg === "last"));
    const metricKeys = keysOf("metrics").map((c) => c.key).sort();
    if (this.keyMetric && metricKeys.indexOf(this.keyMetric) > 0) {
      metricKeys.splice(metricKeys.indexOf(this.keyMetric), 1);
      metricKeys.unshift(this.keyMetric);
    }
    const varying = new Set();
    const listed = (section) => keysOf(section).map((c) => {
      if (c.varies) varying.add(section + "." + c.key);
      return c.key;
    }).sort();
    const paramKeys = listed("params");
    const tagKeys = listed("tags");
    this.available = [].concat(
      metricKeys.map((k) => ({ id: "metrics." + k, section: "metrics", key: k })),
      paramKeys.map((k) => ({ id: "params." + k, section: "params", key: k })),
      tagKeys.map((k) => ({ id: "tags." + k, section: "tags", key: k })),
    );
    this.byId = new Map(this.available.map((c) => [c.id, c]));
    this.defaultCols = this.available
      .filter((c) => c.section === "metrics" || varying.has(c.id))
      .map((c) => c.id);

    const status = source.column("attributes", "status");
    const user = source.column("attributes", "user");
    this.statusCol = status || NO_COLUMN;
    this.userCol = user || NO_COLUMN;
    this.statusValues = countValues(this.rows, (i) => this.statusCol.value(i));
    this.userValues = countValues(this.rows, (i) => this.userCol.value(i));
    this.state = this.normalize(readHash());
    this.build();
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
    if (this.data.versions) {
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
    const done = () => this.writeHash();
    const wait = this.render();
    return wait ? wait.then(done) : done();
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
    return Promise.resolve(this.apply(true));
  };

  // ------------------------------------------------------------------------- filtering

  /** The filter to apply: the one typed, or the last good one (and the error shown) when
   * it does not parse; with the identifiers it names. */
  proto.chooseQuery = function () {
    const q = this.state.q;
    const Q = window.runsiteQuery;
    try {
      const idents = Q.identifiers(q);
      this.lastGoodQuery = q;
      this.showError(null);
      return { q: q, idents: idents };
    } catch (err) {
      if (!(err instanceof Q.QueryError)) throw err;
      this.showError(err);
      return { q: this.lastGoodQuery, idents: Q.identifiers(this.lastGoodQuery) };
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

  /** The sort clause of the state, or null when there is none or it does not parse. */
  proto.sortClause = function () {
    const s = this.state.sort;
    if (!s) return null;
    const key = s.ident + (s.desc ? " DESC" : " ASC");
    try {
      return { key: key, ident: window.runsiteQuery.parseOrderBy([key])[0].ident };
    } catch (e) {
      this.state.sort = null;
      return null;
    }
  };

  proto.sortedRows = function (clause) {
    if (!clause) return this.rows;
    let sorted = this.sortedCache.get(clause.key);
    if (!sorted) {
      // the sort is stable and filtering keeps the order: sort everything once per key
      sorted = window.runsiteQuery.sort(this.rows, [clause.key], this.resolve);
      this.sortedCache.set(clause.key, sorted);
    }
    return sorted;
  };

  /** Name (or id) and tag values of every row, lower-cased: what the text box searches. */
  proto.texts = function () {
    if (this.textIndex) return this.textIndex;
    const src = this.source;
    const name = src.column("attributes", "run_name") || NO_COLUMN;
    const tags = this.data.columns.filter((c) => c.section === "tags")
      .map((c) => src.column("tags", c.key));
    const out = new Array(src.rows);
    for (let i = 0; i < src.rows; i++) {
      const n = name.value(i);
      let t = n == null ? "" : String(n);
      for (const col of tags) {
        const v = col.value(i);
        if (v != null) t += "\n" + v;
      }
      out[i] = t.toLowerCase();
    }
    this.textIndex = out;
    return out;
  };

  proto.busy = function (on) {
    clearTimeout(this.busyTimer);
    if (on) {
      this.app.setAttribute("data-busy", "true");
      // said only when the wait is long: a change above the table re-lays out the page,
      // a frame (tens of ms at 100,000 runs) that a short load would otherwise wait for
      this.busyTimer = setTimeout(() => (this.count.textContent = "Loading runs…"), BUSY_MS);
    } else {
      this.app.removeAttribute("data-busy");
    }
  };

  proto.failed = function (err) {
    this.busy(false);
    this.app.setAttribute("data-error", String(err && err.message || err));
    this.count.textContent = "Some of the table's data files did not load: " + (err && err.message || err);
  };

  /** Filter, sort, count facets and show the page: at once when the columns it needs are
   * loaded, else once they are (a Promise). A later call supersedes a pending one. */
  proto.apply = function (writeHash) {
    const t0 = performance.now();
    const generation = ++this.generation;
    const chosen = this.chooseQuery();
    const clause = this.sortClause();
    const src = this.source;
    const need = chosen.idents.map((id) => src.resolve(id));
    if (clause) need.push(src.resolve(clause.ident));
    if (this.state.text.trim()) {
      need.push(src.column("attributes", "run_name"));
      this.data.columns.forEach((c) => c.section === "tags" && need.push(src.column("tags", c.key)));
    }
    const wait = src.ensure(need.filter((c) => c !== NO_COLUMN), src.allChunks());
    if (!wait) return this.applyLoaded(chosen.q, clause, writeHash, t0);
    this.busy(true);
    return wait.then(() => {
      if (generation === this.generation) return this.applyLoaded(chosen.q, clause, writeHash, t0);
      return undefined;
    }, (err) => this.failed(err));
  };

  proto.applyLoaded = function (q, clause, writeHash, t0) {
    const s = this.state;
    const pred = window.runsiteQuery.compileColumns(q, this.resolve);
    const text = s.text.trim().toLowerCase();
    const texts = text ? this.texts() : null;
    const statuses = new Set(s.status), users = new Set(s.user);
    const statusCounts = new Map(), userCounts = new Map();
    const statusOf = this.statusCol, userOf = this.userCol;
    const kept = [];
    for (const row of this.sortedRows(clause)) {
      if (texts && texts[row].indexOf(text) < 0) continue;
      if (!pred(row)) continue;
      const sv = statusOf.value(row), uv = userOf.value(row);
      const st = sv == null ? "" : String(sv);
      const us = uv == null ? "" : String(uv);
      const okStatus = !statuses.size || statuses.has(st);
      const okUser = !users.size || users.has(us);
      if (okUser) statusCounts.set(st, (statusCounts.get(st) || 0) + 1);
      if (okStatus) userCounts.set(us, (userCounts.get(us) || 0) + 1);
      if (okStatus && okUser) kept.push(row);
    }
    this.kept = kept;
    this.renderFacets(statusCounts, userCounts);
    const done = () => {
      if (writeHash) this.writeHash();
      this.lastApplyMs = performance.now() - t0;
    };
    const wait = this.render();
    return wait ? wait.then(done) : done();
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

  /** The chunks the current page shows: the shown attributes and chosen columns, for the
   * page's rows. */
  proto.pageSlice = function () {
    const s = this.state;
    const pages = Math.max(1, Math.ceil(this.kept.length / PAGE_SIZE));
    s.page = Math.min(Math.max(1, s.page), pages);
    const start = (s.page - 1) * PAGE_SIZE;
    return { pages: pages, start: start, rows: this.kept.slice(start, start + PAGE_SIZE) };
  };

  proto.shownColumns = function () {
    const src = this.source;
    const cols = SHOWN_ATTRIBUTES.map((a) => src.column("attributes", a));
    this.columns().forEach((c) => cols.push(src.column(c.section, c.key, this.state.agg)));
    return cols;
  };

  /** Draw the current page, at once when its chunks are here, else once they are. */
  proto.render = function () {
    const slice = this.pageSlice();
    const wait = this.source.ensure(this.shownColumns(), this.source.chunksOf(slice.rows));
    if (!wait) {
      this.draw();
      this.busy(false);
      return undefined;
    }
    this.busy(true);
    const generation = this.generation;
    return wait.then(() => {
      if (generation !== this.generation) return;
      this.draw();
      this.busy(false);
    }, (err) => this.failed(err));
  };

  /** Row i with every attribute of the vocabulary (in its order), as Python's to_row();
   * the chunks holding it must be loaded. */
  proto.row = function (i) {
    const attributes = {};
    window.runsiteQuery.VOCABULARY.attributes.forEach((a) => {
      const col = this.source.column("attributes", a.name);
      attributes[a.name] = col ? col.value(i) : null;
    });
    return { run_id: attributes.run_id, attributes: attributes };
  };

  /** One row of the page as the cells read it (only the columns shown). */
  proto.rowView = function (i) {
    const src = this.source;
    const value = (section, key, agg) => {
      const col = src.column(section, key, agg);
      return col ? col.value(i) : null;
    };
    const attributes = {};
    SHOWN_ATTRIBUTES.forEach((a) => (attributes[a] = value("attributes", a)));
    const row = { index: i, run_id: attributes.run_id, attributes: attributes,
      params: {}, tags: {}, metrics: {},
      url: this.data.runPage[0] + attributes.run_id + this.data.runPage[1],
      versions: this.data.versions ? this.data.versions[String(i)] || null : null };
    const agg = this.state.agg;
    this.columns().forEach((c) => {
      if (c.section === "metrics") row.metrics[c.key] = { [agg]: value("metrics", c.key, agg) };
      else row[c.section][c.key] = value(c.section, c.key);
    });
    return row;
  };

  proto.draw = function () {
    const s = this.state;
    const kept = this.kept;
    const page = this.pageSlice();
    const pages = page.pages, start = page.start;
    const slice = page.rows.map((i) => this.rowView(i));
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
    return this.apply(true);
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
    if (!data || !data.columns || !window.runsiteQuery) {
      app.setAttribute("data-error", data ? "query.js or data/vocabulary.js is missing" : "no data");
      return;
    }
    const source = new Source(data, app.getAttribute("data-root") || "");
    // The facets count every run: status and user come first. An experiment of one chunk
    // loads all its columns now, so that nothing the table does later waits.
    const first = source.chunks <= 1
      ? Array.from(source.byKey.values())
      : [source.column("attributes", "status"), source.column("attributes", "user")];
    const ready = () => {
      const table = new RunsTable(app, data, source);
      const shown = () => {
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
        // The first page came from the manifest's head; a filtered page shows the newest
        // matches, mostly in the last chunk: load it for the shown columns in the background.
        const wait = data.head && source.chunks > 1
          ? source.ensure(table.shownColumns(), [source.chunks - 1]) : null;
        if (wait) wait.catch(() => undefined); // a real need loads it again and says so
      };
      const wait = table.apply(false);
      if (wait) wait.then(shown);
      else shown();
    };
    const wait = source.ensure(first, source.allChunks());
    if (wait) {
      wait.then(ready, (err) => app.setAttribute("data-error", String(err && err.message || err)));
    } else {
      ready();
    }
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

  // The page puts this script after #runs-app: start at once, not at DOMContentLoaded,
  // which waits for the chart scripts that follow (vega: most of a second on a busy
  // machine before the table could show).
  if (document.readyState !== "loading" || document.getElementById("runs-app")) init();
  else document.addEventListener("DOMContentLoaded", init);
})();
