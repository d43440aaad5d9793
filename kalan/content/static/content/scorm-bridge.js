/* Kalan SCORM bridge: the SCORM run-time API in the SCO's own window.
 *
 * The zip content server adds, before the SCO's own scripts, in its launch page:
 *   <script src="{% static 'vendor/scorm-again/scorm12.min.js' %}"></script>  (or scorm2004)
 *   <script src="{% static 'content/scorm-bridge.js' %}"
 *           data-state-url="/content/scorm-state/<capability>/" data-version="1.2"></script>
 * The SCO runs in a sandboxed iframe with an opaque origin: it cannot reach the
 * player page, so window.API (1.2) or window.API_1484_11 (2004) is made here.
 *
 * State URL protocol (the URL is the learner's capability; no cookie is sent):
 *
 *   GET  state-url   -> 200 application/json, Cache-Control: no-store,
 *                       Access-Control-Allow-Origin: *   (the request's Origin is "null")
 *        {"cmi": {...}, "terminated": true, "launch": {...}}
 *        "cmi" and "terminated": exactly what the last POST sent ({} and absent
 *        before the first one). "launch" (optional): values the LMS sets on every
 *        launch, in the same nested shape, loaded last so they win, e.g.
 *        1.2:  {"core": {"student_id": "…", "student_name": "Family, Given",
 *                        "credit": "credit", "lesson_mode": "normal"},
 *               "launch_data": "…", "student_data": {"mastery_score": "80"}}
 *        2004: {"learner_id": "…", "learner_name": "…", "launch_data": "…",
 *               "scaled_passing_score": "0.8", "completion_threshold": "0.7"}
 *        Any other answer: Initialize fails (1.2 error 101, 2004 error 102), so a
 *        SCO never starts over and overwrites saved work with an empty state.
 *
 *   POST state-url   body: JSON text, sent as Content-Type text/plain;charset=UTF-8
 *                    (a CORS-safelisted type: no preflight); parse it whatever the type.
 *        {"cmi": {...}}                     on Commit (synchronous XHR), and from a
 *                                           beacon on pagehide when the SCO neither
 *                                           committed its last changes nor terminated
 *        {"cmi": {...}, "terminated": true} on Terminate/LMSFinish (sendBeacon)
 *        "cmi" is scorm-again's full data model (renderCommitCMI): nested objects,
 *        arrays as {"0": {...}}, every value a string; "total_time" already adds
 *        this session, e.g. 1.2 {"core": {"lesson_status": "passed",
 *        "lesson_location": "p3", "exit": "suspend", "session_time": "00:10:00",
 *        "total_time": "01:10:00", "score": {"raw": "85", ...}, ...},
 *        "suspend_data": "...", "interactions": {...}, ...}.
 *        Store the body as it is (it is what the next GET returns) and answer
 *        200 {"result": true, "errorCode": 0} with Access-Control-Allow-Origin: *.
 *        Answer {"result": false, "errorCode": 101} (or any non-2xx) to make the
 *        SCO's Commit return "false". Exempt the URL from CSRF (no cookie, no token).
 *
 * On the next launch this script turns the saved state into launch data:
 * exit, session_time and entry are dropped; entry becomes "resume" after an exit
 * of "suspend", "ab-initio" on a first launch, "" otherwise; in SCORM 2004 an
 * attempt that terminated without "suspend" is over, so the next launch starts
 * a new one from empty data (1.2 keeps its data across sessions).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var stateUrl = script && script.getAttribute("data-state-url");
  var version = script && script.getAttribute("data-version");
  var is2004 = version === "2004";
  var Runtime = is2004 ? window.Scorm2004API : window.Scorm12API;
  if (!stateUrl || !Runtime) {
    throw new Error("scorm-bridge.js: needs data-state-url, data-version and scorm-again first");
  }
  var TEXT = "text/plain;charset=UTF-8";
  // SCORM 1.2 categories: an unknown leaf inside one is an invalid argument (201),
  // not an unimplemented element (401), as the ADL conformance suite expects.
  var CATEGORIES_12 = new RegExp(
    "^cmi(\\.core(\\.score)?|\\.student_data|\\.student_preference" +
      "|\\.objectives\\.\\d+(\\.score)?" +
      "|\\.interactions\\.\\d+(\\.objectives\\.\\d+|\\.correct_responses\\.\\d+)?)?$"
  );

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function merge(target, source) {
    Object.keys(source).forEach(function (key) {
      if (isObject(source[key]) && isObject(target[key])) {
        merge(target[key], source[key]);
      } else {
        target[key] = source[key];
      }
    });
    return target;
  }

  function fetchState() {
    var request = new XMLHttpRequest();
    try {
      request.open("GET", stateUrl, false); // synchronous: Initialize must find the state
      request.send();
    } catch (error) {
      return null;
    }
    if (request.status !== 200) {
      return null;
    }
    try {
      var body = JSON.parse(request.responseText);
      return isObject(body) && isObject(body.cmi) ? body : null;
    } catch (error) {
      return null;
    }
  }

  /* The saved data model as this launch's data: see the protocol above. */
  function launchState(saved) {
    var cmi = JSON.parse(JSON.stringify(saved.cmi));
    var session = is2004 ? cmi : (cmi.core = isObject(cmi.core) ? cmi.core : {});
    var firstLaunch = Object.keys(saved.cmi).length === 0;
    var suspended = session.exit === "suspend";
    if (is2004 && saved.terminated && !suspended) {
      cmi = session = {};
      firstLaunch = true;
    }
    delete session.exit;
    delete session.session_time;
    session.entry = suspended ? "resume" : firstLaunch ? "ab-initio" : "";
    if (!is2004 && !session.credit) {
      session.credit = "credit";
    }
    if (!is2004 && !session.lesson_mode) {
      session.lesson_mode = "normal";
    }
    return merge(cmi, isObject(saved.launch) ? saved.launch : {});
  }

  /* Replace api[name] by a call to it followed by after(result, args). */
  function wrap(api, name, after) {
    var call = api[name];
    api[name] = function () {
      var result = call.apply(api, arguments);
      after(result, arguments);
      return result;
    };
  }

  function refuseToStart(api) {
    api[is2004 ? "Initialize" : "LMSInitialize"] = function () {
      api.lastErrorCode = is2004 ? "102" : "101";
      return "false";
    };
  }

  function flagInvalidArguments(api) {
    function check(result, args) {
      var element = String(args[0]);
      var parent = element.replace(/\.[^.]*$/, "");
      if (api.lastErrorCode === "401" && parent !== element && CATEGORIES_12.test(parent)) {
        api.lastErrorCode = "201";
      }
    }
    wrap(api, "LMSGetValue", check);
    wrap(api, "LMSSetValue", check);
  }

  /* scorm-again 3.4.3 keeps the previous error code after a successful GetValue of
     cmi.completion_status or cmi.success_status; a successful GetValue sets 0, and
     every failing one sets its own code. */
  function clearErrorBeforeGet(api) {
    var get = api.GetValue;
    api.GetValue = function () {
      api.lastErrorCode = "0";
      return get.apply(api, arguments);
    };
  }

  /* Whatever the SCO set but neither committed nor saved by terminating goes out
     in a beacon when the page goes away (sendBeacon is the one request allowed then). */
  function saveOnPagehide(api) {
    var unsaved = false;
    wrap(api, is2004 ? "SetValue" : "LMSSetValue", function (result) {
      unsaved = unsaved || result === "true";
    });
    wrap(api, is2004 ? "Commit" : "LMSCommit", function (result) {
      unsaved = unsaved && result !== "true";
    });
    window.addEventListener("pagehide", function () {
      if (unsaved && api.isInitialized() && !api.isTerminated() && navigator.sendBeacon) {
        var body = JSON.stringify(api.renderCommitCMI(false, true));
        unsaved = !navigator.sendBeacon(stateUrl, new Blob([body], { type: TEXT }));
      }
    });
  }

  var saved = fetchState();
  var api = new Runtime({
    lmsCommitUrl: stateUrl,
    dataCommitFormat: "json",
    commitRequestDataType: TEXT,
    terminationCommitContentType: TEXT,
    terminateCommitPayloadField: "terminated",
    alwaysSendTotalTime: true,
    autocommit: false,
    logLevel: 5
  });
  if (saved) {
    api.loadFromJSON({ cmi: launchState(saved) }, "");
  } else {
    refuseToStart(api);
  }
  if (is2004) {
    clearErrorBeforeGet(api);
  } else {
    flagInvalidArguments(api);
  }
  saveOnPagehide(api);
  window[is2004 ? "API_1484_11" : "API"] = api;
})();
