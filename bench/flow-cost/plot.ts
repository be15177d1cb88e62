import { Resvg } from '@resvg/resvg-js';

/** One line of the plot: p50 and p99 latency (ms) at each offered rate (flows/s). */
export interface PlotSeries {
  label: string;
  points: { x: number; p50: number; p99: number }[];
}

const COLORS = ['#1b6ac9', '#d9480f', '#2b8a3e', '#862e9c', '#e67700'];

/**
 * Latency against offered load as an SVG chart (log-scale latency), rendered to PNG with resvg: p99 as
 * a solid line, p50 dashed, one colour per arm.
 */
export function renderLatencyPlot(series: PlotSeries[], o: { title: string }): { svg: string; png: Buffer } {
  const W = 900;
  const H = 520;
  const m = { left: 80, right: 250, top: 50, bottom: 60 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series
    .flatMap((s) => s.points.flatMap((p) => [p.p50, p.p99]))
    .filter((v) => v > 0 && Number.isFinite(v));
  const xMax = Math.max(1, ...xs) * 1.05;
  const yMin = Math.pow(10, Math.floor(Math.log10(Math.max(1, Math.min(...ys, 100)))));
  const yMax = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys, 1000))));
  const X = (x: number) => m.left + (x / xMax) * pw;
  const Y = (y: number) =>
    m.top +
    ph -
    ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.right / 2 + m.left / 2}" y="28" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
  );
  // Axes, grid, ticks.
  for (let d = Math.log10(yMin); d <= Math.log10(yMax); d++) {
    const v = Math.pow(10, d);
    out.push(
      `<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(v)}" y2="${Y(v)}" stroke="#ddd"/>`,
      `<text x="${m.left - 8}" y="${Y(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`,
    );
  }
  const step = niceStep(xMax);
  for (let x = 0; x <= xMax; x += step) {
    out.push(
      `<line x1="${X(x)}" x2="${X(x)}" y1="${m.top}" y2="${m.top + ph}" stroke="#eee"/>`,
      `<text x="${X(x)}" y="${m.top + ph + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${m.left + pw / 2}" y="${H - 15}" text-anchor="middle">offered load (flows/s, open loop)</text>`,
    `<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">end-to-end latency (log scale)</text>`,
  );
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const path = (k: 'p50' | 'p99') =>
      s.points
        .filter((p) => Number.isFinite(p[k]))
        .map((p, j) => `${j ? 'L' : 'M'}${X(p.x).toFixed(1)},${Y(p[k]).toFixed(1)}`)
        .join(' ');
    out.push(`<path d="${path('p99')}" fill="none" stroke="${c}" stroke-width="2.5"/>`);
    out.push(
      `<path d="${path('p50')}" fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    for (const p of s.points)
      if (Number.isFinite(p.p99)) out.push(`<circle cx="${X(p.x)}" cy="${Y(p.p99)}" r="3.5" fill="${c}"/>`);
    const ly = m.top + 10 + i * 40;
    out.push(
      `<line x1="${m.left + pw + 15}" x2="${m.left + pw + 45}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2.5"/>`,
      `<text x="${m.left + pw + 52}" y="${ly + 4}">${esc(wrap(s.label)[0]!)}</text>`,
      ...wrap(s.label)
        .slice(1)
        .map((t, k) => `<text x="${m.left + pw + 52}" y="${ly + 20 + k * 16}">${esc(t)}</text>`),
    );
  });
  const ly = m.top + 10 + series.length * 40 + 10;
  out.push(`<text x="${m.left + pw + 15}" y="${ly}" fill="#555">solid: p99, dashed: p50</text>`, '</svg>');
  const svg = out.join('\n');
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } })
    .render()
    .asPng();
  return { svg, png };
}

function niceStep(max: number): number {
  for (const s of [1, 2, 5, 10, 20, 50, 100]) if (max / s <= 10) return s;
  return 200;
}

function wrap(label: string): string[] {
  const words = label.split(' ');
  const lines: string[] = [''];
  for (const w of words) {
    const cur = lines[lines.length - 1]!;
    if (cur && (cur + ' ' + w).length > 26) lines.push(w);
    else lines[lines.length - 1] = cur ? `${cur} ${w}` : w;
  }
  return lines;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
