/**
 * Findings across scans as a server-rendered SVG bar chart (no script), with the numbers in a
 * table beside it for screen readers and anyone who wants them.
 */
import type { TrendPoint } from '../../store/dashboard.js';
import { formatTime } from './components.js';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 48 };

/** A round upper bound for the axis: 1, 2, 5 × 10^n. */
function niceMax(n: number): number {
  if (n <= 5) return 5;
  const pow = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * pow >= n) return m * pow;
  return 10 * pow;
}

export function FindingsChart({ points }: { points: TrendPoint[] }) {
  if (points.length === 0) return null;
  const max = niceMax(Math.max(...points.map((p) => p.findings)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / points.length;
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const first = points[0]!;
  const last = points.at(-1)!;
  const ticks = [0, max / 2, max];
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
        preserveAspectRatio="xMidYMid meet"
      >
        <title id="chart-title">Findings per scan</title>
        <desc id="chart-desc">
          {`${points.length} scan${points.length === 1 ? '' : 's'} from ${formatTime(first.createdAt)} to ${formatTime(last.createdAt)}; latest ${last.findings} finding${last.findings === 1 ? '' : 's'}`}
        </desc>
        {ticks.map((t) => (
          <g class="tick">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 6} y={y(t) + 4} text-anchor="end">
              {t.toLocaleString('en-US')}
            </text>
          </g>
        ))}
        {points.map((p, i) => {
          const h = (p.findings / max) * plotH;
          return (
            <rect
              class={i === points.length - 1 ? 'bar latest' : 'bar'}
              x={PAD.left + i * slot + (slot - barW) / 2}
              y={PAD.top + plotH - h}
              width={barW}
              height={Math.max(h, p.findings > 0 ? 1 : 0)}
            >
              <title>{`${formatTime(p.createdAt)}: ${p.findings} findings`}</title>
            </rect>
          );
        })}
        <text class="axis" x={PAD.left} y={HEIGHT - 8}>
          {formatTime(first.createdAt).slice(0, 10)}
        </text>
        <text class="axis" x={WIDTH - PAD.right} y={HEIGHT - 8} text-anchor="end">
          {formatTime(last.createdAt).slice(0, 10)}
        </text>
      </svg>
      <figcaption>
        <details>
          <summary>Findings per scan, as numbers</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">Scan</th>
                <th scope="col">Identities</th>
                <th scope="col">Findings</th>
              </tr>
            </thead>
            <tbody>
              {points.map((p) => (
                <tr>
                  <td>{formatTime(p.createdAt)}</td>
                  <td class="num">{p.identities.toLocaleString('en-US')}</td>
                  <td class="num">{p.findings.toLocaleString('en-US')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}
