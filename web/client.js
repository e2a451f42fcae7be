// client.js: the page's side of the worker protocol. request(type, args) returns a promise
// settled by the reply with the same id; progress events go to listeners by name. A worker that
// fails to load or throws is reported through the 'fatal' / 'error' events (the page shows a
// banner) and restart() replaces it with a fresh one.

export class WorkerClient {
  constructor(url) {
    this.url = url;
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
    w.onmessage = (e) => gen === this.generation && this._receive(e.data);
    w.onerror = (e) => {
      // A module that fails to parse or an uncaught exception inside the worker.
      e.preventDefault?.();
      if (gen !== this.generation) return;
      const message = e.message || 'the worker failed to start (module load error)';
      this._emit(this.info ? 'error' : 'fatal', { error: { name: 'Error', message } });
      if (!this.info) this._rejectAll(new Error(message));
    };
    w.onmessageerror = () => this._emit('error', { error: { name: 'DataCloneError', message: 'a worker message could not be decoded' } });
  }

  restart() {
    this.worker?.terminate();
    this._rejectAll(new Error('the worker was restarted'));
    this._emit('restart', {});
    this.start();
  }

  /** Send a request; resolves with its result, rejects with an Error carrying the worker's message. */
  request(type, args = {}, transfer = []) {
    const id = this.nextId++;
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
