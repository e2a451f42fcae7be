/** [batch, N, A, B]: batch items, an N×N grid of filters, images of B rows × A columns. */
export type DrawSize = [number, number, number, number] | number[];

/**
 * DRAW's selective attention (Gregor et al. 2015, eq. 19-29). `params` holds, per item, the five
 * raw attention outputs (g̃X, g̃Y, log σ², log δ̃, log γ). With 1-based i ∈ 1..N, a ∈ 1..A, b ∈ 1..B:
 * gX = (A+1)/2·(g̃X+1), gY = (B+1)/2·(g̃Y+1), δ = (max(A,B)−1)/max(N−1,1)·exp(log δ̃),
 * μX_i = gX + (i − N/2 − 0.5)·δ, Fx[i,a] = exp(−(a−μX_i)²/(2σ²)) / max(Σ_a′ exp(…), 1e−8) (likewise Fy).
 * log σ², log δ̃, log γ must lie in [−60, 60] and g̃X, g̃Y in [−1e6, 1e6] (RangeError otherwise).
 */
export interface DrawKernels {
  /** The filterbank: Fx batch×N×A, Fy batch×N×B, gamma batch. */
  filterbank(params: Float32Array, size: DrawSize): { Fx: Float32Array; Fy: Float32Array; gamma: Float32Array };
  /** (gX, gY, δ, σ², γ) per item in image units (1-based pixel coordinates), batch×5. */
  decode(params: Float32Array, size: DrawSize): Float32Array;
  /** γ·[Fy·x·Fxᵀ, Fy·x̂·Fxᵀ], batch×2×N×N; x and xHat are batch×B×A. */
  read(x: Float32Array, xHat: Float32Array, params: Float32Array, size: DrawSize): Float32Array;
  /** Gradients of read: dX, dXHat batch×B×A, dParams batch×5. */
  readBackward(
    dRead: Float32Array,
    x: Float32Array,
    xHat: Float32Array,
    params: Float32Array,
    size: DrawSize,
  ): { dX: Float32Array; dXHat: Float32Array; dParams: Float32Array };
  /** (1/γ)·Fyᵀ·w·Fx, batch×B×A; w is batch×N×N. */
  write(w: Float32Array, params: Float32Array, size: DrawSize): Float32Array;
  /** Gradients of write: dW batch×N×N, dParams batch×5. */
  writeBackward(
    dCanvas: Float32Array,
    w: Float32Array,
    params: Float32Array,
    size: DrawSize,
  ): { dW: Float32Array; dParams: Float32Array };
}

/** Build the namespace over one wasm core (used by load()). */
export function makeDraw(core: unknown, internal?: { reference?: boolean }): DrawKernels;
