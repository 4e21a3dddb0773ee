/** Printing rows for people (aligned columns) or, with --json, for scripts. */
export function printRows(rows: Record<string, unknown>[], asJson: boolean): void {
  if (asJson) return console.log(JSON.stringify(rows, null, 2));
  if (rows.length === 0) return console.log('(none)');
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(columns.map((column) => column.toUpperCase())));
  for (const row of rows) console.log(line(columns.map((column) => String(row[column] ?? ''))));
}
