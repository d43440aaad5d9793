/* Kalan PDF viewer (an ES module): pages drawn by pdf.js, each with its text layer.
 *
 * Markup (every URL from {% static %} or the file server; strings translated):
 *   <section class="pdf-viewer" data-pdf-viewer
 *       data-src="/content/files/<sha256>"                      the PDF
 *       data-lib="{% static 'vendor/pdfjs/pdf.min.mjs' %}"
 *       data-worker="{% static 'vendor/pdfjs/pdf.worker.min.mjs' %}"
 *       data-wasm-jbig2="{% static 'vendor/pdfjs/wasm/jbig2.wasm' %}"
 *       data-wasm-openjpeg="{% static 'vendor/pdfjs/wasm/openjpeg.wasm' %}"
 *       data-label-toolbar="Document tools" data-label-document="Document"
 *       data-label-previous="Previous page" data-label-next="Next page"
 *       data-label-page="Page" data-label-of="of {total}"
 *       data-label-page-of="Page {page} of {total}"
 *       data-label-zoom-in="Zoom in" data-label-zoom-out="Zoom out"
 *       data-label-loading="Loading…" data-label-error="This document cannot be shown."
 *       data-xapi="{…}" data-resume="page=3">                       (see records.js)
 *     <p><a href="/content/files/<sha256>" download>Download the PDF</a></p>   (kept)
 *   </section>
 *   <script src="{% static 'content/records.js' %}" defer></script>
 *   <script type="module" src="{% static 'content/pdf-viewer.js' %}"></script>
 *   <link rel="stylesheet" href="{% static 'content/players.css' %}">
 *
 * Pages are drawn when they come near the view and their canvases freed when far;
 * the text layer (transparent text over the canvas) stays, so screen readers
 * and text selection read the page. Keys: the page area scrolls with the arrow
 * and page keys once focused; the buttons and the page number field are plain
 * controls. Wasm decoders are fetched only for pages with JBIG2/CCITT or JPEG
 * 2000 images; no font data or CMaps are fetched (see scripts/vendor_assets.py).
 *
 * The viewer opens at data-resume's page and records the reading: a page is
 * seen when at least half of it (or of the view) stays in view for a second.
 * `progressed` goes out a few seconds after new pages were seen, every 30 s
 * while the learner reads and when the page is left, with the pages seen since
 * the previous statement, the current page ("page=N") and the percent of pages
 * seen; `completed` once 90 % of the pages have been seen.
 */

const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3];
const MAX_CANVAS_PIXELS = 4096 * 4096; // old tablets run out of memory beyond this
const KEEP_MARGIN = 3; // pages beyond this distance from the view lose their canvas
const SETTLE = 1000; // a page in view this long after the last scroll is seen
const PAGES = "https://kalan.invalid/xapi/extensions/pages";
const LOCATION = "https://kalan.invalid/xapi/extensions/location";
const PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress";

function text(root, name, fallback, values) {
  let value = root.getAttribute(`data-label-${name}`) || fallback;
  for (const [key, replacement] of Object.entries(values || {})) {
    value = value.replace(`{${key}}`, String(replacement));
  }
  return value;
}

function element(tag, attributes, parent) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "text") {
      node.textContent = value;
    } else {
      node.setAttribute(key, value);
    }
  }
  if (parent) {
    parent.appendChild(node);
  }
  return node;
}

/* pdf.js asks for wasm decoders by file name; ours are fingerprinted static files. */
function binaryDataFactory(urls) {
  return class StaticBinaryData {
    async fetch({ filename }) {
      const url = urls[filename];
      if (!url) {
        throw new Error(`${filename} is not shipped`);
      }
      const response = await fetch(url);
      if (!response.ok) {
        throw new Error(`${url}: HTTP ${response.status}`);
      }
      return new Uint8Array(await response.arrayBuffer());
    }
  };
}

class Viewer {
  constructor(root, pdfjs, pdf, records) {
    this.root = root;
    this.pdfjs = pdfjs;
    this.pdf = pdf;
    this.total = pdf.numPages;
    this.pages = [];
    this.current = 1;
    this.scale = 1;
    this.base = null; // the first page's size at scale 1: the estimate for the others
    this.records = records;
    this.seen = new Set();
    this.fresh = []; // pages seen since the last statement
    this.completed = false;
    this.settling = null;
    this.soon = null;
  }

  async start() {
    const first = await this.pdf.getPage(1);
    this.base = first.getViewport({ scale: 1 });
    this.buildToolbar();
    this.area = element("div", {
      class: "pdf-pages",
      tabindex: "0",
      role: "region",
      "aria-label": text(this.root, "document", "Document"),
    }, this.root);
    const fit = (this.area.clientWidth - 16) / this.base.width;
    this.scale = Math.min(2, Math.max(0.5, fit || 1));
    for (let number = 1; number <= this.total; number++) {
      this.pages.push(this.buildPage(number));
    }
    this.observe();
    this.update();
    const resume = /^page=(\d+)$/.exec(this.root.getAttribute("data-resume") || "");
    if (resume) {
      this.go(Number(resume[1]));
    }
    if (this.records) {
      this.soon = this.records.pace(() => this.report());
      this.records.leave(() => {
        this.look();
        this.report();
      });
    }
  }

