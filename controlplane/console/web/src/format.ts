// Formatting of numbers and times for tables.

const numberFmt = new Intl.NumberFormat('en-US');

export const fmtNumber = (n: number | null | undefined) => (n === null || n === undefined ? '—' : numberFmt.format(n));

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
    .replace(/Z$/, ' UTC');
}

const units = ['B', 'KB', 'MB', 'GB', 'TB'];

export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
