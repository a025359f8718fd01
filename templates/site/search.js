/* Search for the static catalog. The tokenizer and the shard function are the ones of
   scraper/site/search.py, line for line: change both or neither. Results are built with DOM
   calls and textContent only, never from HTML strings. */
(function () {
  "use strict";
  var CJK = "\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uac00-\\ud7af" +
    "\\u{20000}-\\u{2fa1f}";
  var RUN = /[\p{L}\p{N}]+/gu;
  var PIECE = new RegExp("[" + CJK + "]+|[^" + CJK + "]+", "gu");
  var IS_CJK = new RegExp("^[" + CJK + "]", "u");
  var LIMIT = 20;

  function pieces(text) {
    var out = [];
    var runs = text.normalize("NFKC").match(RUN) || [];
    for (var i = 0; i < runs.length; i++) {
      var found = runs[i].match(PIECE) || [];
      for (var j = 0; j < found.length; j++) out.push(found[j]);
    }
    return out;
  }

  function camelParts(word) {
    var chars = Array.from(word), parts = [], start = 0;
    for (var i = 1; i < chars.length; i++) {
      var a = chars[i - 1], b = chars[i];
      if (a !== a.toUpperCase() && b !== b.toLowerCase()) {
        parts.push(chars.slice(start, i).join(""));
        start = i;
      }
    }
    parts.push(chars.slice(start).join(""));
    return parts;
  }

  function tokens(text) {
    var out = [], list = pieces(text);
    for (var i = 0; i < list.length; i++) {
      var piece = list[i];
      if (IS_CJK.test(piece)) {
        var chars = Array.from(piece);
        for (var c = 0; c < chars.length; c++) out.push(chars[c]);
        for (var g = 0; g + 1 < chars.length; g++) out.push(chars[g] + chars[g + 1]);
      } else {
        out.push(piece.toLowerCase());
        var parts = camelParts(piece);
        if (parts.length > 1) for (var p = 0; p < parts.length; p++) out.push(parts[p].toLowerCase());
      }
    }
    return out;
  }

  function queryTerms(text) {
    var seen = {}, terms = [], list = pieces(text);
    function add(token, prefix) {
      var key = (prefix ? "p:" : "e:") + token;
      if (!seen[key]) { seen[key] = true; terms.push([token, prefix]); }
    }
    for (var i = 0; i < list.length; i++) {
      var piece = list[i];
      if (IS_CJK.test(piece)) {
        var chars = Array.from(piece);
        if (chars.length === 1) add(chars[0], false);
        for (var g = 0; g + 1 < chars.length; g++) add(chars[g] + chars[g + 1], false);
      } else {
        var word = piece.toLowerCase();
        add(word, Array.from(word).length > 1);
      }
    }
    return terms;
  }

  function shardOf(token, shards) {
    var chars = Array.from(token);
    var key = IS_CJK.test(token) ? chars.slice(0, 1).join("") : chars.slice(0, 2).join("");
    var bytes = new TextEncoder().encode(key), h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      h = (h ^ bytes[i]) >>> 0;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h % shards;
  }

  var script = document.currentScript;
  var root = new URL("../", script ? script.src : location.href);
  var cache = {};

  function load(path) {
    if (!cache[path]) {
      cache[path] = fetch(new URL(path, root)).then(function (r) {
        if (!r.ok) throw new Error(path + ": " + r.status);
        return r.json();
      });
    }
    return cache[path];
  }

  async function search(text, limit) {
    var terms = queryTerms(text);
    if (!terms.length) return [];
    var meta = await load("search/meta.json");
    var shards = await Promise.all(terms.map(function (t) {
      return load("search/s/" + shardOf(t[0], meta.shards) + ".json");
    }));
    var matches = null;
    for (var i = 0; i < terms.length; i++) {
      var token = terms[i][0], prefix = terms[i][1], found = new Set(), shard = shards[i];
      for (var indexed in shard) {
        if (indexed === token || (prefix && indexed.startsWith(token))) {
          var docs = shard[indexed];
          for (var d = 0; d < docs.length; d++) found.add(docs[d]);
        }
      }
      if (matches === null) matches = found;
      else matches = new Set(Array.from(matches).filter(function (x) { return found.has(x); }));
      if (!matches.size) return [];
    }
    var ids = Array.from(matches).sort(function (a, b) { return a - b; });
    if (limit) ids = ids.slice(0, limit);
    var chunks = await Promise.all(ids.map(function (id) {
      return load("search/d/" + Math.floor(id / meta.chunk) + ".json");
    }));
    return ids.map(function (id, k) { return chunks[k][id % meta.chunk]; });
  }

  function show(list, docs, input) {
    var english = document.documentElement.lang.indexOf("en") === 0;
    var items = docs.map(function (doc) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = new URL((english ? "en/" : "") + doc[0], root).href;
      a.textContent = doc[1];
      li.appendChild(a);
      var facts = [doc[2], doc[3], doc[4], doc[5] == null ? "" : doc[5].toLocaleString("en")];
      var small = document.createElement("small");
      small.textContent = facts.filter(Boolean).join(" · ");
      li.appendChild(small);
      return li;
    });
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "empty";
      none.textContent = input.getAttribute("data-empty") || "";
      items.push(none);
    }
    list.replaceChildren.apply(list, items);
    list.hidden = false;
  }

  function start() {
    var input = document.getElementById("q"), list = document.getElementById("results");
    if (!input || !list) return;
    var timer = 0, asked = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(async function () {
        var mine = ++asked, text = input.value;
        if (!text.trim()) { list.hidden = true; list.replaceChildren(); return; }
        try {
          var docs = await search(text, LIMIT);
          if (mine === asked) show(list, docs, input);
        } catch (err) {
          if (mine === asked) show(list, [], input);
        }
      }, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { list.hidden = true; }
      if (event.key === "Enter") {
        var first = list.querySelector("a");
        if (first) location.href = first.href;
      }
    });
  }

  window.catalogSearch = { tokens: tokens, queryTerms: queryTerms, shardOf: shardOf, search: search };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
