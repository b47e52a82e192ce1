import { relative, sep } from 'node:path'
import type { CommandHandler } from '../command.ts'
import { oneLine } from '../quote-input.ts'

/**
 * `artisan channel:list [--json]`: the channel patterns app/channels.ts (or a provider) registered,
 * in the order they are tried, each with its parameters and the file that authorizes it.
 * Patterns name a channel without its `private-`/`presence-` prefix: one callback authorizes both.
 */
const channelList: CommandHandler = ({ app, options, output }) => {
  if (!app) throw new Error('channel:list needs the booted application')
  const root = app.path()
  const channels = app
    .make('broadcast.channels')
    .channels()
    .map((channel) => ({ ...channel, source: channel.source === null ? null : relative(root, channel.source).split(sep).join('/') }))
  if (options.json) {
    output.json({ channels })
    return 0
  }
  if (channels.length === 0) {
    output.line('No channels are registered: authorize private and presence channels in app/channels.ts.')
    return 0
  }
  output.table(
    ['Channel', 'Parameters', 'Authorized in'],
    channels.map((channel) => [
      oneLine(channel.pattern),
      channel.parameters.length === 0 ? '-' : channel.parameters.map(oneLine).join(', '),
      channel.source ?? '(unknown)',
    ]),
  )
  output.line(output.paint('Public channels need no entry; each pattern authorizes its private- and presence- channels.', 'dim'))
  return 0
}

export default channelList
