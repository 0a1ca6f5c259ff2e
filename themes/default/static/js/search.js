/* runsite: the global search box in the header of every page.
 *
 * Reads the index that data/search.js pushes onto window.RUNSITE_DATA:
 *   {kind: "search", entries: [[kind, title, detail, url, text], ...], parts?: [path, ...]}
 * (url relative to the site root, text lower-cased) and, when it names parts (a site of
 * many runs), the runs' entries that each part pushes: {kind: "search-part", part: k,
 * entries: [...]} (oldest runs first; shown newest first, as in a one-file index).
 * Every whitespace-separated query term must be a substring of an entry's text; ranking:
 * title starts with the query > title contains it > text only; at most PER_KIND results
 * per kind, grouped by kind.
 *
 * CSP-safe: no eval, no inline handlers, no innerHTML (titles are untrusted: textContent).
 * No network: the index is a <script src> file, so it works from file:// too. It is added
 * to the page after the page has loaded (or at once when the box gets the focus): with
 * 100,000 runs the index is tens of MB, and no page waits for it to show.
 * window.runsiteSearch.query(text) returns the grouped results (used by the tests); it is
 * defined once the index has loaded.
 */
(function () {
  "use strict";

  var KINDS = ["experiment", "metric", "run", "model", "version", "dataset"];
  var HEADINGS = {
    experiment: "Experiments", metric: "Metrics", run: "Runs", model: "Models",
    version: "Versions", dataset: "Datasets"
  };
  var PER_KIND = 8;
  var DEBOUNCE_MS = 60;
  var MAX_QUERY = 200;

  /* ------------------------------------------------------------------ the index */

  var index = null;  /* built once, on first use */

  function pushed(test) {
    var data = window.RUNSITE_DATA;
    if (!data || typeof data.length !== "number") return null;
    for (var i = data.length - 1; i >= 0; i--) {
      var d = data[i];
      if (d && Array.isArray(d.entries) && test(d)) return d;
    }
    return null;
  }

  function findHead() {
    return pushed(function (d) { return d.kind === "search"; });
  }

  function partNames(head) {
    return Array.isArray(head.parts) ? head.parts.filter(function (p) {
      return typeof p === "string";
    }) : [];
  }

  /** Every entry, or null until the index and each of its parts are here. */
  function findEntries() {
    var head = findHead();
    if (!head) return null;
    var parts = partNames(head);
    if (!parts.length) return head.entries;
    var runs = [];
    for (var k = parts.length - 1; k >= 0; k--) {
      var part = pushed(function (d) { return d.kind === "search-part" && d.part === k; });
      if (!part) return null;
      for (var j = part.entries.length - 1; j >= 0; j--) runs.push(part.entries[j]);
    }
    return head.entries.concat(runs);
  }

  function str(v) { return v === null || v === undefined ? "" : String(v); }

  var waiting = null;  /* callbacks while data/search.js loads; null when not loading */
  var failed = false;

  /** Load data/search.js once (a <script> element: fetch fails from file://), then call
   * then(); at once when the index is here. */
  function loadIndex(root, then) {
    if (findEntries() || failed) { then(); return; }
    if (waiting) { waiting.push(then); return; }
    waiting = [then];
    var done = function () {
      var calls = waiting;
      waiting = null;
      calls.forEach(function (f) { f(); });
    };
    var fail = function () { failed = true; done(); };
    addScript(root + "data/search.js", function () {
      var head = findHead();
      var parts = head ? partNames(head) : [];
      var left = parts.length;
      if (!left) { done(); return; }
      /* the parts load side by side; one that cannot load makes the index unavailable
       * (a search that silently missed runs would be worse) */
      parts.forEach(function (p) {
        addScript(root + p, function () { if (left > 0 && --left === 0) done(); }, function () {
          if (left < 0) return;
          left = -1;
          fail();
        });
      });
    }, fail);
  }

  function addScript(src, onload, onerror) {
    var script = document.createElement("script");
    script.src = src;
    script.addEventListener("load", onload);
    script.addEventListener("error", onerror);
    document.body.appendChild(script);
  }

  function buildIndex() {
    if (index) return index;
    var entries = findEntries();
    if (!entries) return null;
    var n = entries.length;
    var idx = {
      size: n,
      kind: new Array(n), title: new Array(n), titleLower: new Array(n),
      detail: new Array(n), url: new Array(n), text: new Array(n)
    };
    for (var i = 0; i < n; i++) {
      var e = Array.isArray(entries[i]) ? entries[i] : [];
      var title = str(e[1]);
      idx.kind[i] = str(e[0]);
      idx.title[i] = title;
      idx.titleLower[i] = title.toLowerCase();
      idx.detail[i] = str(e[2]);
      idx.url[i] = str(e[3]);
      /* text is documented lower-case; lowering again is cheap and makes sure */
      idx.text[i] = str(e[4]).toLowerCase();
    }
    index = idx;
    return index;
  }

  function normalise(q) {
    return str(q).slice(0, MAX_QUERY).toLowerCase().trim().replace(/\s+/g, " ");
  }

  /* Grouped results: [{kind, heading, total, items: [{kind, title, detail, url}]}] in the
   * order of KINDS, only kinds with matches. null when there is no index. */
  function search(query) {
    var idx = buildIndex();
    if (!idx) return null;
    var q = normalise(query);
    if (!q) return [];
    var terms = q.split(" ");
    var nt = terms.length;
    var groups = {};
    for (var k = 0; k < KINDS.length; k++) {
      groups[KINDS[k]] = { total: 0, buckets: [[], [], []] };
    }
    var text = idx.text, titleLower = idx.titleLower, kinds = idx.kind;
    outer:
    for (var i = 0; i < idx.size; i++) {
      var t = text[i];
      for (var j = 0; j < nt; j++) {
        if (t.indexOf(terms[j]) === -1) continue outer;
      }
      var g = groups[kinds[i]];
      if (!g) continue;  /* an unknown kind */
      g.total++;
      var tl = titleLower[i];
      var pos = tl.indexOf(q);
      var rank = pos === 0 ? 0 : pos > 0 ? 1 : 2;
      var bucket = g.buckets[rank];
      if (bucket.length < PER_KIND) bucket.push(i);
    }
    var out = [];
    for (var m = 0; m < KINDS.length; m++) {
      var kind = KINDS[m], grp = groups[kind];
      if (!grp.total) continue;
      var ids = grp.buckets[0].concat(grp.buckets[1], grp.buckets[2]).slice(0, PER_KIND);
      out.push({
        kind: kind,
        heading: HEADINGS[kind],
        total: grp.total,
        items: ids.map(function (x) {
          return { kind: kind, title: idx.title[x], detail: idx.detail[x], url: idx.url[x] };
        })
      });
    }
    return out;
  }

  /* A site-relative URL as a link from this page: each path segment percent-encoded (file
   * names are written raw: a model "a#b" is models/a#b.html), the #fragment kept. Anything
   * with a scheme or leaving the site is refused. */
  function href(root, url) {
    var hash = url.indexOf("#");
    var path = hash === -1 ? url : url.slice(0, hash);
    var frag = hash === -1 ? "" : url.slice(hash);
    if (!path || /^[a-z][a-z0-9+.-]*:/i.test(path) || path.charAt(0) === "/" ||
        path.charAt(0) === "\\") return null;
    var segs = path.split("/");
    for (var i = 0; i < segs.length; i++) {
      if (segs[i] === "..") return null;
      segs[i] = encodeURIComponent(segs[i]);
    }
    return root + segs.join("/") + frag;
  }

  /* ------------------------------------------------------------------ the box */

  function init() {
    var box = document.getElementById("site-search");
    var input = document.getElementById("site-search-input");
    var list = document.getElementById("site-search-results");
    if (!box || !input || !list) return;
    var root = input.getAttribute("data-root") || "";
    if (root && !/^(\.\.\/)+$/.test(root)) root = "";  /* only ever "" or "../../" */

    var options = [];   /* the <a> elements shown, in order */
    var active = -1;
    var timer = null;
    var shownQuery = null;

    function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

    function el(tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined) e.textContent = text;
      return e;
    }

    /* the title with the query terms marked, built from text nodes only */
    function titleNode(title, terms) {
      var span = el("span", "gs-title");
      var lower = title.toLowerCase();
      if (lower.length !== title.length) { span.textContent = title; return span; }
      var marks = [];
      terms.forEach(function (term) {
        var from = 0, p;
        while (term && (p = lower.indexOf(term, from)) !== -1) {
          marks.push([p, p + term.length]);
          from = p + term.length;
        }
      });
      marks.sort(function (a, b) { return a[0] - b[0]; });
      var pos = 0;
      marks.forEach(function (r) {
        var start = Math.max(r[0], pos);
        if (r[1] <= start) return;
        if (start > pos) span.appendChild(document.createTextNode(title.slice(pos, start)));
        span.appendChild(el("mark", null, title.slice(start, r[1])));
        pos = r[1];
      });
      if (pos < title.length) span.appendChild(document.createTextNode(title.slice(pos)));
      return span;
    }

    function setActive(i) {
      if (active >= 0 && options[active]) {
        options[active].classList.remove("gs-active");
        options[active].setAttribute("aria-selected", "false");
      }
      active = i;
      if (active >= 0 && options[active]) {
        var a = options[active];
        a.classList.add("gs-active");
        a.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", a.id);
        if (a.scrollIntoView) a.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      if (timer !== null) { clearTimeout(timer); timer = null; }
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function render() {
      timer = null;
      var raw = input.value;
      var q = normalise(raw);
      if (!q) { shownQuery = ""; clear(list); options = []; close(); return; }
      if (q === shownQuery && options.length) { open(); return; }
      shownQuery = q;
      var groups = search(q);
      clear(list);
      options = [];
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (groups === null && waiting) {
        shownQuery = null;  /* drawn again once the index is here */
        list.appendChild(el("div", "gs-empty", "Loading the search index\u2026"));
      } else if (groups === null) {
        list.appendChild(el("div", "gs-empty", "The search index is not available (data/search.js)."));
      } else if (!groups.length) {
        list.appendChild(el("div", "gs-empty", "No results for \u201c" + raw.trim() + "\u201d"));
      } else {
        var terms = q.split(" ");
        groups.forEach(function (g) {
          var group = el("div", "gs-group");
          group.setAttribute("role", "group");
          var head = el("div", "gs-head", g.heading);
          head.id = "site-search-h-" + g.kind;
          head.setAttribute("role", "presentation");
          if (g.total > g.items.length) {
            head.appendChild(el("span", "gs-count", g.items.length + " of " + g.total));
          }
          group.setAttribute("aria-labelledby", head.id);
          group.appendChild(head);
          g.items.forEach(function (item) {
            var link = href(root, item.url);
            if (link === null) return;
            var a = el("a", "gs-item");
            a.href = link;
            a.id = "site-search-opt-" + options.length;
            a.setAttribute("role", "option");
            a.setAttribute("aria-selected", "false");
            a.setAttribute("tabindex", "-1");
            a.setAttribute("data-kind", item.kind);
            a.appendChild(titleNode(item.title || "(untitled)", terms));
            if (item.detail) a.appendChild(el("span", "gs-detail", item.detail));
            var n = options.length;
            a.addEventListener("mousemove", function () { if (active !== n) setActive(n); });
            options.push(a);
            group.appendChild(a);
          });
          list.appendChild(group);
        });
      }
      open();
    }

    function schedule() {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(render, DEBOUNCE_MS);
    }

    function flush() {
      if (timer !== null) { clearTimeout(timer); render(); }
    }

    function go(a) {
      close();
      window.location.href = a.href;
    }

    input.addEventListener("input", schedule);
    input.addEventListener("focus", function () {
      loadIndex(root, function () {
        buildIndex();  /* precompute while the user types the first letter */
        if (normalise(input.value)) { shownQuery = null; render(); }
      });
    });
    input.addEventListener("keydown", function (e) {
      if (e.isComposing) return;
      var key = e.key;
      if (key === "ArrowDown" || key === "ArrowUp") {
        e.preventDefault();
        flush();
        if (list.hidden) { if (normalise(input.value)) render(); else return; }
        if (!options.length) return;
        var step = key === "ArrowDown" ? 1 : -1;
        var next = active + step;
        if (next >= options.length) next = 0;
        if (next < 0) next = options.length - 1;
        setActive(next);
      } else if (key === "Enter") {
        flush();
        if (list.hidden || !options.length) return;
        e.preventDefault();
        go(options[active >= 0 ? active : 0]);
      } else if (key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
        else if (input.value) { e.preventDefault(); input.value = ""; shownQuery = null; }
        else input.blur();
      }
    });

    /* a click on a result: close first so that going back shows the page, not the list */
    list.addEventListener("click", function (e) {
      var a = e.target && e.target.closest ? e.target.closest("a.gs-item") : null;
      if (a && !e.defaultPrevented && e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
        close();
      }
    });
    /* keep the focus in the box when clicking inside the list (not on a link) */
    list.addEventListener("mousedown", function (e) {
      if (!(e.target && e.target.closest && e.target.closest("a"))) e.preventDefault();
    });

    document.addEventListener("mousedown", function (e) {
      if (!list.hidden && !box.contains(e.target)) close();
    });
    box.addEventListener("focusout", function (e) {
      if (e.relatedTarget && !box.contains(e.relatedTarget)) close();
    });

    document.addEventListener("keydown", function (e) {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      var t = e.target;
      if (t && t.nodeType === 1) {
        var tag = t.tagName;
        if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || t.isContentEditable) return;
      }
      e.preventDefault();
      input.focus();
      input.select();
    });

    /* restored from the back/forward cache: the list may still be open */
    window.addEventListener("pageshow", function () { close(); });

    var publish = function () {
      window.runsiteSearch = {
        query: search,
        href: href,
        kinds: KINDS.slice(),
        size: function () { var idx = buildIndex(); return idx ? idx.size : 0; }
      };
    };
    var later = function () { setTimeout(function () { loadIndex(root, publish); }, 0); };
    if (document.readyState === "complete") later();
    else window.addEventListener("load", later);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
