/* Kalan EPUB reader: epub.js paginates the book in a frame under a small toolbar.
 *
 * Markup (strings translated by the page):
 *   <section class="epub-reader" data-epub-reader
 *       data-src="/content/files/<sha256>"     the .epub (any URL: it is read whole)
 *       data-key="<resource id>"               remembers the place per book
 *       data-title="Book title"                names the reading frame
 *       data-label-toolbar="Reading tools"
 *       data-label-previous="Previous page" data-label-next="Next page"
 *       data-label-smaller="Smaller text" data-label-larger="Larger text"
 *       data-label-contents="Contents" data-label-loading="Loading…"
 *       data-label-error="This book cannot be shown."
 *       data-xapi="{…}" data-resume="epubcfi(…)">        (see records.js)
 *     <p><a href="/content/files/<sha256>" download>Download the book</a></p>   (kept)
 *   </section>
 *   <script src="{% static 'content/records.js' %}" defer></script>
 *   <script src="{% static 'vendor/jszip/jszip.min.js' %}" defer></script>
 *   <script src="{% static 'vendor/epubjs/epub.legacy.min.js' %}" defer></script>
 *   <script src="{% static 'content/epub-reader.js' %}" defer></script>
 *
 * JSZip comes from the page (epub.js's legacy build). Pages turn with the buttons and the left and
 * right arrow keys; the table of contents is a select. The place (a CFI) is kept
 * in localStorage "kalan.epub.<key>", the text size in "kalan.epub.size"; the
 * book opens at data-resume, else at that place. The book's pages run without
 * their scripts: each frame is sandboxed before it loads.
 *
 * The reading is recorded: `progressed` a few seconds after the reader moves,
 * every 30 s while the learner reads and when the page is left, with the place
 * (a CFI) and how far into the book the reader has been (percent of the spine,
 * counted by sections and pages within them); `completed` once that reaches 90 %.
 */
