/* runsite: the search language of runsite.search_runs (docs/search.md), for the runs table.
 *
 * A port of src/runsite/search.py: the same tokens, grammar, three-valued evaluation and
 * ordering, and the same error messages and positions. Both run tests/search_cases.json
 * (tests/test_search.py, tests/test_query_js.py); change them together.
 *
 *   runsiteQuery.parse(query)          -> AST {type: Comparison | And | Or | Not | MatchAll}
 *   runsiteQuery.compile(query)        -> function (row) -> boolean, compiled once (cached)
 *   runsiteQuery.filter(rows, query)   -> the rows kept, in their order
 *   runsiteQuery.sort(rows, orderBy)   -> a sorted copy; orderBy: ["metrics.rmse DESC", ...]
 *   runsiteQuery.compileColumns(query, resolve), sort(rows, orderBy, resolve)
 *                                      -> the same over rows that are column indexes
 *       (runs.js: 100,000 runs, no row objects); resolve(ident) -> {value(i), lift(fn)}
 *   runsiteQuery.identifiers(query)    -> the {kind, key, agg} a filter names (what to load)
 *   runsiteQuery.search(rows, query, orderBy, maxResults)
 *   runsiteQuery.VOCABULARY            -> data/vocabulary.js: the run attributes (name, type,
 *       column in the data files), their aliases and the dataset fields
 *   runsiteQuery.QueryError            -> .message (= Python's str(err)), .reason (no caret),
 *       .query, .position (in code points, as Python counts) and .offset (the same place in
 *       UTF-16 units, for input.setSelectionRange)
 * Rows: {run_id, attributes: {...}, params: {k: str}, tags: {k: str},
 *        metrics: {k: {last, min, max, count}}}, NaN and Infinity as JS numbers.
 *
 * Known differences from Python, all outside what a store writes:
 *  - Unicode data is the browser's (\p{L}, \p{N}, toLowerCase) and Python's unicodedata:
 *    characters new in one Unicode version may differ in being letters, in repr() escaping
 *    and in ILIKE lowercasing. Engines without \p{...} (pre-2018) see non-ASCII letters by
 *    their case, no non-ASCII digits, and escape only ASCII controls in messages.
 *  - Non-string params/tags/text attributes become text with String() (Python's str():
 *    1.0 -> "1.0" there, "1" here; booleans are mimicked as "True"/"False").
 *  - Lone surrogates sort after U+E000..U+FFFF here, before them in Python.
 *  - A filter of only non-ASCII whitespace (U+00A0, U+3000, U+0085...) is an error, as in
 *    Python's parse(); Python's filter_rows() strips it away and keeps every run.
 */
