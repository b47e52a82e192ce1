import type { CommandDefinition } from './command.ts'

/**
 * Every artisan command's metadata. The kernel builds the commander program from this list
 * and imports a command's module only when that command runs, so `artisan list` and the
 * generators never load the heavy engines.
 */
export const commands: readonly CommandDefinition[] = [
  {
    name: 'list',
    description: 'List the commands',
    boots: false,
    load: () => import('./commands/list.ts'),
  },
  {
    name: 'about',
    description: 'Show the application, its environment, and its events and listeners',
    boots: true,
    load: () => import('./commands/about.ts'),
  },
  {
    name: 'event:cache',
    description: "Discover the application's events and listeners once and cache the result for boot",
    boots: false,
    load: () => import('./commands/event-cache.ts'),
  },
  {
    name: 'event:clear',
    description: 'Remove the event cache, so boot scans app/ again',
    boots: false,
    load: () => import('./commands/event-clear.ts'),
  },
  {
    name: 'event:list',
    description: "List the application's events and listeners",
    options: [
      { flags: '--event <name>', description: 'Only events whose name contains this' },
      { flags: '--json', description: 'Output JSON' },
    ],
    boots: true,
    load: () => import('./commands/event-list.ts'),
  },
]
