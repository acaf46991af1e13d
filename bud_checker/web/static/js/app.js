/* BUD Checker — progressive enhancement only: every page works without this script.
 *  1. Commune field: suggestions as you type (ARIA 1.2 combobox with a listbox), from /communes?q=.
 *     Picking one fills the hidden commune_insee field; typing again clears it.
 *  2. Verdict page: reveals the print button.
 *  3. /zone: filters the list of communes as you type.
 * No inline script anywhere, so the Content-Security-Policy can forbid them. */
(function () {
  "use strict";

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, wait);
    };
  }

  function setupCombobox(box) {
    var input = box.querySelector("input");
    var hidden = document.getElementById(box.getAttribute("data-hidden"));
    var url = box.getAttribute("data-suggestions");
    if (!input || !hidden || !url || !window.fetch) { return; }

    var listId = input.id + "-suggestions";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Communes suggérées");
    list.hidden = true;
    box.appendChild(list);

    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    box.appendChild(live);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var items = [];
    var active = -1;
    var lastQuery = "";
    var pending = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var commune = items[index];
      if (!commune) { return; }
      input.value = commune.libelle;
      hidden.value = commune.insee;
      lastQuery = input.value;
      close();
      live.textContent = commune.libelle + " sélectionnée.";
      var nsp = document.getElementById("commune_nsp");
      if (nsp) { nsp.checked = false; }
    }

    function render(communes) {
      items = communes;
      list.innerHTML = "";
      communes.forEach(function (commune, index) {
        var li = document.createElement("li");
        li.id = listId + "-" + index;
        li.className = "suggestion";
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-insee", commune.insee);
        li.appendChild(document.createTextNode(commune.libelle));
        var zone = document.createElement("span");
        zone.className = "suggestion__zone suggestion__zone--" +
          (commune.bud ? (commune.a_confirmer ? "unknown" : "ok") : (commune.a_confirmer ? "unknown" : "out"));
        zone.textContent = commune.bud ? (commune.a_confirmer ? "BUD, à confirmer" : "BUD") :
          (commune.a_confirmer ? "hors BUD, à confirmer" : "hors BUD");
        li.appendChild(document.createTextNode(" "));
        li.appendChild(zone);
        var meta = document.createElement("span");
        meta.className = "suggestion__meta";
        meta.textContent = (commune.approchee ? "orthographe proche · " : "") +
          (commune.codes_postaux || []).slice(0, 3).join(", ") + " · " + commune.classement;
        li.appendChild(meta);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(index); input.focus(); });
        list.appendChild(li);
      });
      if (communes.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        live.textContent = communes.length + (communes.length > 1 ? " communes suggérées" : " commune suggérée") +
          " ; flèches haut et bas pour parcourir, Entrée pour choisir.";
      } else {
        close();
        live.textContent = "Aucune commune ne correspond.";
      }
      active = -1;
    }

    var search = debounce(function () {
      var query = input.value.trim();
      if (query.length < 2) { render([]); live.textContent = ""; return; }
      if (pending) { pending.abort(); }
      pending = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), {
        headers: { "Accept": "application/json" },
        signal: pending ? pending.signal : undefined,
        credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : { communes: [] };
      }).then(function (data) {
        if (input.value.trim() === query) { render(data.communes || []); }
      }).catch(function () { /* aborted or offline: the plain field still works */ });
    }, 150);

    input.addEventListener("input", function () {
      if (input.value !== lastQuery) { hidden.value = ""; }
      search();
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden && items.length > 0;
      if (event.key === "ArrowDown") {
        if (!open) { search(); return; }
        event.preventDefault();
        highlight(active + 1 >= items.length ? 0 : active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) { return; }
        event.preventDefault();
        highlight(active - 1 < 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) { event.preventDefault(); choose(active); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function setupPrint() {
    var buttons = document.querySelectorAll("[data-print]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function () { window.print(); });
    }
  }

  // The list of communes of /zone, filtered as you type (the page's search form works without this).
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/œ/g, "oe").replace(/æ/g, "ae")
      .toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }

  function setupZoneFilter() {
    var box = document.querySelector("[data-zone-filter]");
    if (!box) { return; }
    var input = box.querySelector("input");
    var count = document.getElementById(input.getAttribute("aria-describedby"));
    var items = document.querySelectorAll(".zone-group__list li[data-nom]");
    var groups = document.querySelectorAll(".zone-group");
    box.hidden = false;
    input.addEventListener("input", debounce(function () {
      var wanted = fold(input.value).replace(/\bst\b/g, "saint").replace(/\bste\b/g, "sainte");
      var shown = 0;
      for (var i = 0; i < items.length; i++) {
        var name = " " + items[i].getAttribute("data-nom");
        var match = !wanted || name.indexOf(" " + wanted) >= 0 || name.indexOf(wanted) >= 0;
        items[i].hidden = !match;
        if (match) { shown++; }
      }
      for (var j = 0; j < groups.length; j++) {
        groups[j].hidden = groups[j].querySelectorAll("li[data-nom]:not([hidden])").length === 0;
      }
      count.textContent = wanted ? shown + (shown > 1 ? " communes affichées" : " commune affichée") : "";
    }, 120));
  }

  function init() {
    var boxes = document.querySelectorAll(".combobox[data-suggestions]");
    for (var i = 0; i < boxes.length; i++) { setupCombobox(boxes[i]); }
    setupPrint();
    setupZoneFilter();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
