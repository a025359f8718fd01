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

  /* The glossary (search/names.json): glossary.py's fold, synonyms and CJK segmenting. */
  var FUZZY_FROM = 5;

  function fold(word) { return word.normalize("NFKC").trim().toLowerCase(); }

  function makeGlossary(pairs) {
    var index = {}, longest = 1;
    for (var n = 0; n < pairs.length; n++) {
      var words = pairs[n][0].concat(pairs[n][1]);
      for (var w = 0; w < words.length; w++) {
        var key = fold(words[w]);
        if (!(key in index)) index[key] = n;
        longest = Math.max(longest, Array.from(key).length);
      }
    }
    return {
      index: index,
      longest: longest,
      synonyms: function (word) {
        var n = index[fold(word)];
        if (n === undefined) return [word];
        var out = [word], all = pairs[n][0].concat(pairs[n][1]);
        for (var i = 0; i < all.length; i++) if (out.indexOf(all[i]) < 0) out.push(all[i]);
        return out;
      },
      tagName: function (tag, english) {
        var n = index[fold(tag)];
        if (n === undefined) return tag;
        var words = pairs[n][english ? 1 : 0], other = pairs[n][english ? 0 : 1];
        for (var i = 0; i < words.length; i++) if (fold(words[i]) === fold(tag)) return tag;
        return fold(tag) === fold(other[0]) ? words[0] : words[0] + " (" + tag + ")";
      }
    };
  }

  function segment(run, glossary) {
    var chars = Array.from(run), parts = [], pending = "", i = 0;
    while (i < chars.length) {
      var hit = 0;
      for (var size = Math.min(glossary.longest, chars.length - i); size > 1; size--) {
        if (fold(chars.slice(i, i + size).join("")) in glossary.index) { hit = size; break; }
      }
      if (hit) {
        if (pending) { parts.push(pending); pending = ""; }
        parts.push(chars.slice(i, i + hit).join(""));
        i += hit;
      } else {
        pending += chars[i];
        i += 1;
      }
    }
    if (pending) parts.push(pending);
    return parts;
  }

  function queryGroups(text, glossary) {
    var groups = [], list = pieces(text);
    for (var i = 0; i < list.length; i++) {
      var piece = list[i];
      var parts = glossary && IS_CJK.test(piece) ? segment(piece, glossary) : [piece];
      for (var p = 0; p < parts.length; p++) {
        var alternatives = glossary ? glossary.synonyms(parts[p]) : [parts[p]];
        var group = [], seen = {};
        for (var n = 0; n < alternatives.length; n++) {
          var terms = queryTerms(alternatives[n]).map(function (t) {
            return [t[0], t[1], n === 0 && t[1] && Array.from(t[0]).length >= FUZZY_FROM];
          });
          var key = JSON.stringify(terms);
          if (terms.length && !seen[key]) { seen[key] = true; group.push(terms); }
        }
        if (group.length) groups.push(group);
      }
    }
    return groups;
  }

  /* The glossary words a query also searched, for the results page to say so. */
  function expansions(text, glossary) {
    var extra = [], list = pieces(text);
    for (var i = 0; i < list.length; i++) {
      var parts = IS_CJK.test(list[i]) ? segment(list[i], glossary) : [list[i]];
      for (var p = 0; p < parts.length; p++) {
        glossary.synonyms(parts[p]).slice(1).forEach(function (w) {
          if (extra.indexOf(w) < 0) extra.push(w);
        });
      }
    }
    return extra;
  }

  /* One edit or less between word and some prefix of token (search.py: near). */
  function near(word, token) {
    var w = Array.from(word), t = Array.from(token);
    if (t.length < w.length - 1) return false;
    var row = [];
    for (var j = 0; j <= t.length; j++) row.push(j);
    for (var i = 1; i <= w.length; i++) {
      var prev = row[0];
      row[0] = i;
      for (var k = 1; k <= t.length; k++) {
        var cur = Math.min(row[k] + 1, row[k - 1] + 1, prev + (w[i - 1] === t[k - 1] ? 0 : 1));
        prev = row[k];
        row[k] = cur;
      }
    }
    return Math.min.apply(null, row) <= 1;
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

  function names() {
    return load("search/names.json").then(function (n) {
      if (!n.glossaryIndex) n.glossaryIndex = makeGlossary(n.glossary || []);
      return n;
    });
  }

  function matching(shard, term) {
    var found = new Set(), token = term[0], prefix = term[1], fuzzy = term[2];
    for (var indexed in shard) {
      if (indexed === token || (prefix && indexed.startsWith(token)) ||
          (fuzzy && near(token, indexed))) {
        var gaps = shard[indexed], id = 0;  /* first id, then differences */
        for (var d = 0; d < gaps.length; d++) { id += gaps[d]; found.add(id); }
      }
    }
    return found;
  }

  /* Every matching id, best first (ids are ranks by downloads). */
  async function matchIds(text, synonyms) {
    var meta = await load("search/meta.json");
    var glossary = synonyms === false ? null : (await names()).glossaryIndex;
    var groups = queryGroups(text, glossary);
    if (!groups.length) return [];
    var matches = null;
    for (var g = 0; g < groups.length; g++) {
      var either = new Set();
      for (var a = 0; a < groups[g].length; a++) {
        var terms = groups[g][a], both = null;
        var shards = await Promise.all(terms.map(function (t) {
          return load("search/s/" + shardOf(t[0], meta.shards) + ".json");
        }));
        for (var t = 0; t < terms.length; t++) {
          var found = matching(shards[t], terms[t]);
          both = both === null ? found : new Set(Array.from(both).filter(function (x) { return found.has(x); }));
          if (!both.size) break;
        }
        if (both) both.forEach(function (x) { either.add(x); });
      }
      matches = matches === null ? either : new Set(Array.from(matches).filter(function (x) { return either.has(x); }));
      if (!matches.size) return [];
    }
    return Array.from(matches).sort(function (a, b) { return a - b; });
  }

  async function docs(ids) {
    var meta = await load("search/meta.json");
    var chunks = await Promise.all(ids.map(function (id) {
      return load("search/d/" + Math.floor(id / meta.chunk) + ".json");
    }));
    return ids.map(function (id, k) { return chunks[k][id % meta.chunk]; });
  }

  async function search(text, limit) {
    var ids = await matchIds(text);
    return docs(limit ? ids.slice(0, limit) : ids);
  }

  function english() { return document.documentElement.lang.indexOf("en") === 0; }

  function pageHref(path) { return new URL((english() ? "en/" : "") + path, root).href; }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function nameOf(table, key) {
    var found = table && table[key];
    return found ? found[english() ? 1 : 0] : key;
  }

  function thumbnail(doc, href, nsfwLabel) {
    if (!doc[8]) return el("span", "", "nothumb");
    var img = el("img");
    /* a mirrored picture is a path inside the site (assets/...), a linked one an https URL */
    img.src = doc[8].indexOf("://") > 0 ? doc[8] : new URL(doc[8], root).href;
    img.alt = "";
    img.loading = "lazy";
    if (doc[9]) {
      var label = el("label", null, "nsfw"), box = el("input");
      box.type = "checkbox";
      box.setAttribute("aria-label", nsfwLabel);
      label.append(box, img, el("span", nsfwLabel));
      return label;
    }
    var a = el("a");
    a.href = href;
    a.tabIndex = -1;
    a.appendChild(img);
    return a;
  }

  function numbers(number, count) {
    var out = [];
    for (var i = 1; i <= count; i++) {
      if (i === 1 || i === count || Math.abs(i - number) <= 2) out.push(i);
    }
    return out;
  }

  /* A pager drawn into nav: buttons that call go(n). */
  function pager(nav, number, count, data, go) {
    if (count <= 1) { nav.hidden = true; nav.replaceChildren(); return; }
    var items = [];
    function link(n, text, rel) {
      var b = el("a", text);
      b.href = "#";
      if (rel) b.rel = rel;
      b.addEventListener("click", function (event) { event.preventDefault(); go(n); });
      return b;
    }
    if (number > 1) items.push(link(number - 1, "« " + data.prev, "prev"));
    numbers(number, count).forEach(function (n) {
      items.push(n === number ? el("strong", n) : link(n, String(n)));
    });
    if (number < count) items.push(link(number + 1, data.next + " »", "next"));
    items.push(el("span", data.of.replace("{i}", number).replace("{n}", count), "of"));
    nav.replaceChildren.apply(nav, items);
    nav.hidden = false;
  }

  function show(list, found, input, n) {
    var items = found.map(function (doc) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = pageHref(doc[0]);
      a.textContent = doc[1];
      li.appendChild(a);
      var facts = [doc[2], nameOf(n.type, doc[3]), nameOf(n.source, doc[4]),
        doc[5] == null ? "" : "↓ " + doc[5].toLocaleString("en")];
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
    var here = new URLSearchParams(location.search).get("q");
    if (here && document.getElementById("search-page")) input.value = here;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(async function () {
        var mine = ++asked, text = input.value;
        if (!text.trim()) { list.hidden = true; list.replaceChildren(); return; }
        try {
          var found = await search(text, LIMIT), n = await names();
          if (mine === asked) show(list, found, input, n);
        } catch (err) {
          if (mine === asked) show(list, [], input, {});
        }
      }, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { list.hidden = true; }
      if (event.key === "Enter" && input.value.trim()) {
        var target = new URL(input.getAttribute("data-page"), location.href);
        target.searchParams.set("q", input.value.trim());
        location.href = target.href;
      }
    });
  }

  /* search.html?q=&page=: every match, counted, paged, with thumbnails. */
  async function resultsPage() {
    var box = document.getElementById("search-page");
    if (!box) return;
    var data = box.dataset, params = new URLSearchParams(location.search);
    var text = (params.get("q") || "").trim(), size = Number(data.size) || 20;
    var count = document.getElementById("search-count"), hits = document.getElementById("search-hits");
    var nav = document.getElementById("search-pager"), heading = document.getElementById("search-heading");
    if (!text) { count.textContent = ""; return; }
    heading.textContent = heading.dataset.format.replace("{q}", text);
    document.title = heading.textContent;
    var n = await names();
    var ids = await matchIds(text);
    count.textContent = ids.length ? data.count.replace("{n}", ids.length.toLocaleString("en")) : data.empty;
    var extra = expansions(text, n.glossaryIndex);
    if (extra.length) {
      var also = document.getElementById("search-also");
      also.textContent = data.also.replace("{words}", extra.join(", "));
      also.hidden = false;
    }
    async function go(number) {
      var part = ids.slice((number - 1) * size, number * size), found = await docs(part);
      hits.replaceChildren.apply(hits, found.map(function (doc) {
        var li = el("li", null, "hit"), href = pageHref(doc[0]);
        li.appendChild(thumbnail(doc, href, data.nsfw));
        var body = el("div"), a = el("a", doc[1]);
        a.href = href;
        body.appendChild(a);
        if (doc[2]) body.appendChild(el("small", doc[2]));
        var facts = [nameOf(n.type, doc[3])].concat((doc[10] || []).map(function (f) { return nameOf(n.base, f); }));
        facts.push(nameOf(n.source, doc[4]));
        if (doc[11]) facts.push(doc[11]);
        if (doc[5] != null) facts.push("↓ " + doc[5].toLocaleString("en"));
        body.appendChild(el("small", facts.join(" · ")));
        li.appendChild(body);
        return li;
      }));
      hits.start = (number - 1) * size + 1;
      pager(nav, number, Math.ceil(ids.length / size), data, function (k) {
        params.set("page", k);
        history.replaceState(null, "", "?" + params.toString());
        go(k);
        window.scrollTo(0, 0);
      });
    }
    var first = Math.max(1, Math.min(Number(params.get("page")) || 1, Math.ceil(ids.length / size) || 1));
    await go(first);
  }

  window.catalogSearch = {
    tokens: tokens, queryTerms: queryTerms, shardOf: shardOf, search: search,
    queryGroups: function (text) { return names().then(function (n) { return queryGroups(text, n.glossaryIndex); }); },
    near: near,
    /* for assets/browse.js */
    ui: { load: load, names: names, docs: docs, el: el, nameOf: nameOf, thumbnail: thumbnail,
      pageHref: pageHref, pager: pager }
  };
  function ready() {
    start();
    resultsPage().catch(function () {});
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