(function () {
  "use strict";

  const PREFIXES = new Map([
    ["metrics", "metric"], ["metric", "metric"], ["params", "param"], ["param", "param"],
    ["tags", "tag"], ["tag", "tag"], ["attributes", "attribute"], ["attribute", "attribute"],
  ]);
  const PREFIX_HINT = "use metrics., params., tags., attributes. or datasets.";
  const SECTIONS = { param: "params", tag: "tags" };
  const AGGREGATES = ["last", "min", "max", "count"];
  // The run attributes, their types and aliases: runsite.attributes, which the build writes
  // to data/vocabulary.js (loaded before this file). No list of our own to drift.
  const VOCABULARY = (window.RUNSITE_DATA || []).filter((p) => p && p.kind === "vocabulary").pop();
  if (!VOCABULARY) {
    throw new Error("query.js: load data/vocabulary.js (the run attributes) before it");
  }
  const ATTRIBUTES = VOCABULARY.attributes.map((a) => a.name);
  const NUMERIC_ATTRIBUTES = new Set(VOCABULARY.attributes
    .filter((a) => VOCABULARY.numericTypes.indexOf(a.type) >= 0).map((a) => a.name));
  const ALIASES = new Map(Object.entries(VOCABULARY.aliases));
  const SPACE = " \t\n\r\f\v";
  const KEYWORDS = new Set(["AND", "OR", "NOT", "LIKE", "ILIKE", "IN", "IS", "NULL"]);
  const OPERATORS = ["==", "!=", "<>", "<=", ">=", "=", "<", ">"]; // longest first
  const SAME_OPERATOR = { "==": "=", "<>": "!=" };
  // Parentheses and NOTs nest at most this deep (search.py's MAX_DEPTH): a filter may come
  // from a shared link's URL, and the parser and evaluation are recursive.
  const MAX_DEPTH = 100;
  // The strict form a param or tag string must have to take part in a numeric comparison.
  const STRICT_NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  const hasOwn = Object.prototype.hasOwnProperty;

  // ------------------------------------------------------------------------- characters

  // Unicode property escapes are ES2018: built from strings, so the file parses as ES2017.
  let UNICODE = null;
  try {
    UNICODE = {
      letter: new RegExp("^\\p{L}$", "u"),
      word: new RegExp("^[\\p{L}\\p{N}_]$", "u"),
      // Python's str.isprintable() is false for the categories C* and Z* (but space)
      unprintable: new RegExp("^[\\p{C}\\p{Z}]$", "u"),
    };
  } catch (e) { /* an older engine: the approximations below */ }

  const isAsciiChar = (c) => c.length === 1 && c.charCodeAt(0) < 0x80;
  const isAscii = (s) => /^[\x00-\x7f]*$/.test(s);
  const isDigit = (c) => c !== undefined && c.length === 1 && c >= "0" && c <= "9";
  const isKeyChar = (c) => c === "-" || c === "." || c === "/" || isWordChar(c);
  /** The index of the first character from i on that fails test (or the length). */
  const skip = (s, i, test) => {
    while (i < s.length && test(s[i])) i++;
    return i;
  };
  const hex = (code, width) => code.toString(16).padStart(width, "0");

  /** unicodedata.category(c)[0] == "L" (c is one code point). */
  function isLetter(c) {
    if (isAsciiChar(c)) return /[A-Za-z]/.test(c);
    return UNICODE ? UNICODE.letter.test(c) : c.toLowerCase() !== c.toUpperCase();
  }

  /** "_" or a letter or number (categories L and N). */
  function isWordChar(c) {
    if (isAsciiChar(c)) return /[A-Za-z0-9_]/.test(c);
    return UNICODE ? UNICODE.word.test(c) : isLetter(c);
  }

  /** Python's repr() of a str. */
  function repr(s) {
    const quote = s.indexOf("'") >= 0 && s.indexOf('"') < 0 ? '"' : "'";
    let out = quote;
    for (const c of s) {
      const code = c.codePointAt(0);
      if (c === quote || c === "\\") out += "\\" + c;
      else if (c === "\t") out += "\\t";
      else if (c === "\n") out += "\\n";
      else if (c === "\r") out += "\\r";
      else if (code < 0x20 || code === 0x7f) out += "\\x" + hex(code, 2);
      else if (code < 0x7f) out += c;
      else if (UNICODE ? !UNICODE.unprintable.test(c) : code > 0x9f) out += c;
      else if (code <= 0xff) out += "\\x" + hex(code, 2);
      else if (code <= 0xffff) out += "\\u" + hex(code, 4);
      else out += "\\U" + hex(code, 8);
    }
    return out + quote;
  }

  /** -1, 0 or 1: a and b compared by code point, as Python compares str (JS's < compares
   * UTF-16 units, which puts U+10000.. before U+E000..U+FFFF). */
  function compareText(a, b) {
    if (a === b) return 0;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      let x = a.charCodeAt(i);
      let y = b.charCodeAt(i);
      if (x !== y) {
        if (x >= 0xd800 && y >= 0xd800) {
          // move surrogates (astral code points) above the rest of the BMP
          x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
          y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
        }
        return x < y ? -1 : 1;
      }
    }
    return a.length < b.length ? -1 : 1;
  }

  function compareValues(a, b) {
    if (typeof a === "string" && typeof b === "string") return compareText(a, b);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  // ------------------------------------------------------------------------- errors

  class QueryError extends Error {
    constructor(reason, query = "", position = null) {
      let message = reason;
      if (position !== null && query) {
        message = `${reason} (at position ${position})\n  ${query}\n  ${" ".repeat(position)}^`;
      }
      super(message);
      this.name = "QueryError";
      this.reason = reason;
      this.query = query;
      this.position = position;
      const before = position === null ? null : Array.from(query).slice(0, position);
      this.offset = before && before.join("").length;
    }
  }

  function describe(tok) {
    if (tok.kind === "end") return "the end of the input";
    const chars = Array.from(tok.text);
    return repr(chars.length <= 30 ? tok.text : chars.slice(0, 27).join("") + "...");
  }

  function checkString(value, what) {
    if (typeof value !== "string") {
      const type = value === null ? "null" : typeof value;
      throw new TypeError(`${what} must be a string, got ${type}`);
    }
  }

  // ------------------------------------------------------------------------- tokens

  const token = (kind, text, pos, value = null) => ({ kind, text, pos, value });
  const isOperatorAt = (s, i, op) => s[i] === op[0] && (op.length === 1 || s[i + 1] === op[1]);

  /** The end of the number literal -?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? at i, or -1. */
  function numberEnd(s, i) {
    let j = s[i] === "-" ? i + 1 : i;
    if (isDigit(s[j])) {
      j = skip(s, j, isDigit);
      if (s[j] === ".") j = skip(s, j + 1, isDigit);
    } else if (s[j] === "." && isDigit(s[j + 1])) {
      j = skip(s, j + 1, isDigit);
    } else {
      return -1;
    }
    if (s[j] === "e" || s[j] === "E") {
      const k = s[j + 1] === "+" || s[j + 1] === "-" ? j + 2 : j + 1;
      if (isDigit(s[k])) j = skip(s, k, isDigit);
    }
    return j;
  }

  /** The tokens of q; positions count code points (s holds one code point per item). */
  function tokenize(q) {
    const s = Array.from(q);
    const n = s.length;
    const text = (a, b) => s.slice(a, b).join("");
    const toks = [];
    let i = 0;
    while (i < n) {
      const c = s[i];
      let end, op;
      if (c.length === 1 && SPACE.indexOf(c) >= 0) {
        i += 1;
      } else if (c === "'" || c === '"') {
        const str = readString(s, q, i);
        toks.push(token("str", text(i, str.end), i, str.value));
        i = str.end;
      } else if (c === "(" || c === ")" || c === ",") {
        toks.push(token(c, c, i));
        i += 1;
      } else if ((end = numberEnd(s, i)) >= 0) {
        if (end < n && isKeyChar(s[end])) {
          end = skip(s, end, isKeyChar);
          throw new QueryError(`invalid number ${repr(text(i, end))}`, q, i);
        }
        toks.push(token("num", text(i, end), i, Number(text(i, end))));
        i = end;
      } else if ((op = OPERATORS.find((o) => isOperatorAt(s, i, o)))) {
        toks.push(token("op", op, i, SAME_OPERATOR[op] || op));
        i += op.length;
      } else if (c === "_" || isLetter(c)) {
        end = skip(s, i + 1, isWordChar);
        const word = text(i, end);
        const ascii = isAscii(word);
        const kind = ascii ? PREFIXES.get(word.toLowerCase()) : undefined;
        if (end < n && s[end] === ".") {
          if (kind === undefined && ascii && /^datasets?$/i.test(word)) {
            // runsite.search knows datasets.name/digest/context; the site's rows do not
            // carry the inputs, so the filter box says so instead of matching nothing.
            throw new QueryError(
              `${repr(word)} filters work in runsite runs search and search_runs, ` +
                "not in the site's filter box",
              q,
              i,
            );
          }
          if (kind === undefined) {
            throw new QueryError(`unknown prefix ${repr(word)}: ${PREFIX_HINT}`, q, i);
          }
          const key = readKey(s, q, end + 1, kind, i);
          toks.push(token("ident", text(i, key.end), i, key.ident));
          end = key.end;
        } else if (kind !== undefined) {
          throw new QueryError(`expected '.' and a key after ${repr(word)}`, q, end);
        } else {
          toks.push(token("word", word, i, ascii ? word.toUpperCase() : word));
        }
        i = end;
      } else {
        throw new QueryError(`unexpected character ${repr(c)}`, q, i);
      }
    }
    toks.push(token("end", "", n));
    return toks;
  }

  /** The quoted string at start; a doubled quote inside stands for one quote. */
  function readString(s, q, start) {
    const quote = s[start];
    let value = "";
    for (let i = start + 1; i < s.length; i++) {
      if (s[i] !== quote) value += s[i];
      else if (s[i + 1] === quote) value += s[i++];
      else return { value, end: i + 1 };
    }
    throw new QueryError("unterminated string", q, start);
  }

  /** The key after `prefix.` (at i): {ident: {kind, key, agg, pos}, end}. */
  function readKey(s, q, i, kind, start) {
    const n = s.length;
    let agg = "last", key, end;
    if (i < n && (s[i] === "`" || s[i] === '"')) {
      const close = s.indexOf(s[i], i + 1);
      if (close < 0) throw new QueryError("unterminated quoted key", q, i);
      key = s.slice(i + 1, close).join("");
      end = close + 1;
      if (!key) throw new QueryError("empty key", q, i);
      if (end < n && s[end] === ".") {
        if (kind !== "metric") {
          throw new QueryError("unexpected '.': only metrics take an aggregate", q, end);
        }
        const stop = skip(s, end + 1, isWordChar);
        const word = s.slice(end + 1, stop).join("");
        if (AGGREGATES.indexOf(word) < 0) {
          throw new QueryError("expected min, max, last or count after '.'", q, end + 1);
        }
        agg = word;
        end = stop;
      }
    } else {
      end = skip(s, i, isKeyChar);
      key = s.slice(i, end).join("");
      if (!key) {
        throw new QueryError(`expected a key after ${repr(s.slice(start, i).join(""))}`, q, i);
      }
      if (kind === "metric") {
        const dot = key.lastIndexOf(".");
        if (dot > 0 && AGGREGATES.indexOf(key.slice(dot + 1)) >= 0) {
          agg = key.slice(dot + 1);
          key = key.slice(0, dot);
        }
      }
    }
    if (kind === "attribute") {
      let name = isAscii(key) ? key.toLowerCase() : key;
      name = ALIASES.get(name) || name;
      if (ATTRIBUTES.indexOf(name) < 0) {
        const known = ATTRIBUTES.concat(Array.from(ALIASES.keys())).join(", ");
        throw new QueryError(`unknown attribute ${repr(key)} (known: ${known})`, q, start);
      }
      key = name;
    }
    return { ident: { kind: kind, key: key, agg: agg, pos: start }, end: end };
  }

  function isNumeric(ident) {
    if (ident.kind === "attribute") return NUMERIC_ATTRIBUTES.has(ident.key);
    return ident.kind === "metric";
  }

  /** The error for a token where an identifier (or a condition) should start. */
  function notAnIdentifier(tok, q, what) {
    if (tok.kind === "word" && !KEYWORDS.has(tok.value)) {
      const word = tok.text;
      const lower = word.toLowerCase();
      const hint = ATTRIBUTES.indexOf(lower) >= 0 || ALIASES.has(lower)
        ? `attributes.${word}`
        : `metrics.${word}, params.${word} or tags.${word}`;
      return new QueryError(`${repr(word)} needs a prefix: write ${hint}`, q, tok.pos);
    }
    return new QueryError(`expected ${what}, got ${describe(tok)}`, q, tok.pos);
  }

  // ------------------------------------------------------------------------- parsing

  class Parser {
    constructor(query) {
      this.q = query;
      this.toks = tokenize(query);
      this.i = 0;
      this.depth = 0;
    }

    /** Count one more level of nesting (a '(' or a NOT at tok). */
    enter(tok) {
      this.depth += 1;
      if (this.depth > MAX_DEPTH) {
        throw this.error(
          `too deeply nested: more than ${MAX_DEPTH} levels of parentheses and NOT`, tok);
      }
    }

    peek() { return this.toks[this.i]; }
    error(message, tok) { return new QueryError(message, this.q, tok.pos); }
    atWord(word) { return this.peek().kind === "word" && this.peek().value === word; }

    take() {
      const tok = this.toks[this.i];
      if (tok.kind !== "end") this.i += 1;
      return tok;
    }

    parse() {
      if (this.peek().kind === "end") return { type: "MatchAll" };
      const node = this.disjunction();
      const tok = this.peek();
      if (tok.kind === ")") {
        throw this.error("unbalanced parenthesis: ')' has no matching '('", tok);
      }
      if (tok.kind !== "end") {
        throw this.error(`expected AND, OR or the end, got ${describe(tok)}`, tok);
      }
      return node;
    }

    disjunction() { return this.chain("Or", "OR", () => this.conjunction()); }
    conjunction() { return this.chain("And", "AND", () => this.negation()); }

    /** item { word item }: {type, items}, or the item alone. */
    chain(type, word, item) {
      const items = [item()];
      while (this.atWord(word)) {
        this.take();
        items.push(item());
      }
      return items.length === 1 ? items[0] : { type: type, items: items };
    }

    negation() {
      if (this.atWord("NOT")) {
        this.enter(this.take());
        const node = { type: "Not", item: this.negation() };
        this.depth -= 1;
        return node;
      }
      return this.primary();
    }

    primary() {
      const tok = this.take();
      if (tok.kind === "(") {
        this.enter(tok);
        const node = this.disjunction();
        const close = this.take();
        if (close.kind === ")") {
          this.depth -= 1;
          return node;
        }
        if (close.kind === "end") {
          throw this.error("unbalanced parenthesis: '(' is never closed", tok);
        }
        throw this.error(`expected AND, OR or ')', got ${describe(close)}`, close);
      }
      if (tok.kind === "ident") return this.comparison(tok);
      throw notAnIdentifier(tok, this.q, "a condition such as metrics.rmse < 1");
    }

    comparison(identTok) {
      const ident = identTok.value;
      const make = (op, value) => ({ type: "Comparison", ident, op, value, pos: ident.pos });
      const tok = this.take();
      if (tok.kind === "op") return make(tok.value, this.literal(ident, tok.text).value);
      let word = tok.kind === "word" ? tok.value : null;
      const negated = word === "NOT";
      if (negated) {
        const next = this.take();
        if (!(next.kind === "word" && ["LIKE", "ILIKE", "IN"].indexOf(next.value) >= 0)) {
          throw this.error(`expected LIKE, ILIKE or IN after NOT, got ${describe(next)}`, next);
        }
        word = next.value;
      }
      const prefix = negated ? "NOT " : "";
      if (word === "LIKE" || word === "ILIKE") {
        if (isNumeric(ident)) {
          throw this.error(`${word} needs text; ${identTok.text} is a number`, tok);
        }
        const pattern = this.take();
        if (pattern.kind !== "str") {
          throw this.error(`expected a quoted pattern, got ${describe(pattern)}`, pattern);
        }
        return make(prefix + word, pattern.value);
      }
      if (word === "IN") return make(prefix + "IN", this.inList(ident));
      if (word === "IS") {
        let next = this.take();
        const not = next.kind === "word" && next.value === "NOT";
        if (not) next = this.take();
        const op = not ? "IS NOT NULL" : "IS NULL";
        if (!(next.kind === "word" && next.value === "NULL")) {
          throw this.error(`expected NULL after ${op.slice(0, -5)}, got ${describe(next)}`, next);
        }
        return make(op, null);
      }
      const ops = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN or IS";
      const got = `got ${describe(tok)}`;
      throw this.error(`expected an operator (${ops}) after ${repr(identTok.text)}, ${got}`, tok);
    }

    literal(ident, after) {
      const tok = this.take();
      if (tok.kind === "word" && tok.value === "NULL") {
        const message = `expected a value after ${repr(after)}; to test for missing use IS NULL`;
        throw this.error(message, tok);
      }
      if (tok.kind === "word" && !KEYWORDS.has(tok.value)) {
        const bare = `the bare word ${repr(tok.text)}: quote strings, e.g. '${tok.text}'`;
        throw this.error(`expected a value after ${repr(after)}, got ${bare}`, tok);
      }
      if (tok.kind !== "num" && tok.kind !== "str") {
        throw this.error(`expected a value after ${repr(after)}, got ${describe(tok)}`, tok);
      }
      if (tok.kind === "str" && isNumeric(ident)) {
        const what = ident.kind === "metric" ? "metric" : "attribute";
        throw this.error(`${what} ${repr(ident.key)} compares only with numbers, not strings`, tok);
      }
      return tok;
    }

    inList(ident) {
      const tok = this.take();
      if (tok.kind !== "(") throw this.error(`expected '(' after IN, got ${describe(tok)}`, tok);
      let first = null;
      const values = [];
      for (;;) {
        const lit = this.literal(ident, values.length ? "," : "(");
        if (first === null) first = lit;
        else if (lit.kind !== first.kind) {
          throw this.error("an IN list must be all numbers or all strings", lit);
        }
        values.push(lit.value);
        const sep = this.take();
        if (sep.kind === ")") return values;
        if (sep.kind !== ",") {
          throw this.error(`expected ',' or ')' in the IN list, got ${describe(sep)}`, sep);
        }
      }
    }
  }

  /** The AST of a filter; an empty (or blank) filter is {type: "MatchAll"}. */
  function parse(query) {
    checkString(query, "a filter");
    return new Parser(query).parse();
  }

  // ------------------------------------------------------------------------- evaluation

  const own = (obj, key) => (obj != null && hasOwn.call(obj, key) ? obj[key] : undefined);

  /** A function from a stored value of ident to the value compared (null: missing). */
  function normalizer(ident) {
    if (ident.kind === "metric") return (value) => (value == null ? null : value);
    if (hasOwn.call(SECTIONS, ident.kind)) {
      return function (value) {
        if (value == null) return null;
        if (typeof value === "string") return value;
        return typeof value === "boolean" ? (value ? "True" : "False") : String(value);
      };
    }
    const numeric = isNumeric(ident);
    return function (value) {
      if (value == null) return null;
      if (numeric || typeof value === "string") return value;
      if (typeof value === "boolean") return value ? "true" : "false"; // dirty
      return String(value);
    };
  }

  /** A function returning the row's value for ident, or null when it is missing. */
  function getter(ident) {
    const key = ident.key;
    const norm = normalizer(ident);
    if (ident.kind === "metric") {
      const agg = ident.agg;
      return (row) => norm(own(own(own(row, "metrics"), key), agg));
    }
    if (hasOwn.call(SECTIONS, ident.kind)) {
      const section = SECTIONS[ident.kind];
      return (row) => norm(own(own(row, section), key));
    }
    return function (row) {
      let value = own(own(row, "attributes"), key);
      if (value == null && key === "run_id") value = own(row, "run_id");
      return norm(value);
    };
  }

  /** Rows that are indexes into columns (runs.js: 100,000 runs without 100,000 objects).
   * resolve(ident) -> {value(i), lift(fn)}: the stored value of row i, and a function
   * i -> fn(value(i)) that may call fn once per distinct value (dictionary-coded data). */
  function columnGetters(resolve) {
    return function (ident) {
      const column = resolve(ident);
      const norm = normalizer(ident);
      const get = (i) => norm(column.value(i));
      get.lift = (fn) => column.lift((value) => fn(norm(value)));
      return get;
    };
  }

  // IEEE rules for numbers (NaN is only ever !=); text by code point
  const NUMBER_TESTS = {
    "=": (a, b) => a === b, "!=": (a, b) => a !== b, "<": (a, b) => a < b,
    "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b,
  };
  const TEXT_TESTS = {};
  Object.keys(NUMBER_TESTS).forEach((op) => {
    TEXT_TESTS[op] = (a, b) => NUMBER_TESTS[op](compareText(a, b), 0);
  });

  /** A LIKE segment (no `%`) as regex source of fixed length: `_` is any one code point. */
  function segmentSource(text) {
    let source = "";
    for (const c of text) {
      if (c === "_") source += "[\\s\\S]";
      else source += c.replace(/[\^$\\.*+?()[\]{}|/]/, "\\$&");
    }
    return source;
  }

  /** `%` is any run of characters, `_` exactly one code point; the whole value must match.
   * ILIKE lowercases with toLowerCase, Python with str.lower: both apply Unicode's full,
   * locale-free mapping (İ -> i̇, final sigma), so they differ only across Unicode versions.
   * Linear in the value's length, as in search.py: split at `%` into fixed-length segments;
   * the first matches at the start, each middle one at its leftmost place after the
   * previous, the last ends the value (no backtracking regex over the whole pattern). */
  function like(pattern, fold) {
    const parts = (fold ? pattern.toLowerCase() : pattern).split("%");
    const prepare = fold ? (value) => value.toLowerCase() : (value) => value;
    if (parts.length === 1) {
      const whole = new RegExp("^(?:" + segmentSource(parts[0]) + ")$", "u");
      return (value) => whole.test(prepare(value));
    }
    const first = new RegExp("^(?:" + segmentSource(parts[0]) + ")", "u");
    const middle = parts.slice(1, -1).filter((part) => part !== "")
      .map((part) => new RegExp(segmentSource(part), "gu"));
    const last = new RegExp("(?:" + segmentSource(parts[parts.length - 1]) + ")$", "gu");
    return function (raw) {
      const value = prepare(raw);
      const found = first.exec(value);
      if (found === null) return false;
      let pos = found[0].length;
      for (const search of middle) {
        search.lastIndex = pos;
        const next = search.exec(value);
        if (next === null) return false;
        pos = next.index + next[0].length;
      }
      last.lastIndex = pos;
      return last.test(value);
    };
  }

  /** The test applied to a present value (already converted to a number if needed). */
  function valueTest(c) {
    const negated = c.op.indexOf("NOT ") === 0;
    const base = negated ? c.op.slice(4) : c.op;
    let test;
    if (base === "LIKE" || base === "ILIKE") {
      test = like(c.value, base === "ILIKE");
    } else if (base === "IN") {
      const members = new Set(c.value);
      test = (value) => members.has(value);
    } else {
      const lit = c.value;
      const compare = (typeof lit === "string" ? TEXT_TESTS : NUMBER_TESTS)[c.op];
      return (value) => compare(value, lit);
    }
    return negated ? (value) => !test(value) : test;
  }

  /** The comparison as a function of the value compared: true, false or null. */
  function comparisonOnValue(c) {
    if (c.op === "IS NULL") return (value) => value === null;
    if (c.op === "IS NOT NULL") return (value) => value !== null;
    const test = valueTest(c);
    const lit = Array.isArray(c.value) ? c.value[0] : c.value;
    if (isNumeric(c.ident) || typeof lit === "string") {
      return (value) => (value === null ? null : test(value));
    }
    // a param, tag or text attribute against a number: only strict numeric text takes part
    return function (value) {
      if (value === null || !STRICT_NUMBER.test(value)) return null;
      return test(Number(value));
    };
  }

  function compileComparison(c, makeGetter) {
    const get = makeGetter(c.ident);
    const decide = comparisonOnValue(c);
    return get.lift ? get.lift(decide) : (row) => decide(get(row));
  }

  /** A three-valued predicate: row -> true, false or null (UNKNOWN). */
  function compileNode(node, makeGetter) {
    if (node.type === "Comparison") return compileComparison(node, makeGetter);
    if (node.type === "Not") {
      const inner = compileNode(node.item, makeGetter);
      return function (row) {
        const result = inner(row);
        return result === null ? null : !result;
      };
    }
    if (node.type === "And" || node.type === "Or") {
      const parts = node.items.map((item) => compileNode(item, makeGetter));
      const decisive = node.type === "Or"; // one FALSE decides an AND, one TRUE an OR
      return function (row) {
        let unknown = false;
        for (let i = 0; i < parts.length; i++) {
          const result = parts[i](row);
          if (result === decisive) return decisive;
          if (result === null) unknown = true;
        }
        return unknown ? null : !decisive;
      };
    }
    return () => true;
  }

  const cache = new Map();

  /** The filter compiled once into a function that is true for the rows it keeps. */
  function compile(query) {
    checkString(query, "a filter");
    let matches = cache.get(query);
    if (matches === undefined) {
      const pred = compileNode(parse(query), getter);
      matches = (row) => pred(row) === true;
      if (cache.size >= 256) cache.clear();
      cache.set(query, matches);
    }
    return matches;
  }

  /** compile() for rows that are column indexes (see columnGetters); not cached: the
   * columns behind resolve may gain data between two calls. */
  function compileColumns(query, resolve) {
    checkString(query, "a filter");
    const pred = compileNode(parse(query), columnGetters(resolve));
    return (i) => pred(i) === true;
  }

  /** The identifiers a filter names ({kind, key, agg}), each once. */
  function identifiers(query) {
    const out = new Map();
    const walk = (node) => {
      if (node.type === "Comparison") {
        const id = node.ident;
        out.set(`${id.kind}\0${id.key}\0${id.agg}`, { kind: id.kind, key: id.key, agg: id.agg });
      } else if (node.type === "Not") walk(node.item);
      else if (node.items) node.items.forEach(walk);
    };
    walk(parse(query));
    return Array.from(out.values());
  }

  /** The rows for which query is TRUE, in their original order. */
  function filter(rows, query) {
    const matches = compile(query);
    const kept = [];
    for (const row of rows) if (matches(row)) kept.push(row);
    return kept;
  }

  // ------------------------------------------------------------------------- ordering

  /** "<identifier> [ASC|DESC]" -> {ident, descending}. */
  function parseOrderClause(clause) {
    checkString(clause, "an order_by clause");
    const toks = tokenize(clause);
    if (toks[0].kind !== "ident") {
      throw notAnIdentifier(toks[0], clause, "an identifier such as metrics.rmse");
    }
    const tok = toks[1];
    let descending = false;
    if (tok.kind === "word" && (tok.value === "ASC" || tok.value === "DESC")) {
      descending = tok.value === "DESC";
      if (toks[2].kind !== "end") {
        const message = `unexpected ${describe(toks[2])} after ${tok.text}`;
        throw new QueryError(message, clause, toks[2].pos);
      }
    } else if (tok.kind !== "end") {
      const message = `expected ASC or DESC after ${repr(toks[0].text)}, got ${describe(tok)}`;
      throw new QueryError(message, clause, tok.pos);
    }
    return { ident: toks[0].value, descending: descending };
  }

  function parseOrderBy(orderBy) {
    if (!orderBy || orderBy.length === 0) return [];
    if (typeof orderBy === "string") orderBy = [orderBy];
    return Array.from(orderBy, parseOrderClause);
  }

  /** Stable sort on one key: values (in the direction asked), then NaN, then missing. */
  function sortBy(rows, ident, descending, makeGetter) {
    const get = makeGetter(ident);
    let values = rows.map(get);
    if (hasOwn.call(SECTIONS, ident.kind)) {
      const present = values.filter((v) => v !== null);
      if (present.length && present.every((v) => STRICT_NUMBER.test(v))) {
        values = values.map((v) => (v === null ? null : Number(v)));
      }
    }
    const ordered = [], nans = [], missing = [];
    values.forEach((value, i) => {
      if (value === null) missing.push(rows[i]);
      else if (value !== value) nans.push(rows[i]); // NaN
      else ordered.push({ value: value, index: i });
    });
    const sign = descending ? -1 : 1; // ties (0 or -0) fall through to the input order
    ordered.sort((a, b) => sign * compareValues(a.value, b.value) || a.index - b.index);
    return ordered.map((o) => rows[o.index]).concat(nans, missing);
  }

  /** Sorted by the last clause first: the stable sorts make the first clause decide. */
  function sortClauses(rows, clauses, makeGetter) {
    const make = makeGetter || getter;
    return clauses.reduceRight((sorted, c) => sortBy(sorted, c.ident, c.descending, make), rows);
  }

  /** rows ordered by clauses like "metrics.rmse DESC"; ties keep the input order. With
   * resolve, rows are column indexes (see compileColumns). */
  function sort(rows, orderBy, resolve) {
    const make = resolve ? columnGetters(resolve) : getter;
    return sortClauses(Array.from(rows), parseOrderBy(orderBy), make);
  }

  /** Filter, then order, then keep the first maxResults rows. */
  function search(rows, query, orderBy, maxResults) {
    if (maxResults != null && !(Number.isInteger(maxResults) && maxResults >= 0)) {
      throw new RangeError(`max_results must be a non-negative integer, got ${maxResults}`);
    }
    const clauses = parseOrderBy(orderBy);
    const kept = sortClauses(filter(rows, query || ""), clauses);
    return maxResults == null ? kept : kept.slice(0, maxResults);
  }

  window.runsiteQuery = {
    parse, compile, compileColumns, identifiers, parseOrderBy, filter, sort, search, QueryError,
    VOCABULARY,
  };
})();