  buildToolbar() {
    const root = this.root;
    const bar = element("div", {
      class: "pdf-toolbar",
      role: "toolbar",
      "aria-label": text(root, "toolbar", "Document tools"),
    });
    root.insertBefore(bar, root.firstChild);
    const button = (name, fallback) =>
      element("button", { type: "button", text: text(root, name, fallback) }, bar);
    this.previous = button("previous", "Previous page");
    this.next = button("next", "Next page");
    const field = element("label", { class: "pdf-page-number" }, bar);
    field.appendChild(document.createTextNode(text(root, "page", "Page") + " "));
    this.number = element(
      "input",
      { type: "number", min: "1", max: String(this.total), inputmode: "numeric", value: "1" },
      field,
    );
    element("span", { text: " " + text(root, "of", "of {total}", { total: this.total }) }, field);
    this.zoomOut = button("zoom-out", "Zoom out");
    this.zoomLevel = element("output", { class: "pdf-zoom", "aria-live": "polite" }, bar);
    this.zoomIn = button("zoom-in", "Zoom in");
    this.status = element("p", { class: "visually-hidden", role: "status" }, root);

    this.previous.addEventListener("click", () => this.go(this.current - 1));
    this.next.addEventListener("click", () => this.go(this.current + 1));
    this.number.addEventListener("change", () => this.go(Number(this.number.value)));
    this.zoomOut.addEventListener("click", () => this.zoom(-1));
    this.zoomIn.addEventListener("click", () => this.zoom(1));
  }

  buildPage(number) {
    const name = text(this.root, "page-of", "Page {page} of {total}", {
      page: number,
      total: this.total,
    });
    const box = element(
      "div",
      { class: "pdf-page", role: "group", "aria-label": name, "data-page": String(number) },
      this.area,
    );
    const page = { number, box, canvas: null, textLayer: null, size: null };
    Object.assign(page, { task: null, pending: false, visible: false });
    this.size(page);
    return page;
  }

  size(page) {
    const viewport = (page.size || this.base).clone({ scale: this.scale });
    page.box.style.width = `${Math.floor(viewport.width)}px`;
    page.box.style.height = `${Math.floor(viewport.height)}px`;
    page.box.style.setProperty("--total-scale-factor", String(this.scale));
    page.box.style.setProperty("--scale-round-x", "1px");
    page.box.style.setProperty("--scale-round-y", "1px");
  }

