// Model pages: the gallery's lightbox (mouse, keyboard, touch) and the copy buttons.
// Built with DOM calls only: scraped text is read with textContent or cloned, never parsed as
// HTML. The page works without this file (each picture links its larger version).
"use strict";
(function () {
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "copy-buffer";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { area.remove(); }
    return Promise.resolve();
  }

  function copied(button) {
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    const done = button.closest("[data-done]");
    button.textContent = (done && done.dataset.done) || label;
    button.classList.add("done");
    setTimeout(function () { button.textContent = label; button.classList.remove("done"); }, 1500);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button.copy");
    if (!button || button.dataset.copy === undefined) return;
    event.preventDefault();
    copyText(button.dataset.copy).then(function () { copied(button); }, function () {});
  });

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function lightbox(gallery) {
    const shots = Array.from(gallery.querySelectorAll("li.shot")).filter(function (li) {
      return li.querySelector("a.open img, img[data-full]");
    });
    if (!shots.length) return;
    const words = gallery.dataset;
    const dialog = make("dialog", "lightbox");
    dialog.setAttribute("aria-label", gallery.getAttribute("aria-label") || "");
    dialog.dataset.done = words.done || "";
    const stage = make("div", "stage");
    const figure = make("figure");
    const picture = make("img");
    picture.alt = "";
    figure.appendChild(picture);
    const info = make("div", "info");
    const close = make("button", "close", words.close || "×");
    close.type = "button";
    const prev = make("button", "prev", "‹");
    prev.type = "button";
    prev.setAttribute("aria-label", words.previous || "");
    const next = make("button", "next", "›");
    next.type = "button";
    next.setAttribute("aria-label", words.next || "");
    stage.append(figure, info);
    dialog.append(stage, close, prev, next);
    document.body.appendChild(dialog);
    let current = 0;

    function show(index) {
      current = (index + shots.length) % shots.length;
      const shot = shots[current];
      const link = shot.querySelector("a.open");
      const thumb = shot.querySelector("img");
      picture.src = link ? link.href : thumb.dataset.full || thumb.src;
      picture.alt = thumb.alt;
      info.replaceChildren();
      const of = (words.of || "{i} / {n}").replace("{i}", current + 1).replace("{n}", shots.length);
      info.appendChild(make("p", "count", of));
      const gen = shot.querySelector("dl.gen");
      if (gen) {
        const data = gen.cloneNode(true);
        data.hidden = false;
        data.querySelectorAll("dd.gen-prompt, dd.gen-negative_prompt, dd.gen-seed").forEach(function (dd) {
          const button = make("button", "copy", words.copy || "Copy");
          button.type = "button";
          button.dataset.copy = dd.textContent;
          const dt = dd.previousElementSibling;
          if (dt) dt.appendChild(button);
        });
        info.appendChild(data);
      }
      prev.hidden = next.hidden = shots.length < 2;
    }

    function open(shot) {
      show(shots.indexOf(shot));
      if (!dialog.open) dialog.showModal();
      close.focus();
    }

    gallery.addEventListener("click", function (event) {
      const shot = event.target.closest("li.shot");
      if (!shot || shots.indexOf(shot) < 0 || event.target.closest("dl")) return;
      if (event.target.matches("input")) return; // the click a label sends its checkbox
      const toggle = shot.querySelector(".nsfw input");
      if (toggle && !toggle.checked) return; // the first click shows a blurred picture
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      open(shot);
    });
    close.addEventListener("click", function () { dialog.close(); });
    prev.addEventListener("click", function () { show(current - 1); });
    next.addEventListener("click", function () { show(current + 1); });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog || event.target === figure) dialog.close();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
      else if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    });
    let startX = null;
    let startY = null;
    figure.addEventListener("touchstart", function (event) {
      if (event.touches.length === 1) {
        startX = event.touches[0].clientX;
        startY = event.touches[0].clientY;
      }
    }, { passive: true });
    figure.addEventListener("touchend", function (event) {
      if (startX === null || !event.changedTouches.length) return;
      const dx = event.changedTouches[0].clientX - startX;
      const dy = event.changedTouches[0].clientY - startY;
      startX = null;
      if (Math.abs(dx) > 40 && Math.abs(dx) > Math.abs(dy)) show(current + (dx < 0 ? 1 : -1));
      else if (dy > 80 && Math.abs(dy) > Math.abs(dx)) dialog.close();
    });
  }

  function start() {
    document.querySelectorAll("section.gallery").forEach(lightbox);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
