import type { CommandHandler } from '../command.ts'
import { printEventList } from './event-list.ts'

/** `artisan about`: the application at a glance. */
const about: CommandHandler = ({ app, output }) => {
  if (!app) throw new Error('about needs the booted application')
  const config = app.config.get('app')
  const rows: Array<[string, string]> = [
    ['Application', config.name],
    ['Environment', config.env],
    ['Base path', app.basePath],
    ['Node.js', process.version],
    ['Event discovery', app.config.get('events').discovery ? 'on' : 'off'],
  ]
  output.line(output.paint('Herald', 'bold'))
  for (const [key, value] of rows) output.line(`  ${key.padEnd(18)}${value}`)
  output.line()
  output.line(output.paint('Events and listeners', 'bold'))
  printEventList(app, output)
  return 0
}

export default about
