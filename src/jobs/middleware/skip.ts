type Condition<J extends object> = boolean | ((job: J) => boolean | Promise<boolean>)

/**
 * Job middleware that deletes the job without running it when a condition holds (Laravel's
 * `Skip`): a boolean, or a function of the job asked when it is about to run.
 *
 * ```ts
 * middleware() { return [Skip.when((job: SendReminder) => job.order.cancelled), Skip.unless(featureOn('reminders'))] }
 * ```
 */
export class Skip<J extends object = object> {
  private constructor(
    private readonly condition: Condition<J>,
    private readonly skipWhen: boolean,
  ) {
    if (typeof condition !== 'boolean' && typeof condition !== 'function') {
      throw new TypeError(`Skip.${skipWhen ? 'when' : 'unless'}(${String(condition)}): the condition must be a boolean or a function of the job.`)
    }
  }

  /** Skips the job when `condition` is true. */
  static when<J extends object = object>(condition: Condition<J>): Skip<J> {
    return new Skip(condition, true)
  }

  /** Skips the job unless `condition` is true. */
  static unless<J extends object = object>(condition: Condition<J>): Skip<J> {
    return new Skip(condition, false)
  }

  async handle(job: object, next: () => Promise<unknown>): Promise<unknown> {
    const holds = typeof this.condition === 'function' ? await this.condition(job as J) : this.condition
    return holds === this.skipWhen ? undefined : next()
  }
}
