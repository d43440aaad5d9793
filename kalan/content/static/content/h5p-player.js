/* Kalan H5P player: starts h5p-standalone on an extracted .h5p package.
 *
 * Markup (URLs from {% static %} and the zip server; strings translated):
 *   <div class="h5p-player" data-h5p-player
 *        data-h5p-json-path="/content/zip/<sha256>"        folder holding h5p.json
 *        data-frame-js="{% static 'vendor/h5p-standalone/frame.bundle.js' %}"
 *        data-frame-css="{% static 'vendor/h5p-standalone/styles/h5p.css' %}"
 *        data-id="<resource id>"                            optional: the H5P content id
 *        data-title="Activity title"                        names the activity's frame
 *        data-full-screen                                   optional: offer full screen
 *        data-label-loading="Loading…" data-label-error="This activity cannot be shown.">
 *   </div>
 *   <script src="{% static 'vendor/h5p-standalone/main.bundle.js' %}" defer></script>
 *   <script src="{% static 'content/h5p-player.js' %}" defer></script>
 *
 * Optional data-libraries-path and data-content-json-path override where the
 * libraries and content/content.json are (by default inside the package folder).
 * Each xAPI statement the activity emits is dispatched on the element as a
 * bubbling "kalan:xapi" event whose detail is the statement, for the page to record.
 */
(function () {
  "use strict";

  var forwarding = false;

  function forwardStatements() {
    var dispatcher = window.H5P && window.H5P.externalDispatcher;
    if (forwarding || !dispatcher) {
      return;
    }
    forwarding = true;
    dispatcher.on("xAPI", function (event) {
      var statement = event && event.data && event.data.statement;
      var players = document.querySelectorAll("[data-h5p-player]");
      // One dispatcher for the page: the statement names its activity; the
      // player of a lone activity is its obvious owner.
      var target = players.length === 1 ? players[0] : document;
      var custom;
      try {
        custom = new CustomEvent("kalan:xapi", { bubbles: true, detail: statement });
      } catch (error) {
        custom = document.createEvent("CustomEvent");
        custom.initCustomEvent("kalan:xapi", true, false, statement);
      }
      target.dispatchEvent(custom);
    });
  }

  function setUp(root) {
    var label = function (name, fallback) {
      return root.getAttribute("data-label-" + name) || fallback;
    };
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    status.textContent = label("loading", "Loading…");
    root.appendChild(status);

    function fail(error) {
      if (window.console) {
        window.console.error(error);
      }
      status.textContent = label("error", "This activity cannot be shown.");
      status.setAttribute("role", "alert");
      status.className = "player-error";
    }

    var Standalone = window.H5PStandalone && window.H5PStandalone.H5P;
    if (!Standalone) {
      fail(new Error("h5p-standalone is not loaded"));
      return;
    }
    var frame = document.createElement("div");
    root.appendChild(frame);
    var options = {
      h5pJsonPath: root.getAttribute("data-h5p-json-path"),
      frameJs: root.getAttribute("data-frame-js"),
      frameCss: root.getAttribute("data-frame-css"),
      frame: false,
      copyright: false,
      export: false,
      embed: false,
      icon: false,
      fullScreen: root.hasAttribute("data-full-screen")
    };
    ["id", "libraries-path", "content-json-path"].forEach(function (name) {
      var value = root.getAttribute("data-" + name);
      if (value) {
        options[name.replace(/-([a-z])/g, function (match, letter) {
          return letter.toUpperCase();
        })] = value;
      }
    });
    var started;
    try {
      started = new Standalone(frame, options);
    } catch (error) {
      fail(error);
      return;
    }
    Promise.resolve(started)
      .then(function () {
        status.remove();
        var iframe = frame.querySelector("iframe");
        if (iframe && !iframe.getAttribute("title")) {
          iframe.setAttribute("title", root.getAttribute("data-title") || document.title);
        }
        forwardStatements();
      })
      .catch(fail);
  }

  function start() {
    var players = document.querySelectorAll("[data-h5p-player]");
    for (var i = 0; i < players.length; i++) {
      setUp(players[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
