/* Kalan learning records: the players' xAPI statements, sent to the hub's LRS.
 *
 * Markup (the player view fills data-xapi; see docs/architecture/learning-records.md):
 *   <figure data-media-player data-xapi='{"endpoint": "/xapi/statements", "csrf": "…",
 *       "actor": {…the learner…}, "object": {…the resource's activity…}, "length": 6}'
 *       data-resume="12.5">                 optional: where the player opens
 *   <script src="{% static 'content/records.js' %}" defer></script>   before the player's script
 *
 * KalanRecords.start(root, keepsTime) is the recorder of a root element (null
 * without data-xapi). recorder.send(verb, {object, result, context}, restart)
 * queues a statement: a new id, the learner as actor, the resource as object
 * unless given, the time (later than the page's previous statement's, if only
 * by a millisecond), and result.duration: the time since the page's previous
 * statement (or since it opened). With restart the statement has no duration
 * and the count starts again. The count stops while the page is hidden, unless
 * a recorder's keepsTime() says it is still in use (a playing audio).
 * recorder.pace(report) calls report() every 30 s while the page is seen and
 * used, and returns soon(): report within 5 s. recorder.leave(fn) and
 * recorder.back(fn) run fn when the page is left and when it comes back from
 * the browser's cache. An element with data-xapi-visit (an HTML5 app's frame)
 * records `experienced` when the page opens and `terminated` when it is left.
 *
 * Statements go out as they come, several in one request when several wait:
 * POST with the session cookie, X-CSRFToken and X-Experience-API-Version,
 * with keepalive, so that a request outlives its page. A refused request
 * (4xx) is sent again one statement at a time; a refused statement is logged
 * and dropped. While the hub cannot be reached, statements wait in memory and
 * go again after a while, or when the browser is back online. What is unsent
 * when the page is hidden is also kept in localStorage (per learner) for the
 * learner's next player page; the LRS takes a statement sent twice as it is.
 * Nothing here throws at the page.
 */
