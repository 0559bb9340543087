// Small enhancements; every page works without them.
(function () {
  "use strict";

  function setActive(fieldId) {
    document.querySelectorAll(".evidence-box.is-active, [data-field].is-active").forEach(function (el) {
      el.classList.remove("is-active");
    });
    if (!fieldId) return;
    document.querySelectorAll('[data-box-for="' + fieldId + '"]').forEach(function (box) {
      box.classList.add("is-active");
      reveal(box);
    });
    var row = document.querySelector('[data-field="' + fieldId + '"]');
    if (row) row.classList.add("is-active");
  }

  // Bring a box into view inside the page column's own scrolling boxes (zoomed page, the
  // reviewer's column of pages) without moving the window, so the value a person is looking
  // at stays where it is. Only where the page column does not stay in view (a phone, where
  // the page sits above the values) does the window move to the box.
  function reveal(el) {
    var sticky = false;
    for (var node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      var style = window.getComputedStyle(node);
      if (style.position === "sticky") sticky = true;
      if (!/(auto|scroll)/.test(style.overflowY + style.overflowX)) continue;
      var r = el.getBoundingClientRect(), c = node.getBoundingClientRect();
      if (r.top < c.top || r.bottom > c.bottom) node.scrollTop += (r.top - c.top) - (c.height - r.height) / 2;
      if (r.left < c.left || r.right > c.right) node.scrollLeft += (r.left - c.left) - (c.width - r.width) / 2;
    }
    if (!sticky && el.scrollIntoView && !isVisible(el)) el.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function isVisible(el) {
    var rect = el.getBoundingClientRect();
    return rect.top >= 0 && rect.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }

  // Focusing or clicking a value highlights its evidence on the page.
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("[data-field]");
    if (row) setActive(row.getAttribute("data-field"));
  });
  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("[data-box-for]");
    if (box) {
      var id = box.getAttribute("data-box-for");
      setActive(id);
      var input = document.getElementById("value-" + id);
      if (input) { event.preventDefault(); input.focus(); }
      return;
    }
    var row = event.target.closest && event.target.closest("[data-field]");
    if (row) setActive(row.getAttribute("data-field"));
  });

  // Evidence boxes carry their place in data-box-style and are placed through the CSSOM: the
  // Content-Security-Policy allows no style attributes in the markup. Unplaced boxes stay hidden.
  function placeBoxes(root) {
    (root || document).querySelectorAll(".evidence-box[data-box-style]").forEach(function (box) {
      box.style.cssText = box.getAttribute("data-box-style");
      box.classList.add("is-placed");
    });
  }
  placeBoxes(document);
  document.addEventListener("htmx:load", function (event) {
    placeBoxes(event.target && event.target.querySelectorAll ? event.target : document);
  });

  // After htmx saves one value, move (or hide) its evidence box to where the value now is.
  document.addEventListener("htmx:afterSwap", function (event) {
    var row = event.detail && event.detail.elt;
    if (!row || !row.matches || !row.matches("[data-field]")) {
      row = event.target && event.target.closest && event.target.closest("[data-field]");
    }
    if (!row) return;
    var id = row.getAttribute("data-field");
    var frame = document.querySelector("[data-page-frame]");
    if (!frame) return;
    var style = row.getAttribute("data-box-style");
    var onThisPage = style && row.getAttribute("data-page") === frame.getAttribute("data-page-frame");
    var box = frame.querySelector('[data-box-for="' + id + '"]');
    if (!onThisPage) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement("a");
      box.className = "evidence-box";
      box.href = "#field-" + id;
      box.setAttribute("data-box-for", id);
      frame.appendChild(box);
    }
    box.setAttribute("data-box-style", style);
    placeBoxes(frame);
  });

  // Changing a value the machine read opens the (optional) reason box beside it.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-reason-for]")) return;
    var box = input.closest("form") && input.closest("form").querySelector("details.reason");
    if (box && input.value.trim() !== input.getAttribute("data-machine") && input.getAttribute("data-machine")) box.open = true;
  });

  // Uploads: drag and drop onto the zone, and one request with a progress bar per file
  // (the body is sent in file order, so each file's share of the bytes sent is its progress).
  // Without this script the form posts as usual.
  function formatSize(bytes) {
    if (bytes < 1024 * 1024) return Math.max(1, Math.round(bytes / 1024)) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function chosenFiles(form) {
    var files = [];
    form.querySelectorAll('input[type="file"]').forEach(function (input) {
      for (var i = 0; i < input.files.length; i++) files.push(input.files[i]);
    });
    return files;
  }

  function listFiles(form) {
    var list = form.querySelector("[data-upload-list]");
    if (!list) return [];
    list.innerHTML = "";
    return chosenFiles(form).map(function (file) {
      var item = document.createElement("li");
      item.className = "upload-item";
      var name = document.createElement("span");
      name.className = "upload-name";
      name.textContent = file.name + " (" + formatSize(file.size) + ")";
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + file.name);
      var state = document.createElement("span");
      state.className = "upload-state small muted";
      state.textContent = "Ready";
      item.appendChild(name);
      item.appendChild(bar);
      item.appendChild(state);
      list.appendChild(item);
      return { file: file, bar: bar, state: state, item: item };
    });
  }

  document.querySelectorAll("[data-upload-form]").forEach(function (form) {
    var zone = form.querySelector("[data-dropzone]");
    var picker = form.querySelector("#id_files");
    form.addEventListener("change", function (event) {
      if (event.target.type === "file") listFiles(form);
    });
    if (zone && picker) {
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("is-dragging");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("is-dragging"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        if (!event.dataTransfer || !event.dataTransfer.files.length) return;
        picker.files = event.dataTransfer.files;
        listFiles(form);
      });
    }
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) return;
      var rows = listFiles(form);
      if (!rows.length) return; // the server explains that a file is needed
      event.preventDefault();
      var data = new FormData(form);
      data.append("upload", "1");
      var offsets = [], total = 0;
      rows.forEach(function (row) { offsets.push(total); total += row.file.size; });
      var button = form.querySelector('button[name="upload"]');
      if (button) button.disabled = true;
      rows.forEach(function (row) { row.state.textContent = "Uploading"; });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var sent = e.loaded * total / e.total;
        rows.forEach(function (row, i) {
          var share = row.file.size ? (sent - offsets[i]) / row.file.size : 1;
          var percent = Math.max(0, Math.min(100, Math.round(share * 100)));
          row.bar.value = percent;
          if (percent >= 100) row.state.textContent = "Sent";
        });
      });
      xhr.addEventListener("load", function () {
        var errors = [];
        try { errors = JSON.parse(xhr.responseText).errors || []; } catch (e) { errors = ["The upload did not finish. Please try again."]; }
        rows.forEach(function (row) { row.bar.value = 100; row.state.textContent = "Uploaded"; });
        if (!errors.length) { window.location.reload(); return; }
        if (button) button.disabled = false;
        var list = form.querySelector("[data-upload-list]");
        errors.forEach(function (message) {
          var matched = rows.filter(function (row) { return message.indexOf(row.file.name) !== -1; })[0];
          var target = matched ? matched.item : list.appendChild(document.createElement("li"));
          if (matched) matched.state.textContent = "Not uploaded";
          var p = document.createElement("p");
          p.className = "field-error";
          p.setAttribute("role", "alert");
          p.textContent = message;
          target.appendChild(p);
        });
        var more = document.createElement("li");
        more.innerHTML = '<a href="">Show my documents</a>';
        list.appendChild(more);
      });
      xhr.addEventListener("error", function () {
        if (button) button.disabled = false;
        rows.forEach(function (row) { row.state.textContent = "Failed: check your connection and try again"; });
      });
      xhr.send(data);
    });
  });

  // A link to a field (from a flag, or a page number) selects it and lights up its box.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-jump-field]");
    if (!link) return;
    var id = link.getAttribute("data-jump-field");
    var row = document.getElementById("field-" + id);
    if (!row) return;
    // "Go to" brings the value's row into view (centred) and its box into view in the page
    // column beside it; the address keeps the field, so a reload comes back to it.
    event.preventDefault();
    if (window.history && history.replaceState) history.replaceState(null, "", "#field-" + id);
    if (!isVisible(row)) row.scrollIntoView({ block: "center" });
    setActive(id);
  });
  function activateFromHash() {
    var match = /^#field-(\d+)$/.exec(window.location.hash);
    if (match) setActive(match[1]);
  }
  window.addEventListener("hashchange", activateFromHash);
  activateFromHash();

  // Reviewer's keyboard: j/k next/previous flag or field, e edit, a approve, r request
  // changes, ? the list of shortcuts. Never while typing in a box.
  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-nav-item]"));
  var current = -1;
  function select(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (item) { item.classList.remove("is-selected"); });
    var item = items[current];
    item.classList.add("is-selected");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "center" });
    var field = item.getAttribute("data-field") || item.getAttribute("data-nav-field");
    if (field) setActive(field);
  }
  function selectedField() {
    var item = items[current] || document.activeElement && document.activeElement.closest && document.activeElement.closest("[data-nav-item]");
    if (!item) return null;
    return item.getAttribute("data-field") || item.getAttribute("data-nav-field");
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var help = document.getElementById("shortcuts");
    if (!help) return;
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "e": {
        var id = selectedField();
        var details = id && document.querySelector('.correct-row[data-field="' + id + '"] details');
        if (!details) return;
        details.open = true;
        var input = document.getElementById("correct-value-" + id);
        if (input) { input.focus(); input.select(); }
        break;
      }
      case "a": {
        var approve = document.getElementById("approve-button");
        if (!approve) return;
        approve.scrollIntoView({ block: "center" });
        approve.focus();
        break;
      }
      case "r": {
        var note = document.getElementById("decision-note");
        if (!note) return;
        note.scrollIntoView({ block: "center" });
        note.focus();
        break;
      }
      case "?": help.open = !help.open; if (help.open) help.scrollIntoView({ block: "nearest" }); break;
      default: return;
    }
    event.preventDefault();
  });

  // Rows of a list (a statement's transactions): focusing or clicking a row lights up its box
  // on the page; clicking a row's box focuses the row. Runs after the field's own highlight.
  function setRowActive(rowId) {
    document.querySelectorAll("[data-row-box].is-active, [data-row-for].is-active").forEach(function (el) {
      el.classList.remove("is-active");
    });
    if (!rowId) return;
    var row = document.querySelector('[data-row-for="' + rowId + '"]');
    if (row) row.classList.add("is-active");
    document.querySelectorAll('[data-row-box="' + rowId + '"]').forEach(function (box) {
      box.classList.add("is-active");
      reveal(box);
    });
  }
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("[data-row-for]");
    if (row) setRowActive(row.getAttribute("data-row-for"));
  });
  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("[data-row-box]");
    if (box) {
      var target = document.querySelector('[data-row-for="' + box.getAttribute("data-row-box") + '"]');
      if (target) { event.preventDefault(); target.focus(); }
      return;
    }
    var jump = event.target.closest && event.target.closest("[data-jump-row]");
    if (jump) {
      var id = jump.getAttribute("data-jump-row");
      window.setTimeout(function () { setRowActive(id); }, 0);
      return;
    }
    var row = event.target.closest && event.target.closest("[data-row-for]");
    if (row) setRowActive(row.getAttribute("data-row-for"));
  });
  var rowHash = /^#row-(\d+-\d+)$/.exec(window.location.hash);
  if (rowHash) setRowActive(rowHash[1]);
})();

