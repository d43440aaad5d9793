/* Kalan media player: caption controls and learning records for <video> and <audio>.
 *
 * Markup (strings come translated from the page; data-xapi from the player view):
 *   <figure class="media-player" data-media-player
 *           data-label-captions="Captions" data-label-on="on" data-label-off="off"
 *           data-label-language="Caption language"
 *           data-xapi="{…}" data-resume="12.5">                 (see records.js)
 *     <video controls preload="metadata" src="…">            (or <audio controls>)
 *       <track kind="captions" src="….vtt" srclang="fr" label="Français" default>
 *       <track kind="captions" src="….vtt" srclang="bm" label="Bamanankan">
 *     </video>
 *     <figcaption>…</figcaption>
 *   </figure>
 *   <script src="{% static 'content/records.js' %}" defer></script>
 *   <script src="{% static 'content/media.js' %}" defer></script>
 *
 * With caption tracks, adds after the media element a toolbar: a "Captions"
 * toggle button (aria-pressed; shows "on"/"off") and, with more than one
 * track, a language select. The choice is remembered for every player
 * (localStorage "kalan.captions": {"on": true, "language": "fr"}). The browser
 * shows a video's captions; an audio's current caption is written below it.
 *
 * Records what the learner watches with the xAPI Video Profile: initialized
 * on the first play, played, paused, seeked (once a drag along the timeline
 * settles), completed once the parts watched on this page cover 90 % of the
 * length, terminated when the page is left. Each statement carries the length
 * and the page's session id; paused and terminated carry the segments played
 * since the previous statement ("0[.]12.5[,]30[.]41"), completed all of this
 * page's. data-resume (seconds) is where the media starts.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "kalan.captions";

  function loadChoice() {
    try {
      return JSON.parse(window.localStorage.getItem(STORAGE_KEY)) || null;
    } catch (error) {
      return null; // storage disabled or unreadable: the page's defaults apply
    }
  }

  function saveChoice(choice) {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(choice));
    } catch (error) {
      // storage full or disabled: the choice lasts for this page only
    }
  }

  function captionTracks(media) {
    var tracks = [];
    for (var i = 0; i < media.textTracks.length; i++) {
      var kind = media.textTracks[i].kind;
      if (kind === "captions" || kind === "subtitles") {
        tracks.push(media.textTracks[i]);
      }
    }
    return tracks;
  }

  function defaultIndex(media, tracks, language) {
    var elements = media.querySelectorAll("track");
    var fallback = 0;
    for (var i = 0; i < tracks.length; i++) {
      if (language && tracks[i].language === language) {
        return i;
      }
      for (var j = 0; j < elements.length; j++) {
        if (elements[j].track === tracks[i] && elements[j].default) {
          fallback = i;
        }
      }
    }
    return fallback;
  }

  function hasDefaultTrack(media) {
    return media.querySelector("track[default]") !== null;
  }

  function showCue(track, output) {
    var lines = [];
    var cues = track.activeCues || [];
    for (var i = 0; i < cues.length; i++) {
      var html = cues[i].getCueAsHTML ? cues[i].getCueAsHTML() : null;
      lines.push(html ? html.textContent : cues[i].text);
    }
    output.textContent = lines.join("\n");
  }

  function setUp(figure) {
    var media = figure.querySelector("video, audio");
    if (!media || !media.textTracks) {
      return;
    }
    var tracks = captionTracks(media);
    if (tracks.length === 0) {
      return;
    }
    var isAudio = media.tagName === "AUDIO";
    var label = function (name, fallback) {
      return figure.getAttribute("data-label-" + name) || fallback;
    };
    var saved = loadChoice();
    var state = {
      on: saved ? saved.on === true : hasDefaultTrack(media),
      index: defaultIndex(media, tracks, saved && saved.language)
    };

    var bar = document.createElement("div");
    bar.className = "media-captions";
    var button = document.createElement("button");
    button.type = "button";
    var name = document.createElement("span");
    name.textContent = label("captions", "Captions");
    var status = document.createElement("span");
    status.setAttribute("aria-hidden", "true"); // the state is aria-pressed
    button.appendChild(name);
    button.appendChild(status);
    bar.appendChild(button);

    var select = null;
    if (tracks.length > 1) {
      var field = document.createElement("label");
      field.className = "media-captions-language";
      field.appendChild(document.createTextNode(label("language", "Caption language") + " "));
      select = document.createElement("select");
      tracks.forEach(function (track, i) {
        var option = document.createElement("option");
        option.value = String(i);
        option.textContent = track.label || track.language || String(i + 1);
        select.appendChild(option);
      });
      field.appendChild(select);
      bar.appendChild(field);
    }

    var output = null;
    if (isAudio) {
      output = document.createElement("p");
      output.className = "media-caption-text";
      output.setAttribute("lang", tracks[state.index].language || "");
    }

    function apply() {
      tracks.forEach(function (track, i) {
        var active = state.on && i === state.index;
        // An audio element draws no captions: keep the cues loaded and write them out.
        track.mode = active ? (isAudio ? "hidden" : "showing") : "disabled";
      });
      button.setAttribute("aria-pressed", state.on ? "true" : "false");
      status.textContent = ": " + (state.on ? label("on", "on") : label("off", "off"));
      if (select) {
        select.value = String(state.index);
      }
      if (output) {
        output.hidden = !state.on;
        output.setAttribute("lang", tracks[state.index].language || "");
        showCue(tracks[state.index], output);
      }
    }

    function choose() {
      apply();
      saveChoice({ on: state.on, language: tracks[state.index].language || "" });
    }

    button.addEventListener("click", function () {
      state.on = !state.on;
      choose();
    });
    if (select) {
      select.addEventListener("change", function () {
        state.index = Number(select.value);
        state.on = true;
        choose();
      });
    }
    if (output) {
      tracks.forEach(function (track, i) {
        track.addEventListener("cuechange", function () {
          if (state.on && i === state.index) {
            showCue(track, output);
          }
        });
      });
    }

    media.parentNode.insertBefore(bar, media.nextSibling);
    if (output) {
      bar.parentNode.insertBefore(output, bar.nextSibling);
    }
    apply();
  }

  // ---------------------------------------------------------------- learning records

  var VIDEO = "https://w3id.org/xapi/video";
  var EXTENSION = VIDEO + "/extensions/";
  var PROFILE_VERBS = { played: true, paused: true, seeked: true };
  var CATEGORY = { id: VIDEO, definition: { type: "http://adlnet.gov/expapi/activities/profile" } };
  var COMPLETION = 0.9;

  function round(seconds) {
    return Math.round(seconds * 1000) / 1000;
  }

  /* The sorted, disjoint segments of `list` with [from, to] added. */
  function merge(list, from, to) {
    var out = [];
    for (var i = 0; i < list.length; i++) {
      if (list[i][1] < from || list[i][0] > to) {
        out.push(list[i]);
      } else {
        from = Math.min(from, list[i][0]);
        to = Math.max(to, list[i][1]);
      }
    }
    out.push([from, to]);
    return out.sort(function (a, b) {
      return a[0] - b[0];
    });
  }

  function written(segments) {
    return segments
      .map(function (segment) {
        return round(segment[0]) + "[.]" + round(segment[1]);
      })
      .join("[,]");
  }

  function record(figure) {
    var media = figure.querySelector("video, audio");
    var records = media && window.KalanRecords;
    records = records && records.start(figure, function () {
      return !media.paused;
    });
    if (!records) {
      return;
    }
    var session = "";
    var started = false;
    var completed = false;
    var watched = []; // every segment played on this page, merged
    var pending = []; // segments played since the last statement that carried them
    var from = null; // where the current stretch of playing began; null when not playing
    var last = media.currentTime; // the latest time seen outside a seek
    var seekFrom = null; // where a seek (or a drag along the timeline) began
    var seekTimer = null;

    function length() {
      var duration = media.duration;
      return isFinite(duration) && duration > 0 ? duration : records.settings.length || 0;
    }

    function covered(segments) {
      var total = 0;
      for (var i = 0; i < segments.length; i++) {
        total += segments[i][1] - segments[i][0];
      }
      return length() ? Math.min(1, total / length()) : 0;
    }

    /* Ends the current stretch of playing at `to`; it goes on from there while playing. */
    function close(to) {
      if (from !== null && to >= from) {
        pending.push([from, to]);
        watched = merge(watched, from, to);
      }
      from = media.paused ? null : to;
    }

    /* values: result extensions by their short name, and completion: true for result.completion. */
    function send(verb, values, restart) {
      var context = { contextActivities: { category: [CATEGORY] }, extensions: {} };
      context.extensions[EXTENSION + "length"] = round(length());
      context.extensions[EXTENSION + "session-id"] = session;
      if (verb === "initialized") {
        context.extensions[EXTENSION + "completion-threshold"] = COMPLETION;
      }
      var result = {};
      for (var name in values) {
        if (name === "completion") {
          result.completion = true;
        } else {
          result.extensions = result.extensions || {};
          result.extensions[EXTENSION + name] = values[name];
        }
      }
      var id = PROFILE_VERBS[verb] ? VIDEO + "/verbs/" + verb : verb;
      records.send(id, { result: result, context: context }, restart);
    }

    /* The segments since the previous statement that carried some, and the part watched. */
    function played(values) {
      if (pending.length) {
        values["played-segments"] = written(pending);
        pending = [];
      }
      values.progress = round(covered(watched));
      return values;
    }

    function check(time) {
      if (!completed && covered(watched) >= COMPLETION) {
        completed = true;
        pending = [];
        send("completed", {
          time: round(time),
          progress: round(covered(watched)),
          "played-segments": written(watched),
          completion: true
        });
      }
    }

    function seekEnded() {
      clearTimeout(seekTimer);
      if (seekFrom !== null) {
        send("seeked", { "time-from": round(seekFrom), "time-to": round(media.currentTime) });
        seekFrom = null;
      }
    }

    media.addEventListener("play", function () {
      seekEnded();
      if (!started) {
        started = true;
        session = window.KalanRecords.uuid();
        send("initialized", {}, true);
      }
      from = last = media.currentTime;
      send("played", { time: round(from) });
    });
    media.addEventListener("timeupdate", function () {
      if (media.seeking) {
        return;
      }
      last = media.currentTime;
      if (from !== null && !completed && covered(merge(watched, from, last)) >= COMPLETION) {
        close(last);
        check(last);
      }
    });
    media.addEventListener("seeking", function () {
      if (!started) {
        return;
      }
      close(last);
      from = null;
      if (seekFrom === null) {
        seekFrom = last;
      }
    });
    media.addEventListener("seeked", function () {
      last = media.currentTime;
      if (!started) {
        return;
      }
      from = media.paused ? null : last;
      clearTimeout(seekTimer);
      seekTimer = setTimeout(seekEnded, 1000);
    });
    media.addEventListener("pause", function () {
      if (!started) {
        return;
      }
      seekEnded();
      var time = media.currentTime;
      close(time);
      send("paused", played({ time: round(time) }));
      check(time);
    });
    records.leave(function () {
      if (!started) {
        return;
      }
      seekEnded();
      var time = media.currentTime;
      close(time);
      send("terminated", played({ time: round(time) }));
      started = false; // back from the browser's cache, the next play starts a new session
    });

    var resume = Number(records.resume);
    function resumeAt() {
      if (resume < length() - 1 && media.currentTime === 0) {
        media.currentTime = resume;
      }
    }
    if (resume > 0) {
      if (media.readyState >= 1) {
        resumeAt();
      } else {
        media.addEventListener("loadedmetadata", resumeAt);
      }
    }
  }

  function start() {
    var players = document.querySelectorAll("[data-media-player]");
    for (var i = 0; i < players.length; i++) {
      setUp(players[i]);
      record(players[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