(function () {
  "use strict";

  var ADL = "http://adlnet.gov/expapi/verbs/";
  var MAX_BATCH = 30000; // bytes: keepalive bodies must stay under 64 KB
  var KEEP = 500; // statements kept while the hub cannot be reached
  var queue = []; // {s: statement, size: bytes, alone: send on its own, sending: in a request}
  var hub = null; // endpoint, CSRF token and storage key, from the first recorder
  var recorders = [];
  var spent = 0; // milliseconds counted since the previous statement
  var since = clock(); // when the current stretch began; null while the count is stopped
  var used = since; // the learner's last key, touch or scroll
  var stamped = 0; // the previous statement's timestamp
  var retry = null;
  var wait = 2000;
  var flushing = null;

  function clock() {
    return window.performance && performance.now ? performance.now() : Date.now();
  }

  function warn(message, detail) {
    if (window.console) {
      console.warn("Kalan learning records: " + message, detail);
    }
  }

  /* Count the stretch that ends now; start the next one if the page is in use. */
  function tick() {
    var now = clock();
    var inUse = !document.hidden;
    recorders.forEach(function (recorder) {
      inUse = inUse || Boolean(recorder.keepsTime && recorder.keepsTime());
    });
    spent += since === null ? 0 : now - since;
    since = inUse ? now : null;
  }

  function uuid() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var text = "";
    for (var i = 0; i < 16; i++) {
      text += (i === 4 || i === 6 || i === 8 || i === 10 ? "-" : "");
      text += (bytes[i] + 256).toString(16).slice(1);
    }
    return text;
  }

  // ---------------------------------------------------------------- sending

  function add(statement) {
    queue.push({ s: statement, size: JSON.stringify(statement).length });
    if (queue.length > KEEP) {
      warn("the hub cannot be reached; the oldest statements are dropped", queue.splice(0, 1));
    }
  }

  function kept() {
    return JSON.parse(localStorage.getItem(hub.key)) || [];
  }

  /* Unsent statements join those other pages left in localStorage for the next player page. */
  function keep() {
    try {
      var statements = kept();
      var ids = statements.map(function (statement) {
        return statement.id;
      });
      queue.forEach(function (item) {
        if (ids.indexOf(item.s.id) < 0) {
          statements.push(item.s);
        }
      });
      if (statements.length) {
        localStorage.setItem(hub.key, JSON.stringify(statements.slice(-KEEP)));
      }
    } catch (error) {
      // storage disabled or full: the statements last as long as the page
    }
  }

  /* The first player page to open takes them. */
  function take() {
    try {
      var statements = kept();
      localStorage.removeItem(hub.key);
      statements.forEach(add);
    } catch (error) {
      // nothing kept, or nothing readable
    }
  }

  function send(batch) {
    var body = JSON.stringify(
      batch.map(function (item) {
        item.sending = true;
        return item.s;
      })
    );
    function done(status) {
      var refused = status >= 400 && status < 500 && status !== 408 && status !== 429;
      batch.forEach(function (item) {
        item.sending = false;
        item.alone = refused;
      });
      if (refused && batch.length > 1) {
        // one of them is wrong: each goes again on its own
      } else if (refused || (status >= 200 && status < 300)) {
        if (refused) {
          warn("the hub refused a statement (HTTP " + status + ")", batch[0].s);
        }
        wait = 2000;
        queue = queue.filter(function (item) {
          return batch.indexOf(item) < 0;
        });
      } else {
        later();
        return;
      }
      flush();
    }
    try {
      fetch(hub.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": hub.csrf,
          "X-Experience-API-Version": "2.0.0"
        },
        body: body,
        credentials: "same-origin",
        keepalive: body.length < 60000
      }).then(
        function (response) {
          done(response.status);
        },
        function () {
          done(0);
        }
      );
    } catch (error) {
      setTimeout(done, 0, 0);
    }
  }

  function later() {
    if (!retry) {
      retry = setTimeout(function () {
        retry = null;
        flush();
      }, wait);
      wait = Math.min(wait * 2, 60000);
    }
  }

  /* Send what waits: one request at a time, or all of it at once when the page goes. */
  function flush(all) {
    if (all) {
      clearTimeout(retry);
      retry = null;
    }
    while (hub && !retry) {
      var batch = [];
      var size = 0;
      for (var i = 0; i < queue.length; i++) {
        var item = queue[i];
        if (item.sending && !all) {
          return;
        }
        if (!item.sending) {
          if (batch.length && (item.alone || size + item.size > MAX_BATCH)) {
            break;
          }
          batch.push(item);
          size += item.size;
          if (item.alone) {
            break;
          }
        }
      }
      if (!batch.length) {
        return;
      }
      send(batch);
      if (!all) {
        return;
      }
    }
  }

  function flushSoon() {
    flushing =
      flushing ||
      setTimeout(function () {
        flushing = null;
        flush();
      }, 0);
  }

  // ---------------------------------------------------------------- recorders

  function Recorder(root, settings, keepsTime) {
    this.settings = settings;
    this.keepsTime = keepsTime;
    this.resume = root.getAttribute("data-resume") || "";
    this.leaving = [];
    this.returning = [];
  }

  Recorder.prototype.send = function (verb, parts, restart) {
    parts = parts || {};
    if (typeof verb === "string") {
      var id = verb.indexOf(":") < 0 ? ADL + verb : verb;
      verb = { id: id, display: { "en-US": id.slice(id.lastIndexOf("/") + 1) } };
    }
    tick();
    var result = parts.result || {};
    delete result.duration;
    if (!restart) {
      result.duration = "PT" + Math.round(spent / 10) / 100 + "S";
    }
    spent = 0;
    stamped = Math.max(Date.now(), stamped + 1);
    var statement = {
      id: uuid(),
      actor: this.settings.actor,
      verb: verb,
      object: parts.object || this.settings.object,
      timestamp: new Date(stamped).toISOString()
    };
    if (Object.keys(result).length) {
      statement.result = result;
    }
    if (parts.context) {
      statement.context = parts.context;
    }
    add(statement);
    flushSoon();
  };

  Recorder.prototype.leave = function (fn) {
    this.leaving.push(fn);
  };

  Recorder.prototype.back = function (fn) {
    this.returning.push(fn);
  };

  Recorder.prototype.pace = function (report) {
    var timer = null;
    var hurried = false;
    var last = clock();
    function run() {
      hurried = false;
      last = clock();
      report();
      beat();
    }
    function beat() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        // Every 30 s while the page is seen, unless nothing was done for 5 minutes.
        if (!document.hidden && clock() - used < 300000) {
          run();
        } else {
          beat();
        }
      }, 30000);
    }
    beat();
    return function soon() {
      used = clock();
      if (!hurried) {
        hurried = true;
        clearTimeout(timer);
        timer = setTimeout(run, Math.max(0, last + 5000 - used));
      }
    };
  };

  function start(root, keepsTime) {
    if (!window.fetch || !window.crypto || !window.JSON) {
      return null;
    }
    try {
      var settings = JSON.parse(root.getAttribute("data-xapi"));
      hub = hub || {
        endpoint: settings.endpoint,
        csrf: settings.csrf,
        key: "kalan.records." + settings.actor.account.name
      };
    } catch (error) {
      return null;
    }
    if (!recorders.length) {
      take();
      flushSoon();
    }
    var recorder = new Recorder(root, settings, keepsTime);
    recorders.push(recorder);
    return recorder;
  }

  function each(list) {
    recorders.forEach(function (recorder) {
      recorder[list].forEach(function (fn) {
        try {
          fn();
        } catch (error) {
          warn("a player could not record", error);
        }
      });
    });
  }

  /* Hidden or left, the page sends everything, and keeps what is unsent for the next page. */
  function away() {
    if (hub) {
      flush(true);
      keep();
    }
  }

  document.addEventListener("visibilitychange", function () {
    tick();
    if (document.hidden) {
      away();
    }
  });
  addEventListener("pagehide", function () {
    each("leaving");
    away();
  });
  addEventListener("pageshow", function (event) {
    if (event.persisted) {
      spent = 0;
      since = clock();
      each("returning");
    }
  });
  addEventListener("online", function () {
    flush(true);
  });
  ["keydown", "pointerdown", "touchstart", "wheel", "scroll"].forEach(function (name) {
    document.addEventListener(
      name,
      function () {
        used = clock();
      },
      { capture: true, passive: true }
    );
  });

  window.KalanRecords = { start: start, uuid: uuid };

  var frames = document.querySelectorAll("[data-xapi-visit]");
  for (var i = 0; i < frames.length; i++) {
    var visit = start(frames[i]);
    if (visit) {
      visit.send("experienced", null, true);
      visit.leave(visit.send.bind(visit, "terminated", null, false));
      visit.back(visit.send.bind(visit, "experienced", null, true));
    }
  }
})();
