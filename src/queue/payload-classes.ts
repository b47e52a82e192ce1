import { UserError } from '../foundation/errors.ts'

/**
 * The classes job payloads are rebuilt as beyond the application's events: job classes (the
 * jobs layer registers them) and classes whose instances travel inside a job's fields, by
 * name both ways (a job class's payload name may be its `static jobName`, not its class name).
 */
export class PayloadClasses {
  private readonly byName = new Map<string, Function>()
  private readonly names = new WeakMap<Function, string>()

  /** Makes `ctor` known under `name`; a name taken by another class is an error. */
  register(name: string, ctor: Function): void {
    const known = this.byName.get(name)
    if (known !== undefined && known !== ctor) throw new UserError(`Two classes are registered for job payloads as "${name}": rename one, or give it a static jobName.`)
    this.byName.set(name, ctor)
    this.names.set(ctor, name)
  }

  classFor(name: string): Function | undefined {
    return this.byName.get(name)
  }

  nameOf(ctor: Function): string | undefined {
    return this.names.get(ctor)
  }
}
