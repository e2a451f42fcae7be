// client.js: the page's side of the worker protocol. request(type, args) returns a promise
// settled by the reply with the same id; progress events go to listeners by name. A worker that
// fails to load or throws is reported through the 'fatal' / 'error' events (the page shows a
// banner) and restart() replaces it with a fresh one.
// A worker that dies silently (terminated, killed by the browser for memory, hung in a loop) sends
// no error at all: a heartbeat finds it. Every `heartbeatMs` the page sends { ping } (the worker
// answers between training slices, ~40-250 ms apart, and before its core has loaded); a worker that
// sends nothing at all for `deadAfterMs` after a ping is declared dead: pending requests are
// rejected and 'dead' is emitted (the page shows the banner with Restart).

export class WorkerClient {
  constructor(url, { heartbeatMs = 1000, deadAfterMs = 8000 } = {}) {
    this.url = url;
    this.heartbeatMs = heartbeatMs;
    this.deadAfterMs = deadAfterMs;
    this.beat = null; // the heartbeat timer
    this.lastMessage = 0; // performance.now() of the worker's last message
    this.pingSent = 0; // when the unanswered ping went out (0: none outstanding)
    this.lastTick = 0;
    this.dead = false;
    this.worker = null;
    this.nextId = 1;
    this.pending = new Map(); // id -> { resolve, reject, type }
    this.listeners = new Map(); // event name -> Set<fn>
    this.info = null; // the 'ready' payload: build, simd, caps, …
    this.generation = 0; // bumped on every (re)start so stale replies are ignored
  }

  start() {
    const gen = ++this.generation;
    const w = new Worker(this.url, { type: 'module' });
    this.worker = w;
    this.info = null;
    this.dead = false;
    this.lastMessage = performance.now();
    this.pingSent = 0;
    this._heartbeat();
    w.onmessage = (e) => {
      if (gen !== this.generation) return;
      this.lastMessage = performance.now();
      this.pingSent = 0;
      if (e.data?.pong === undefined) this._receive(e.data);
    };
    w.onerror = (e) => {
      // A module that fails to parse or an uncaught exception inside the worker.
      e.preventDefault?.();
      if (gen !== this.generation) return;
      const message = e.message || 'the worker failed to start (module load error)';
      if (!this.info) clearInterval(this.beat); // a worker that never started is not 'dead': 'fatal' says why
      this._emit(this.info ? 'error' : 'fatal', { error: { name: 'Error', message } });
      if (!this.info) this._rejectAll(new Error(message));
    };
    w.onmessageerror = () => this._emit('error', { error: { name: 'DataCloneError', message: 'a worker message could not be decoded' } });
  }

  /** Ping the worker every heartbeatMs; declare it dead when a ping goes unanswered for deadAfterMs. */
  _heartbeat() {
    clearInterval(this.beat);
    this.lastTick = performance.now();
    this.beat = setInterval(() => {
      const now = performance.now();
      // A tab in the background (or a frozen one) runs timers late: start over instead of
      // blaming the worker for the page's own sleep.
      const late = now - this.lastTick > 3 * this.heartbeatMs;
      this.lastTick = now;
      if (late) {
        this.pingSent = 0;
      } else if (this.pingSent && now - this.pingSent > this.deadAfterMs) {
        this._die(now - this.lastMessage);
        return;
      }
      if (!this.pingSent) {
        this.pingSent = now;
        this.worker.postMessage({ ping: now });
      }
    }, this.heartbeatMs);
  }

  _die(silentMs) {
    clearInterval(this.beat);
    this.dead = true;
    this.generation++; // whatever it might still send is ignored
    this.worker.terminate();
    const err = new Error(`the compute worker stopped responding (no message for ${(silentMs / 1000).toFixed(1)} s)`);
    this._rejectAll(err);
    this._emit('dead', { error: { name: 'Error', message: err.message }, silentMs });
  }

  restart() {
    clearInterval(this.beat);
    this.worker?.terminate();
    this._rejectAll(new Error('the worker was restarted'));
    this._emit('restart', {});
    this.start();
  }

  /** Send a request; resolves with its result, rejects with an Error carrying the worker's message. */
  request(type, args = {}, transfer = []) {
    const id = this.nextId++;
    if (this.dead) return Promise.reject(new Error('the compute worker stopped responding: restart it'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, type });
      this.worker.postMessage({ id, type, ...args }, transfer);
    });
  }

  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => this.listeners.get(event).delete(fn);
  }

  _emit(event, data) {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        fn(data);
      } catch (e) {
        if (event !== 'error') this._emit('error', { error: { name: e.name, message: `${event} handler: ${e.message}` } });
      }
    }
  }

  _receive(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else {
        const err = new Error(msg.error?.message ?? 'worker error');
        err.name = msg.error?.name ?? 'Error';
        err.requestType = p.type;
        p.reject(err);
      }
      return;
    }
    if (msg.event === 'ready') this.info = msg;
    this._emit(msg.event, msg);
  }

  _rejectAll(err) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
