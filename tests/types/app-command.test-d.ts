import { expectTypeOf, test } from 'vitest'
import { Command, type ArgumentsOf, type OptionsOf } from 'herald'

const signature = 'digest:send {user : The user id} {period?} {days=7} {emails*} {--dry-run : Only print} {--limit=10} {--queue=} {--tag=*}'

test('a signature types its arguments and options, once', () => {
  expectTypeOf<ArgumentsOf<typeof signature>>().toEqualTypeOf<{ user: string; period: string | undefined; days: string; emails: string[] }>()
  expectTypeOf<OptionsOf<typeof signature>>().toEqualTypeOf<{ 'dry-run': boolean; limit: string; queue: string | undefined; tag: string[] }>()
})

test('this.argument() and this.option() take only declared names', () => {
  class SendDigest extends Command.define('digest:send {user} {--dry-run} {--limit=10}') {
    handle() {
      expectTypeOf(this.argument('user')).toEqualTypeOf<string>()
      expectTypeOf(this.option('dry-run')).toEqualTypeOf<boolean>()
      expectTypeOf(this.option('limit')).toEqualTypeOf<string>()
      // @ts-expect-error: no such argument
      this.argument('usr')
      // @ts-expect-error: no such option
      this.option('dryrun')
    }
  }
  expectTypeOf(SendDigest.signature).toEqualTypeOf<string>()
})
