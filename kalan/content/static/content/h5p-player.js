/* Kalan H5P player: starts h5p-standalone on an extracted .h5p package, and
 * records the activity's xAPI statements from the player page.
 *
 * In the host page (h5p_host.html, an opaque origin), markup (URLs from
 * {% static %} and the zip server; strings translated):
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
 * Each xAPI statement the activity emits goes to the parent page with
 * postMessage({kalan: "xapi", statement}), addressed to the hub's origin only.
 *
 * In the player page (h5p.html):
 *   <iframe class="player-frame" src="/play/h5p/<sha256>/" data-xapi="{…}" data-xapi-h5p>
 *   <script src="{% static 'content/records.js' %}" defer></script>
 *   <script src="{% static 'content/h5p-player.js' %}" defer></script>
 * Messages are taken from that frame's window only. H5P names the activity
 * after the package's folder (data-xapi's "source" on the hub's origin), and a
 * part of it after the folder and "?subContentId=<id>": these ids become the
 * resource's activity id and `<activity id>?subContentId=<id>`. The actor
 * becomes the learner, the duration the time since the page's previous
 * statement; only what H5P sets and the LRS takes is kept (verb, object,
 * result, context activities, extensions and language). The activity gets
 * the resource's title when H5P gives it none. A statement about another
 * activity, or naming another Kalan resource, is dropped. The page records
 * `terminated` when it is left, once the activity has said something.
 */
(function () {
  "use strict";

  var KALAN = "https://kalan.invalid/";
  var forwarding = false;

  function hubOrigin() {
    return window.location.protocol + "//" + window.location.host;
  }

  function forwardStatements() {
    var dispatcher = window.H5P && window.H5P.externalDispatcher;
    if (forwarding || !dispatcher || window.parent === window) {
      return;
    }
    forwarding = true;
    dispatcher.on("xAPI", function (event) {
      var statement = event && event.data && event.data.statement;
      if (!statement) {
        return;
      }
      try {
        var copy = JSON.parse(JSON.stringify(statement));
        window.parent.postMessage({ kalan: "xapi", statement: copy }, hubOrigin());
      } catch (error) {
        if (window.console) {
          window.console.error(error);
        }
      }
    });
  }

  // ---------------------------------------------------------------- in the player page

  /* A statement of the activity as the learner's about the resource; null if not about it. */
  function adopt(statement, source, activity) {
    function own(id) {
      if (typeof id !== "string") {
        return null;
      }
      var next = id.charAt(source.length);
      if (id === source || (id.indexOf(source) === 0 && "?#/".indexOf(next) >= 0)) {
        return activity + id.slice(source.length);
      }
      return id.indexOf(KALAN) === 0 ? null : id;
    }
    function activities(list) {
      var kept = [];
      [].concat(list || []).forEach(function (item) {
        var id = item && own(item.id);
        if (id) {
          var copy = { objectType: "Activity", id: id };
          if (item.definition) {
            copy.definition = item.definition;
          }
          kept.push(copy);
        }
      });
      return kept;
    }
    var object = statement && statement.object;
    var verb = statement && statement.verb;
    var id = object && (object.objectType || "Activity") === "Activity" ? own(object.id) : null;
    if (!id || id.indexOf(activity) !== 0 || !verb || typeof verb.id !== "string") {
      return null;
    }
    var adopted = { verb: verb, object: { objectType: "Activity", id: id } };
    if (object.definition && typeof object.definition === "object") {
      adopted.object.definition = object.definition;
    }
    if (statement.result && typeof statement.result === "object") {
      adopted.result = statement.result;
    }
    var context = statement.context;
    if (context && typeof context === "object") {
      adopted.context = {};
      ["language", "extensions"].forEach(function (name) {
        if (context[name]) {
          adopted.context[name] = context[name];
        }
      });
      var from = context.contextActivities;
      if (from) {
        var to = {};
        ["parent", "grouping", "category", "other"].forEach(function (name) {
          var kept = activities(from[name]);
          if (kept.length) {
            to[name] = kept;
          }
        });
        adopted.context.contextActivities = to;
      }
    }
    return adopted;
  }

  function record(frame) {
    var records = window.KalanRecords && window.KalanRecords.start(frame);
    var source = records && records.settings.source;
    if (!source) {
      return;
    }
    source = hubOrigin() + source;
    var activity = records.settings.object.id;
    var heard = false;
    window.addEventListener("message", function (event) {
      var data = event.data;
      if (event.source !== frame.contentWindow || !data || data.kalan !== "xapi") {
        return;
      }
      var statement = adopt(data.statement, source, activity);
      if (!statement) {
        return;
      }
      var definition = statement.object.definition || {};
      if (statement.object.id === activity && !definition.name) {
        definition.name = records.settings.object.definition.name;
        statement.object.definition = definition;
      }
      heard = true;
      records.send(statement.verb, statement);
    });
    records.leave(function () {
      if (heard) {
        records.send("terminated");
      }
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
    var frames = document.querySelectorAll("iframe[data-xapi-h5p]");
    for (var j = 0; j < frames.length; j++) {
      record(frames[j]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
