// Listening test client. The server keeps all state (order, progress, ratings);
// this page plays audio and posts answers. Registering hands out the rater's secret
// token, kept in localStorage and sent with every rater request (Authorization: Bearer).
//
// No factor value is ever shown: the slider has a neutral less-more scale and starts at the
// step the server chose for this rater and track (state.next.start), so neither a number nor
// a fixed starting point anchors the choice.
//
// Gapless switching: the 17 variants of a track are decoded into AudioBuffers and
// started together at the same AudioContext time, each through its own GainNode.
// Only the chosen variant's gain is 1; moving the slider ramps the old gain down and
// the new one up over FADE seconds. The variants are the same music (sample-aligned),
// so a linear crossfade keeps the level steady and nothing stops or restarts.
"use strict";

(() => {
  const FADE = 0.03;          // crossfade, seconds
  const START_DELAY = 0.05;   // schedule ahead so all sources start on the same sample
  const RATER_KEY = "sk_reseq.listen.rater";     // the last rater of this browser
  const TOKENS_KEY = "sk_reseq.listen.tokens";   // {rater: token}, for every rater who started here

  const $ = (id) => document.getElementById(id);
  const screens = ["login", "noise", "track", "break", "done"];

  const app = {
    ctx: null, master: null, panel: null, state: null, noiseBuffer: null,
    player: null, phase: "login", noisesPlayed: 0, token: null,
  };

  // ---------------------------------------------------------------- helpers
  function setPhase(phase) {
    app.phase = phase;
    document.body.dataset.phase = phase;
    for (const s of screens) $("screen-" + s).hidden = s !== phase;
  }

  function showError(message) {
    const el = $("error");
    el.textContent = message || "";
    el.hidden = !message;
  }

  async function api(method, url, body, token) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (token) options.headers["Authorization"] = `Bearer ${token}`;
    const response = await fetch(url, options);
    let data = null;
    try { data = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      throw new Error((data && data.error) || `${method} ${url} failed (${response.status})`);
    }
    return data;
  }

  // Each rater's own token, so that raters taking turns on a shared computer can all resume.
  function loadTokens() {
    try {
      const tokens = JSON.parse(localStorage.getItem(TOKENS_KEY));
      return tokens && typeof tokens === "object" ? tokens : {};
    } catch (e) {
      return {};
    }
  }

  function tokenOf(rater) {
    const tokens = loadTokens();
    return Object.hasOwn(tokens, rater) ? tokens[rater] : undefined;  // not "constructor" & co.
  }

  function saveToken(rater, token) {
    const tokens = loadTokens();
    tokens[rater] = token;
    localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  }

  // A resume link (`sk-reseq listen token`) ends in #rater=...&token=...: keep the token,
  // then drop it from the address bar and the history.
  function readResumeLink() {
    const params = new URLSearchParams(location.hash.slice(1));
    const rater = params.get("rater"), token = params.get("token");
    if (!rater || !token) return;
    saveToken(rater, token);
    localStorage.setItem(RATER_KEY, rater);
    history.replaceState(null, "", location.pathname + location.search);
  }

  function formatTime(s) {
    s = Math.max(0, Math.floor(s));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  async function decode(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not load ${url} (${response.status})`);
    return app.ctx.decodeAudioData(await response.arrayBuffer());
  }

  // ---------------------------------------------------------------- player
  function rampValue(ramp, t) {
    if (t >= ramp.t1) return ramp.to;
    if (t <= ramp.t0) return ramp.from;
    return ramp.from + ((ramp.to - ramp.from) * (t - ramp.t0)) / (ramp.t1 - ramp.t0);
  }

  class VariantPlayer {
    constructor(ctx, destination, buffers, active = 0) {
      this.ctx = ctx;
      this.buffers = buffers;
      this.duration = Math.min(...buffers.map((b) => b.duration));
      this.destination = destination;
      this.output = ctx.createGain();
      this.output.connect(destination);
      this.active = active;   // the variant heard first
      this.sources = [];
      this.gains = [];
      this.ramps = [];      // per variant {from, to, t0, t1}: the gain's last ramp
      this.starts = 0;      // how many times the sources were (re)started
      this.ended = 0;       // sources that stopped by themselves (must stay 0: they loop)
    }

    start(offset = 0) {
      const t0 = this.ctx.currentTime + START_DELAY;
      this.sources = this.buffers.map((buffer, i) => {
        const source = this.ctx.createBufferSource();
        source.buffer = buffer;
        source.loop = true;
        source.loopEnd = this.duration;
        const gain = this.ctx.createGain();
        const level = i === this.active ? 1 : 0;
        gain.gain.setValueAtTime(level, 0);
        this.ramps[i] = { from: level, to: level, t0: 0, t1: 0 };
        source.connect(gain).connect(this.output);
        source.onended = () => { if (source === this.sources[i]) this.ended += 1; };
        source.start(t0, offset);
        this.gains[i] = gain;
        return source;
      });
      this.startTime = t0 - offset;
      this.starts += 1;
      this.output.gain.cancelScheduledValues(t0);
      this.output.gain.setValueAtTime(0, t0);
      this.output.gain.linearRampToValueAtTime(1, t0 + FADE);
    }

    select(index) {
      if (index === this.active) return;
      const t = this.ctx.currentTime;
      this.ramps.forEach((ramp, i) => {
        const target = i === index ? 1 : 0;
        // A ramp runs from the previous automation event, so pin the current value at
        // t first (computed from the last ramp: AudioParam.value may lag a quantum).
        const from = rampValue(ramp, t);
        const g = this.gains[i].gain;
        g.cancelScheduledValues(t);
        g.setValueAtTime(from, t);
        g.linearRampToValueAtTime(target, t + FADE);
        this.ramps[i] = { from, to: target, t0: t, t1: t + FADE };
      });
      this.active = index;
    }

    position() {
      return ((this.ctx.currentTime - this.startTime) % this.duration + this.duration) % this.duration;
    }

    // Fade out, then stop and drop the sources; resolves when silent.
    stop() {
      const t = this.ctx.currentTime;
      const sources = this.sources;
      this.sources = [];
      this.output.gain.cancelScheduledValues(t);
      this.output.gain.setValueAtTime(this.output.gain.value, t);
      this.output.gain.linearRampToValueAtTime(0, t + FADE);
      for (const s of sources) s.stop(t + FADE + 0.01);
      return new Promise((resolve) => setTimeout(() => {
        this.output.disconnect();
        resolve();
      }, (FADE + 0.02) * 1000));
    }

    async restart() {
      await this.stop();
      this.output = this.ctx.createGain();
      this.output.connect(this.destination);
      this.start(0);
    }
  }

  // ---------------------------------------------------------------- screens
  function renderProgress(state) {
    $("progress").hidden = false;
    $("who").hidden = false;
    $("who-id").textContent = state.rater;
    $("progress-overall").textContent = state.done
      ? `All ${state.n_tracks} tracks rated`
      : `${state.n_done} of ${state.n_tracks} tracks rated`;
    const inSession = state.n_done - (state.session - 1) * state.session_size;
    const sessionLength = Math.min(state.session_size, state.n_tracks - (state.session - 1) * state.session_size);
    $("progress-session").textContent =
      `Session ${state.session} of ${state.n_sessions} \u00b7 ${Math.min(inSession, sessionLength)}/${sessionLength}`;
    $("progress-bar").setAttribute("aria-valuemax", state.n_tracks);
    $("progress-bar").setAttribute("aria-valuenow", state.n_done);
    $("progress-fill").style.width = `${(100 * state.n_done) / state.n_tracks}%`;
    document.body.dataset.done = String(state.n_done);
  }

  function show(state, afterRating) {
    app.state = state;
    renderProgress(state);
    if (state.done) {
      $("done-text").textContent = `You have rated all ${state.n_tracks} tracks. You can close this page.`;
      setPhase("done");
    } else if (state.at_break) {
      const finished = state.session - 1;
      $("break-text").textContent = afterRating
        ? `Session ${finished} of ${state.n_sessions} is complete.`
        : `Welcome back. Session ${state.session} of ${state.n_sessions} is next.`;
      setPhase("break");
    } else {
      runTrack(state.next);
    }
  }

  function playNoise() {
    const source = app.ctx.createBufferSource();
    source.buffer = app.noiseBuffer;
    source.connect(app.master);
    const t0 = app.ctx.currentTime + START_DELAY;
    const fill = $("noise-fill");
    const timer = setInterval(() => {
      const p = Math.min(1, Math.max(0, (app.ctx.currentTime - t0) / app.noiseBuffer.duration));
      fill.style.width = `${100 * p}%`;
    }, 100);
    return new Promise((resolve) => {
      source.onended = () => {
        clearInterval(timer);
        fill.style.width = "100%";
        app.noisesPlayed += 1;
        resolve();
      };
      source.start(t0);
    });
  }

  async function runTrack(next) {
    setPhase("noise");
    $("loading-text").textContent = "Loading the next track\u2026";
    $("noise-fill").style.width = "0%";
    document.body.dataset.track = next.track;
    let loaded = false;
    const loading = Promise.all(next.variants.map((v) => decode(v.url)));
    loading.then(() => { loaded = true; $("loading-text").textContent = "The next track is ready."; }, () => {});
    try {
      await playNoise();
      if (!loaded) $("loading-text").textContent = "Still loading the track\u2026";
      const buffers = await loading;
      startTrack(next, buffers);
    } catch (err) {
      showError(`Could not load track ${next.track}: ${err.message}. Reload the page to try again.`);
    }
  }

  function startTrack(next, buffers) {
    $("track-title").textContent = `Track ${next.position} of ${app.state.n_tracks}`;
    const slider = $("slider");
    const start = Math.min(Math.max(0, next.start | 0), buffers.length - 1);
    slider.max = String(buffers.length - 1);
    slider.value = String(start);
    document.body.dataset.start = String(start);
    app.player = new VariantPlayer(app.ctx, app.master, buffers, start);
    app.player.start(0);
    updateVersion();
    setPlaying(true);
    setPhase("track");
    setButtons(true);
    slider.focus();
  }

  // Says nothing of the factor: where the slider is, on the less-more scale, is all a rater sees.
  function updateVersion() {
    const i = Number($("slider").value);
    const n = app.state.next.variants.length;
    $("slider").setAttribute("aria-valuetext", `position ${i + 1} of ${n}, less to more attenuation`);
    document.body.dataset.variant = String(i);
  }

  // Pause stops the AudioContext's clock, so every variant keeps its place; short
  // fades on the master gain keep pause and play free of clicks.
  async function pausePlayback() {
    const g = app.master.gain, t = app.ctx.currentTime;
    g.cancelScheduledValues(t);
    g.setValueAtTime(1, t);
    g.linearRampToValueAtTime(0, t + FADE);
    await new Promise((resolve) => setTimeout(resolve, (FADE + 0.02) * 1000));
    await app.ctx.suspend();
    setPlaying(false);
  }

  async function resumePlayback() {
    if (app.ctx.state === "running") return;
    await app.ctx.resume();
    const g = app.master.gain, t = app.ctx.currentTime;
    g.cancelScheduledValues(t);
    g.setValueAtTime(0, t);
    g.linearRampToValueAtTime(1, t + FADE);
    setPlaying(true);
  }

  function setPlaying(playing) {
    document.body.dataset.playing = String(playing);
    $("play").textContent = playing ? "Pause" : "Play";
    $("play").setAttribute("aria-pressed", String(playing));
  }

  function setButtons(enabled) {
    for (const id of ["choose", "decline", "play", "restart"]) $(id).disabled = !enabled;
  }

  async function answer(rating) {
    setButtons(false);
    showError("");
    try {
      const result = await api("POST", "/api/ratings",
        { rater: app.state.rater, track: app.state.next.track, rating }, app.token);
      await resumePlayback();
      await app.player.stop();
      app.player = null;   // drop the decoded buffers
      show(result.state, true);
    } catch (err) {
      showError(`Your answer was not saved: ${err.message}`);
      setButtons(true);
    }
  }

  // ---------------------------------------------------------------- events
  async function login(event) {
    event.preventDefault();
    showError("");
    const rater = $("rater-id").value.trim();
    $("start").disabled = true;
    try {
      // Created here, inside the click: browsers only let a user gesture start audio.
      if (!app.ctx) {
        app.ctx = new AudioContext();
        app.master = app.ctx.createGain();
        app.master.connect(app.ctx.destination);
      }
      await app.ctx.resume();
      if (!app.panel) app.panel = await api("GET", "/api/panel");
      // A new rater gets a token; a registered one resumes with the token kept here.
      const token = tokenOf(rater);
      const result = await api("POST", "/api/raters", { rater }, token);
      const state = result.state;
      app.token = result.token || token;
      if (result.token) saveToken(state.rater, result.token);
      localStorage.setItem(RATER_KEY, state.rater);
      if (!app.noiseBuffer) app.noiseBuffer = await decode(app.panel.noise.url);
      show(state, false);
    } catch (err) {
      showError(err.message);
    } finally {
      $("start").disabled = false;
    }
  }

  function init() {
    const ticks = $("ticks");
    for (let i = 0; i <= 16; i++) ticks.appendChild(new Option("", String(i)));
    readResumeLink();
    const saved = localStorage.getItem(RATER_KEY);
    if (saved) {
      $("rater-id").value = saved;
      $("start").textContent = "Resume";
    }
    $("login-form").addEventListener("submit", login);
    $("rater-id").addEventListener("input", () => { $("start").textContent = "Start"; });
    $("slider").addEventListener("input", () => {
      if (!app.player) return;
      app.player.select(Number($("slider").value));
      updateVersion();
    });
    $("play").addEventListener("click", async () => {
      if (app.ctx.state === "running") await pausePlayback();
      else await resumePlayback();
    });
    $("restart").addEventListener("click", async () => {
      await resumePlayback();
      if (app.player) await app.player.restart();
    });
    $("choose").addEventListener("click", () => answer(app.state.next.variants[Number($("slider").value)].factor));
    $("decline").addEventListener("click", () => answer(null));
    $("continue").addEventListener("click", () => { if (app.phase === "break") runTrack(app.state.next); });
    setInterval(() => {
      if (app.phase !== "track" || !app.player) return;
      const p = app.player.position();
      $("track-time").textContent = `${formatTime(p)} / ${formatTime(app.player.duration)}`;
      $("track-fill").style.width = `${(100 * p) / app.player.duration}%`;
    }, 200);
    document.addEventListener("keydown", (event) => {
      if (app.phase !== "track") return;
      const slider = $("slider");
      if (event.key === " " && event.target.tagName !== "BUTTON") {
        event.preventDefault();
        $("play").click();
      } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && event.target !== slider) {
        // Arrows switch versions wherever the focus is (the slider handles its own).
        event.preventDefault();
        slider.value = String(Number(slider.value) + (event.key === "ArrowRight" ? 1 : -1));
        slider.dispatchEvent(new Event("input"));
      }
    });
    api("GET", "/api/panel").then((panel) => {
      app.panel = panel;
      const sessions = Math.ceil(panel.n_tracks / panel.session_size);
      $("panel-size").textContent = sessions > 1
        ? `There are ${panel.n_tracks} tracks, in ${sessions} sessions of up to ${panel.session_size} with a break between them.`
        : `There are ${panel.n_tracks} tracks.`;
    }).catch((err) => showError(err.message));
    setPhase("login");
  }

  // Read-only view for tests and debugging.
  window.listenTest = {
    VariantPlayer,
    debug() {
      const p = app.player;
      return {
        phase: app.phase,
        noisesPlayed: app.noisesPlayed,
        track: app.state && app.state.next ? app.state.next.track : null,
        contextTime: app.ctx ? app.ctx.currentTime : null,
        contextState: app.ctx ? app.ctx.state : null,
        variant: p ? p.active : null,
        nSources: p ? p.sources.length : 0,
        starts: p ? p.starts : 0,
        ended: p ? p.ended : 0,
        gains: p ? p.gains.map((g) => g.gain.value) : [],
      };
    },
  };

  document.addEventListener("DOMContentLoaded", init);
})();