(function () {
  "use strict";

  var SIZES = [80, 90, 100, 115, 130, 150, 175, 200];
  var LOCATION = "https://kalan.invalid/xapi/extensions/location";
  var PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress";

  function read(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function write(key, value) {
    try {
      window.localStorage.setItem(key, value);
    } catch (error) {
      // storage disabled or full: the place is not remembered
    }
  }

  function element(tag, text, parent) {
    var node = document.createElement(tag);
    if (text) {
      node.textContent = text;
    }
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  /* Frames get a title and no scripts; the reader still reaches into them (same origin). */
  function guardFrames(title) {
    var View = window.ePub.Views && window.ePub.Views.iframe;
    if (!View || View.prototype.kalanGuarded) {
      return;
    }
    var create = View.prototype.create;
    View.prototype.create = function () {
      var frame = create.apply(this, arguments);
      if (frame && !frame.getAttribute("sandbox")) {
        frame.setAttribute("sandbox", "allow-same-origin");
        frame.setAttribute("title", title);
      }
      return frame;
    };
    View.prototype.kalanGuarded = true;
  }

  function flatten(items, depth, out) {
    (items || []).forEach(function (item) {
      out.push({ href: item.href, title: new Array(depth + 1).join("— ") + (item.title || "") });
      flatten(item.children, depth + 1, out);
    });
    return out;
  }

  /* Where a location starts, as a whole CFI: epub.js leaves out the section's step there
   * (`epubcfi(/!/4/2/1:0)`), which the section's cfiBase puts back. */
  function placeOf(book, start) {
    var cfi = start && start.cfi;
    var section = cfi && typeof start.index === "number" ? book.spine.get(start.index) : null;
    if (cfi && cfi.indexOf("epubcfi(/!") === 0 && section && section.cfiBase) {
      return "epubcfi(" + section.cfiBase + cfi.slice("epubcfi(/".length);
    }
    return cfi || null;
  }

  /* How far into the book a place ends, in percent of the spine's sections. */
  function percent(book, location) {
    var end = location.end || location.start;
    var sections = book.spine && book.spine.length;
    if (!end || !sections || typeof end.index !== "number") {
      return 0;
    }
    var shown = end.displayed && end.displayed.total ? end.displayed.page / end.displayed.total : 1;
    return Math.min(100, Math.floor(((end.index + shown) / sections) * 100));
  }

  /* Records the reading of `book`; returns what to call each time the reader moves. */
  function recordReading(root, book) {
    var records = window.KalanRecords && window.KalanRecords.start(root);
    if (!records) {
      return function () {};
    }
    var place = null;
    var furthest = 0;
    var completed = false;
    function report() {
      if (!place) {
        return;
      }
      var extensions = {};
      extensions[LOCATION] = place;
      extensions[PROGRESS] = furthest;
      var completes = !completed && furthest >= 90;
      completed = completed || completes;
      var result = { extensions: extensions };
      if (completes) {
        result.completion = true;
      }
      records.send(completes ? "completed" : "progressed", { result: result });
    }
    var soon = records.pace(report);
    records.leave(report);
    return function moved(location) {
      var cfi = placeOf(book, location.start);
      furthest = Math.max(furthest, percent(book, location));
      if (cfi && place && cfi !== place) {
        soon(); // the first place shown is where the book opened, not a move
      }
      place = cfi || place;
    };
  }

  function setUp(root) {
    var label = function (name, fallback) {
      return root.getAttribute("data-label-" + name) || fallback;
    };
    var placeKey = "kalan.epub." + (root.getAttribute("data-key") || root.getAttribute("data-src"));
    var status = element("p", label("loading", "Loading…"), root);
    status.setAttribute("role", "status");

    function fail(error) {
      if (window.console) {
        window.console.error(error);
      }
      status.textContent = label("error", "This book cannot be shown.");
      status.setAttribute("role", "alert");
      status.className = "player-error";
    }

    if (!window.ePub || !window.fetch) {
      fail(new Error("epub.js is not loaded"));
      return;
    }
    guardFrames(root.getAttribute("data-title") || document.title);
    window
      .fetch(root.getAttribute("data-src"))
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.arrayBuffer();
      })
      .then(function (data) {
        return window.ePub(data, {}); // with options: open now, as a zipped book
      })
      .then(function (book) {
        status.remove();
        show(root, book, label, placeKey);
      })
      .catch(fail);
  }

  function show(root, book, label, placeKey) {
    var bar = element("div", null, root);
    bar.className = "epub-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", label("toolbar", "Reading tools"));
    var previous = element("button", label("previous", "Previous page"), bar);
    var next = element("button", label("next", "Next page"), bar);
    var smaller = element("button", label("smaller", "Smaller text"), bar);
    var larger = element("button", label("larger", "Larger text"), bar);
    [previous, next, smaller, larger].forEach(function (button) {
      button.type = "button";
    });
    var area = element("div", null, root);
    area.className = "epub-area";

    var entries = flatten(book.toc, 0, []);
    var contents = null;
    if (entries.length) {
      var field = element("label", label("contents", "Contents") + " ", bar);
      contents = element("select", null, field);
      entries.forEach(function (entry, index) {
        var option = element("option", entry.title, contents);
        option.value = String(index);
      });
    }

    var rendition = book.renderTo(area, { width: "100%", height: "100%" });
    var moved = recordReading(root, book);
    var size = SIZES.indexOf(Number(read("kalan.epub.size")));
    size = size < 0 ? SIZES.indexOf(100) : size;

    function setSize(index) {
      size = Math.max(0, Math.min(SIZES.length - 1, index));
      rendition.themes.fontSize(SIZES[size] + "%");
      smaller.disabled = size === 0;
      larger.disabled = size === SIZES.length - 1;
      write("kalan.epub.size", String(SIZES[size]));
    }

    function turn(forward) {
      return forward ? rendition.next() : rendition.prev();
    }

    function onKey(event) {
      var target = event.target;
      var tag = target && target.tagName;
      var typing = tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
      if (typing || event.altKey || event.ctrlKey || event.metaKey) {
        return;
      }
      if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        turn(event.key === "ArrowRight");
      }
    }

    previous.addEventListener("click", function () {
      turn(false);
    });
    next.addEventListener("click", function () {
      turn(true);
    });
    smaller.addEventListener("click", function () {
      setSize(size - 1);
    });
    larger.addEventListener("click", function () {
      setSize(size + 1);
    });
    if (contents) {
      contents.addEventListener("change", function () {
        rendition.display(entries[Number(contents.value)].href);
      });
    }
    document.addEventListener("keyup", onKey);
    rendition.on("keyup", onKey);
    rendition.on("relocated", function (location) {
      previous.disabled = Boolean(location.atStart);
      next.disabled = Boolean(location.atEnd);
      var here = placeOf(book, location.start);
      if (here) {
        write(placeKey, here);
      }
      moved(location);
    });

    setSize(size);
    var place = root.getAttribute("data-resume") || read(placeKey);
    rendition.display(place || undefined).catch(function () {
      return rendition.display(); // a place from another edition of the book
    });
  }

  function start() {
    var readers = document.querySelectorAll("[data-epub-reader]");
    for (var i = 0; i < readers.length; i++) {
      setUp(readers[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
