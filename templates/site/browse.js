/* Index pages: sort, filter and page every model of an index over its list/<kind>/<key>/
   index.json (scraper/site/browse.py), rows drawn from the search index's model chunks with
   the helpers of search.js (loaded before this file). DOM calls and textContent only. */
(function () {
  "use strict";
  var ui = window.catalogSearch && window.catalogSearch.ui;
  if (!ui) return;
  var el = ui.el, nameOf = ui.nameOf;

  /* A row of table.models, like _macros.html.j2 model_row, from a search/d document. */
  function tableRow(doc, n, base, nsfwLabel) {
    var tr = el("tr"), href = ui.pageHref(doc[0]);
    var cells = [el("td", null, "thumb"), el("td"), el("td", null, "opt"), el("td", null, "opt"),
      el("td", doc[5] == null ? "" : doc[5].toLocaleString("en"), "num"),
      el("td", doc[6] == null ? "" : doc[6].toLocaleString("en"), "num opt"),
      el("td", doc[7], "opt date")];
    cells[0].appendChild(ui.thumbnail(doc, href, nsfwLabel));
    var a = el("a", doc[1]);
    a.href = href;
    cells[1].appendChild(a);
    if (doc[2]) cells[1].append(el("br"), el("small", doc[2]));
    if (doc[11]) cells[1].append(el("br"), el("small", doc[11], "by"));
    var type = el("a", nameOf(n.type, doc[3]));
    type.href = base + "list/type/" + doc[3] + "/1.html";
    cells[2].appendChild(type);
    (doc[10] || []).slice(0, 2).forEach(function (f, i) {
      if (i) cells[3].appendChild(el("br"));
      var b = el("a", nameOf(n.base, f));
      b.href = base + "list/base/" + f + "/1.html";
      cells[3].appendChild(b);
    });
    tr.append.apply(tr, cells);
    return tr;
  }

  /* Index pages: sort, filter and page every model of the index over its index.json. */
  var SORTS = { downloads: 1, likes: 2, newest: 3, updated: 4 };

  /* Rating filter: "0" PG/PG-13 only, "1" up to R, "2" X and above (browse.py's rating). */
  function rated(rating, wanted) {
    return wanted === "1" ? rating <= 1 : String(rating) === wanted;
  }

  async function browsePage() {
    var box = document.getElementById("browse");
    if (!box) return;
    var data = box.dataset, size = Number(data.size) || 100;
    var table = document.querySelector("table.models tbody"), nav = document.getElementById("pager");
    var counter = document.getElementById("count");
    var sort = box.querySelector("[data-sort]"), filters = box.querySelectorAll("[data-filter]");
    var params = new URLSearchParams(location.search);
    box.hidden = false;
    if (params.get("sort") in SORTS) sort.value = params.get("sort");
    filters.forEach(function (f) { if (params.get(f.dataset.filter)) f.value = params.get(f.dataset.filter); });
    var index = null, n = null;
    async function apply(number, push) {
      index = index || await ui.load(data.index);
      n = n || await ui.names();
      var want = {};
      filters.forEach(function (f) { if (f.value !== "") want[f.dataset.filter] = f.value; });
      var type = "type" in want ? index.types.indexOf(want.type) : -1;
      var base = "base" in want ? index.bases.indexOf(want.base) : -1;
      var source = "source" in want ? index.sources.indexOf(want.source) : -1;
      var rows = index.rows.filter(function (r) {
        return (!("type" in want) || r[5] === type) && (!("base" in want) || r[6].indexOf(base) >= 0) &&
          (!("source" in want) || r[7] === source) && (!("nsfw" in want) || rated(r[8], want.nsfw));
      });
      var key = SORTS[sort.value] || 1;
      rows.sort(function (a, b) { return (b[key] - a[key]) || (a[0] - b[0]); });
      var count = Math.max(1, Math.ceil(rows.length / size));
      number = Math.max(1, Math.min(number, count));
      var found = await ui.docs(rows.slice((number - 1) * size, number * size).map(function (r) { return r[0]; }));
      table.replaceChildren.apply(table, found.map(function (doc) { return tableRow(doc, n, data.base, data.nsfw); }));
      counter.textContent = counter.dataset.format.replace("{n}", rows.length.toLocaleString("en"));
      document.querySelectorAll(".static-pager").forEach(function (p) { p.hidden = true; });
      ui.pager(nav, number, count, data, function (k) { apply(k, true); window.scrollTo(0, 0); });
      var state = new URLSearchParams();
      if (sort.value !== "downloads") state.set("sort", sort.value);
      Object.keys(want).forEach(function (k) { state.set(k, want[k]); });
      if (number > 1) state.set("page", number);
      if (push !== false) history.replaceState(null, "", state.toString() ? "?" + state.toString() : location.pathname);
      box.setAttribute("data-shown", String(rows.length));
    }
    function changed() { apply(1, true); }
    sort.addEventListener("change", changed);
    filters.forEach(function (f) { f.addEventListener("change", changed); });
    if (params.toString()) await apply(Number(params.get("page")) || 1, false);
  }

  function ready() { browsePage().catch(function () {}); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