  observe() {
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const page = this.pages[Number(entry.target.getAttribute("data-page")) - 1];
        page.visible = entry.isIntersecting;
        if (entry.isIntersecting) {
          this.draw(page);
        }
      }
      this.track();
    }, { root: this.area, rootMargin: "100% 0px" });
    for (const page of this.pages) {
      this.observer.observe(page.box);
    }
    this.area.addEventListener("scroll", () => this.track(), { passive: true });
  }

  /* The current page is the one under the top third of the view. */
  track() {
    const mark = this.area.scrollTop + this.area.clientHeight / 3;
    let current = 1;
    for (const page of this.pages) {
      if (page.box.offsetTop <= mark) {
        current = page.number;
      } else {
        break;
      }
    }
    if (current !== this.current) {
      this.current = current;
      this.update();
    }
    this.free();
    clearTimeout(this.settling);
    this.settling = setTimeout(() => this.look(), SETTLE);
  }

  /* Pages with at least half of themselves (or of the view) in view are seen. */
  look() {
    const top = this.area.scrollTop;
    const bottom = top + this.area.clientHeight;
    for (const page of this.pages) {
      const start = page.box.offsetTop;
      const end = start + page.box.offsetHeight;
      const shown = Math.min(end, bottom) - Math.max(start, top);
      if (shown > 0 && shown >= Math.min(end - start, bottom - top) / 2
          && !this.seen.has(page.number)) {
        this.seen.add(page.number);
        this.fresh.push(page.number);
      }
    }
    if (this.fresh.length && this.soon) {
      this.soon();
    }
  }

  report() {
    const extensions = {
      [LOCATION]: `page=${this.current}`,
      [PROGRESS]: Math.floor((this.seen.size * 100) / this.total),
    };
    if (this.fresh.length) {
      extensions[PAGES] = this.fresh.sort((a, b) => a - b);
      this.fresh = [];
    }
    const completes = !this.completed && this.seen.size >= 0.9 * this.total;
    this.completed = this.completed || completes;
    const result = completes ? { completion: true, extensions } : { extensions };
    this.records.send(completes ? "completed" : "progressed", { result });
  }

  update() {
    this.number.value = String(this.current);
    this.previous.disabled = this.current <= 1;
    this.next.disabled = this.current >= this.total;
    this.zoomOut.disabled = this.scale <= ZOOMS[0];
    this.zoomIn.disabled = this.scale >= ZOOMS[ZOOMS.length - 1];
    this.zoomLevel.textContent = `${Math.round(this.scale * 100)} %`;
  }

  go(number) {
    if (!Number.isFinite(number)) {
      this.update();
      return;
    }
    const target = Math.min(this.total, Math.max(1, Math.round(number)));
    this.current = target;
    this.area.scrollTop = this.pages[target - 1].box.offsetTop;
    this.update();
    this.status.textContent = text(this.root, "page-of", "Page {page} of {total}", {
      page: target, total: this.total,
    });
  }

  zoom(direction) {
    const next = direction > 0
      ? ZOOMS.find((step) => step > this.scale + 1e-6)
      : [...ZOOMS].reverse().find((step) => step < this.scale - 1e-6);
    if (next === undefined) {
      return;
    }
    const keep = this.current;
    this.scale = next;
    for (const page of this.pages) {
      this.clear(page, true);
      this.size(page);
    }
    this.go(keep);
    for (const page of this.pages) {
      if (page.visible) {
        this.draw(page);
      }
    }
  }

  async draw(page) {
    if (page.canvas || page.pending) {
      return;
    }
    const scale = this.scale;
    page.pending = true;
    let proxy;
    try {
      proxy = await this.pdf.getPage(page.number);
    } finally {
      page.pending = false;
    }
    if (scale !== this.scale || page.canvas) {
      return;
    }
    page.size = proxy.getViewport({ scale: 1 });
    this.size(page);
    const viewport = proxy.getViewport({ scale });
    const ratio = Math.min(
      window.devicePixelRatio || 1,
      Math.sqrt(MAX_CANVAS_PIXELS / (viewport.width * viewport.height)),
    );
    const canvas = element("canvas", { "aria-hidden": "true" });
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    page.box.insertBefore(canvas, page.box.firstChild);
    page.canvas = canvas;
    page.task = proxy.render({
      canvas,
      viewport,
      transform: ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0],
    });
    try {
      await page.task.promise;
    } catch (error) {
      if (!(error instanceof this.pdfjs.RenderingCancelledException)) {
        console.error(error);
      }
    } finally {
      page.task = null;
    }
    if (!page.textLayer && scale === this.scale) {
      await this.writeText(page, proxy, viewport);
    }
  }

  async writeText(page, proxy, viewport) {
    const layer = element("div", { class: "textLayer" }, page.box);
    page.textLayer = layer;
    const textLayer = new this.pdfjs.TextLayer({
      textContentSource: proxy.streamTextContent(),
      container: layer,
      viewport,
    });
    try {
      await textLayer.render();
    } catch (error) {
      console.error(error);
    }
  }

  /* Canvases of pages far from the view go; their text layers stay. */
  free() {
    for (const page of this.pages) {
      if (page.canvas && Math.abs(page.number - this.current) > KEEP_MARGIN && !page.visible) {
        this.clear(page, false);
      }
    }
  }

  clear(page, withText) {
    if (page.task) {
      page.task.cancel();
      page.task = null;
    }
    if (page.canvas) {
      page.canvas.width = 0;
      page.canvas.height = 0;
      page.canvas.remove();
      page.canvas = null;
    }
    if (withText && page.textLayer) {
      page.textLayer.remove();
      page.textLayer = null;
    }
  }
}

async function open(root) {
  const loading = element(
    "p",
    { class: "pdf-loading", role: "status", text: text(root, "loading", "Loading…") },
    root,
  );
  try {
    const pdfjs = await import(root.getAttribute("data-lib"));
    pdfjs.GlobalWorkerOptions.workerSrc = root.getAttribute("data-worker");
    const pdf = await pdfjs.getDocument({
      url: root.getAttribute("data-src"),
      BinaryDataFactory: binaryDataFactory({
        "jbig2.wasm": root.getAttribute("data-wasm-jbig2"),
        "openjpeg.wasm": root.getAttribute("data-wasm-openjpeg"),
      }),
      useWorkerFetch: false,
      isEvalSupported: false,
      enableXfa: false,
    }).promise;
    loading.remove();
    const records = window.KalanRecords ? window.KalanRecords.start(root) : null;
    await new Viewer(root, pdfjs, pdf, records).start();
  } catch (error) {
    console.error(error);
    loading.textContent = text(root, "error", "This document cannot be shown.");
    loading.setAttribute("role", "alert");
  }
}

for (const root of document.querySelectorAll("[data-pdf-viewer]")) {
  open(root);
}
