/* Kalan media player: caption controls for <video> and <audio> with caption tracks.
 *
 * Markup (strings come translated from the page):
 *   <figure class="media-player" data-media-player
 *           data-label-captions="Captions" data-label-on="on" data-label-off="off"
 *           data-label-language="Caption language">
 *     <video controls preload="metadata" src="…">            (or <audio controls>)
 *       <track kind="captions" src="….vtt" srclang="fr" label="Français" default>
 *       <track kind="captions" src="….vtt" srclang="bm" label="Bamanankan">
 *     </video>
 *     <figcaption>…</figcaption>
 *   </figure>
 *   <script src="{% static 'content/media.js' %}" defer></script>
 *
 * Adds after the media element a toolbar: a "Captions" toggle button
 * (aria-pressed; shows "on"/"off") and, with more than one track, a language
 * select. The choice is remembered for every player (localStorage
 * "kalan.captions": {"on": true, "language": "fr"}). The browser shows a
 * video's captions; an audio's current caption is written below it.
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

  function start() {
    var players = document.querySelectorAll("[data-media-player]");
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
