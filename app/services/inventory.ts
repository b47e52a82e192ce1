/** The demo's products: what the order form offers. Prices in cents. */
export const products = [
  { sku: 'BOOK-1', name: 'Events in Practice (book)', priceCents: 2400 },
  { sku: 'MUG-2', name: 'Herald mug', priceCents: 1250 },
  { sku: 'TEE-3', name: 'Broadcast T-shirt', priceCents: 1800 },
] as const

export type Sku = (typeof products)[number]['sku']

/** Stock levels, kept in the web process's memory: a stand-in for a warehouse system. */
export const inventory = new Map<string, number>([
  ['BOOK-1', 100],
  ['MUG-2', 50],
  ['TEE-3', 25],
])

export class OutOfStock extends Error {}