// Page zoom: a toolbar above each page image; without JavaScript the page simply fits.
(function () {
  var LEVELS = [1, 1.5, 2, 3];
  document.querySelectorAll(".page-frame").forEach(function (frame, index) {
    if (frame.closest(".page-scroll")) return;
    var scroll = document.createElement("div");
    scroll.className = "page-scroll";
    frame.parentNode.insertBefore(scroll, frame);
    scroll.appendChild(frame);
    var bar = document.createElement("div");
    bar.className = "zoom-bar";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Zoom the page");
    var level = 0;
    function button(text, label, step) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", function () {
        level = step === 0 ? 0 : Math.max(0, Math.min(LEVELS.length - 1, level + step));
        frame.style.setProperty("--zoom", LEVELS[level]);
        shown.value = Math.round(LEVELS[level] * 100) + "%";
      });
      return b;
    }
    var shown = document.createElement("output");
    shown.id = "zoom-level-" + index;
    shown.value = "100%";
    shown.setAttribute("aria-live", "polite");
    bar.appendChild(button("−", "Zoom out", -1));
    bar.appendChild(shown);
    bar.appendChild(button("+", "Zoom in", 1));
    bar.appendChild(button("Fit", "Fit the page to the width", 0));
    scroll.parentNode.insertBefore(bar, scroll);
  });
})();
