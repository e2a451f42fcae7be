// png.js: a tiny PNG writer for test artifacts and figures (Node only; zlib does the deflate).
//   import { encodePng, grayGrid, crc32 } from '../scripts/png.js';
//   writeFileSync('x.png', encodePng(width, height, rgba))           // rgba: Uint8Array, 4 per pixel
//   writeFileSync('g.png', grayGrid(tiles, { columns, scale, pad }))   // tiles: [{ data, width, height }]
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as PNG, zlib and the glimpse weights format use it) of a byte array. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** PNG bytes of an 8-bit RGBA image (rgba: width*height*4 bytes, row-major). */
export function encodePng(width, height, rgba) {
  if (rgba.length !== width * height * 4) throw new RangeError(`rgba must have ${width * height * 4} bytes, got ${rgba.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc(height * (1 + width * 4)); // filter byte 0 (none) per row
  for (let y = 0; y < height; y++) Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(raw, y * (1 + width * 4) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * PNG of grey tiles (values in [0, 1], white ink on black) laid out in rows of `columns`,
 * each tile magnified `scale` times and framed by `pad` pixels of `background` (RGB).
 * A tile may be null (left empty). Tiles may differ in size: columns fit the widest tile, each
 * row its tallest.
 */
export function grayGrid(tiles, { columns = 10, scale = 2, pad = 2, background = [40, 60, 110] } = {}) {
  const cw = Math.max(...tiles.filter(Boolean).map((t) => t.width)) * scale + pad;
  const rows = Math.ceil(tiles.length / columns);
  const rowTop = [pad]; // each row as tall as its tallest tile
  for (let r = 0; r < rows; r++) {
    const h = Math.max(0, ...tiles.slice(r * columns, (r + 1) * columns).filter(Boolean).map((t) => t.height));
    rowTop.push(rowTop[r] + h * scale + pad);
  }
  const W = columns * cw + pad, H = rowTop[rows];
  const img = new Uint8Array(W * H * 4);
  for (let p = 0; p < W * H; p++) img.set([background[0], background[1], background[2], 255], 4 * p);
  tiles.forEach((t, k) => {
    if (!t) return;
    const ox = pad + (k % columns) * cw, oy = rowTop[Math.floor(k / columns)];
    for (let y = 0; y < t.height * scale; y++) {
      for (let x = 0; x < t.width * scale; x++) {
        const v = t.data[Math.floor(y / scale) * t.width + Math.floor(x / scale)];
        const g = Math.max(0, Math.min(255, Math.round(v * 255)));
        img.set([g, g, g, 255], 4 * ((oy + y) * W + ox + x));
      }
    }
  });
  return encodePng(W, H, img);
}
