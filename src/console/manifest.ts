import type { CommandDefinition } from './command.ts'

/**
 * Every artisan command's metadata. The kernel builds the commander program from this list
 * and imports a command's module only when that command runs, so `artisan list` and the
 * generators never load the heavy engines.
 */
export const commands: readonly CommandDefinition[] = [
  {
    name: 'about',
    description: 'Show the application, its environment, and its events and listeners',
    boots: true,
    load: () => import('./commands/about.ts'),
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
