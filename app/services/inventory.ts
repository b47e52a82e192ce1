/** The demo's stock levels, in memory until the database arrives. */
export const inventory = new Map<string, number>([
  ['BOOK-1', 10],
  ['MUG-2', 5],
])

export class OutOfStock extends Error {}
