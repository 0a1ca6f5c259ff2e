/* runsite: how numbers, times and durations read on the site, the same as the Python
 * formatter (runsite.fmt) on the cases of tests/format_cases.json.
 *
 *   runsiteFormat.num(v)       -> Python's f"{v:.5g}"; NaN, ∞ and −∞ spelled out; "–" missing
 *   runsiteFormat.time(ms)     -> "2026-11-27 20:24 UTC"
 *   runsiteFormat.duration(ms) -> "4.2 s", "3 min 07 s", "2 h 05 min"
 *
 * Loaded by base.html on every page, before the page's own scripts (runs.js, compare.js).
 */
(function () {
  "use strict";

  const MISSING = "–";

  function stripZeros(s) {
    return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, "");
  }

  function num(v) {
    if (v === null || v === undefined) return MISSING;
    if (typeof v !== "number") return String(v);
    if (v !== v) return "NaN";
    if (v === Infinity) return "∞";
    if (v === -Infinity) return "−∞";
    if (v === 0) return Object.is(v, -0) ? "-0" : "0";
    const parts = v.toExponential(4).split("e");
    const exp = Number(parts[1]);
    if (exp < -4 || exp >= 5) {
      return stripZeros(parts[0]) + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
    }
    return stripZeros(v.toFixed(Math.max(0, 4 - exp)));
  }

  const pad = (n) => String(n).padStart(2, "0");

  function time(ms) {
    if (typeof ms !== "number" || !isFinite(ms)) return MISSING;
    const d = new Date(ms);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
  }

  function duration(ms) {
    if (typeof ms !== "number" || !isFinite(ms)) return MISSING;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    const total = Math.floor(s);
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    return h ? `${h} h ${pad(m)} min` : `${m} min ${pad(total % 60)} s`;
  }

  window.runsiteFormat = { MISSING, num, time, duration };
})();
